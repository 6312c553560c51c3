//! The embedded default backend: one SQLite database file in WAL mode.
//!
//! Durability: `synchronous = FULL` in WAL mode syncs the log on every commit, so a commit that
//! returned survives a crash or power loss. Readers use their own connections (WAL lets them run
//! beside the writer) from a small pool.
//!
//! Records go to `events`; their lookup keys reach the indexed `event_keys` in bulk, a few
//! times a second (see [`IndexPolicy`]), and lookups read both (see `KEYS_SCHEMA`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, ToSql};

use crate::{
    EventFilter, EventQuery, Key, NewEvent, ReadSide, Result, StoreError, StoredEvent, WriteConn,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS state (
    account TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (account, kind, id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    event_time    INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_source  TEXT NOT NULL,
    read_only     INTEGER NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    management    INTEGER NOT NULL,
    resources     TEXT NOT NULL,
    record        TEXT NOT NULL  -- the JSON, or a BLOB of it compressed (codec.rs)
);

CREATE TABLE IF NOT EXISTS event_resources (
    seq           INTEGER NOT NULL,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    event_time    INTEGER NOT NULL,
    resource_type TEXT,
    resource_name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_type ON event_resources (account_id, region, resource_type, event_time, seq);
CREATE INDEX IF NOT EXISTS resources_name ON event_resources (account_id, region, resource_name, event_time, seq);
CREATE INDEX IF NOT EXISTS resources_seq  ON event_resources (seq);
"#;

/// The lookup keys of every record up to `event_keys_mark.seq`, with the indexes LookupEvents
/// drives. Records are appended to `events` alone (an append to a rowid table touches its last
/// page or two), and the writer copies their keys here in bulk every [`IndexPolicy`] step, so
/// seven index B-trees are rewritten once per step instead of once per commit: SQLite splits
/// index pages in half, and per-commit index maintenance was two thirds of the pages each
/// commit wrote. Lookups read the indexed part and scan the short unindexed tail of `events`
/// (`seq > event_keys_mark.seq`) in one statement, so they see every committed record.
const KEYS_SCHEMA: &str = r#"
CREATE TABLE event_keys (
    seq           INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    event_time    INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_source  TEXT NOT NULL,
    read_only     INTEGER NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    management    INTEGER NOT NULL
);
CREATE TABLE event_keys_mark (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO event_keys
    SELECT seq, account_id, region, event_time, event_id, event_name, event_source, read_only,
           username, access_key_id, management
    FROM events;
INSERT INTO event_keys_mark VALUES (1, COALESCE((SELECT MAX(seq) FROM events), 0));
CREATE INDEX keys_time   ON event_keys (account_id, region, event_time, seq);
CREATE INDEX keys_name   ON event_keys (account_id, region, event_name, event_time, seq);
CREATE INDEX keys_source ON event_keys (account_id, region, event_source, event_time, seq);
CREATE INDEX keys_user   ON event_keys (account_id, region, username, event_time, seq);
CREATE INDEX keys_key    ON event_keys (account_id, region, access_key_id, event_time, seq);
CREATE INDEX keys_ro     ON event_keys (account_id, region, read_only, event_time, seq);
CREATE INDEX keys_id     ON event_keys (event_id);
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS events_name;
DROP INDEX IF EXISTS events_source;
DROP INDEX IF EXISTS events_user;
DROP INDEX IF EXISTS events_key;
DROP INDEX IF EXISTS events_ro;
DROP INDEX IF EXISTS events_id;
"#;

/// Creates `event_keys` when the database has none: a new database, or one whose `events` still
/// carries the indexes (it is moved over, in one transaction, with indexes built after the
/// copy, which is the fast order for a large log).
fn migrate_keys(conn: &Connection) -> Result<()> {
    let has: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_keys')",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    if has {
        return Ok(());
    }
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {KEYS_SCHEMA} COMMIT;"))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            db(e)
        })
}

/// When the writer copies the keys of newly appended records into `event_keys`: after `rows`
/// records, or `age` after the first record not yet copied, whichever comes first (checked at
/// each commit, and done inside that commit's transaction). It bounds the tail a lookup scans.
#[derive(Debug, Clone, Copy)]
pub struct IndexPolicy {
    pub rows: u64,
    pub age: std::time::Duration,
}

impl Default for IndexPolicy {
    fn default() -> Self {
        IndexPolicy {
            rows: 2048,
            age: std::time::Duration::from_millis(250),
        }
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

const READERS: usize = 4;

/// The most records one `prune_before` call deletes.
const PRUNE_CHUNK: i64 = 10_000;

/// Opens the database at `dir/billtrail.db`, creating it and its schema if needed.
pub fn open(dir: &Path) -> Result<(SqliteWriter, SqliteReader)> {
    open_with(dir, IndexPolicy::default())
}

/// [`open`], with its own [`IndexPolicy`] (tests use the extremes).
pub fn open_with(dir: &Path, index: IndexPolicy) -> Result<(SqliteWriter, SqliteReader)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Database(format!("{}: {e}", dir.display())))?;
    let path = dir.join("billtrail.db");
    let conn = Connection::open(&path).map_err(db)?;
    // The writer checkpoints nothing itself (`wal_autocheckpoint = 0`): the checkpointer thread
    // does, so that copying pages into the database file and its fsync never hold up a commit.
    // Its cache is small on purpose: every insert lands at the right edge of a B-tree, and
    // SQLite scans the whole page cache when a transaction ends.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = OFF;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;
         PRAGMA wal_autocheckpoint = 0;",
    )
    .map_err(db)?;
    conn.execute_batch(SCHEMA).map_err(db)?;
    migrate_keys(&conn)?;
    conn.set_prepared_statement_cache_capacity(64);
    let restart_log = Arc::new(AtomicBool::new(false));
    let checkpointer = Checkpointer::spawn(&path, restart_log.clone())?;
    let mut readers = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        let r = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(db)?;
        r.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536;")
            .map_err(db)?;
        readers.push(r);
    }
    Ok((
        SqliteWriter {
            conn,
            index,
            unindexed: 0,
            oldest_unindexed: None,
            restart_log,
            _checkpointer: checkpointer,
        },
        SqliteReader {
            pool: Mutex::new(readers),
            path,
        },
    ))
}

pub struct SqliteWriter {
    conn: Connection,
    index: IndexPolicy,
    /// Records appended (in this transaction and committed ones) since keys were last copied.
    unindexed: u64,
    /// When the oldest of those was appended.
    oldest_unindexed: Option<std::time::Instant>,
    /// Set by the checkpointer when the log should start over (see [`Checkpointer`]).
    restart_log: Arc<AtomicBool>,
    _checkpointer: Checkpointer,
}

/// How often the checkpointer copies committed WAL frames into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// WAL frames (of 4 KiB pages) past which the checkpointer makes the log start over.
const RESTART_AFTER_FRAMES: i64 = 4096;

/// A thread with its own connection that checkpoints, so that copying the WAL into the database
/// file and syncing that file never happen inside a commit.
///
/// A passive checkpoint (every [`CHECKPOINT_EVERY`]) copies what readers no longer need without
/// taking the writer's lock. But the WAL starts over from its beginning only when a write
/// transaction begins with every frame copied, which under a steady stream of commits never
/// happens by itself (the next commit always lands first): the log would grow without end. So
/// once it holds more than [`RESTART_AFTER_FRAMES`], the checkpointer asks the writer to run one
/// passive checkpoint itself, between two transactions; the little the checkpointer has not
/// copied yet is copied then, and the writer's next transaction starts the log over. It stops
/// when dropped (with the writer).
struct Checkpointer {
    _stop: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    fn spawn(path: &Path, restart: Arc<AtomicBool>) -> Result<Checkpointer> {
        let conn = Connection::open(path).map_err(db)?;
        conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;")
            .map_err(db)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("billtrail-store-checkpointer".into())
            .spawn(move || {
                use std::sync::mpsc::RecvTimeoutError;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    if restart.load(Ordering::Acquire) {
                        // The writer's turn: two checkpoints at once would make its fail.
                        continue;
                    }
                    // (busy, frames in the log, frames copied)
                    match conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                    {
                        Ok(frames) if frames > RESTART_AFTER_FRAMES => {
                            restart.store(true, Ordering::Release);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
                    }
                }
            })
            .map_err(|e| StoreError::Database(format!("spawning the checkpointer: {e}")))?;
        Ok(Checkpointer { _stop: stop })
    }
}

impl SqliteWriter {
    /// Runs a statement without results, parsed once per connection (the transaction control
    /// statements run several times per call, so their parse showed up in profiles).
    fn control(&self, sql: &str) -> Result<()> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(db)
    }
}

impl SqliteWriter {
    /// Copies the keys of every record past the mark into `event_keys` and moves the mark, in
    /// the open transaction.
    fn copy_keys(&self) -> Result<()> {
        self.control(
            "INSERT INTO event_keys
                SELECT seq, account_id, region, event_time, event_id, event_name, event_source,
                       read_only, username, access_key_id, management
                FROM events WHERE seq > (SELECT seq FROM event_keys_mark) ORDER BY seq",
        )?;
        self.control(
            "UPDATE event_keys_mark SET seq = max(seq, COALESCE((SELECT MAX(seq) FROM events), 0))",
        )
    }
}

impl WriteConn for SqliteWriter {
    fn begin(&mut self) -> Result<()> {
        self.control("BEGIN IMMEDIATE")
    }
    fn commit(&mut self) -> Result<()> {
        let due = self.unindexed >= self.index.rows
            || self
                .oldest_unindexed
                .is_some_and(|t| t.elapsed() >= self.index.age);
        if due {
            self.copy_keys()?;
        }
        self.control("COMMIT")?;
        if due {
            self.unindexed = 0;
            self.oldest_unindexed = None;
        }
        if self.restart_log.load(Ordering::Acquire) {
            // Between two transactions: see `Checkpointer`. Until every frame is copied (a
            // reader may still need some), it tries again after the next commit.
            let r = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                });
            match r {
                Ok((0, frames, copied)) if copied >= frames => {
                    self.restart_log.store(false, Ordering::Release);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
            }
        }
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        // After some errors (a full disk, an I/O error) SQLite has already rolled back.
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.control("ROLLBACK")
    }
    fn savepoint(&mut self, name: &str) -> Result<()> {
        self.control(&format!("SAVEPOINT {name}"))
    }
    fn rollback_to(&mut self, name: &str) -> Result<()> {
        self.control(&format!("ROLLBACK TO {name}"))
    }
    fn release(&mut self, name: &str) -> Result<()> {
        self.control(&format!("RELEASE {name}"))
    }

    fn get(&mut self, account: &str, kind: &str, id: &str) -> Result<Option<String>> {
        get(&self.conn, account, kind, id)
    }
    fn put(&mut self, account: &str, kind: &str, id: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO state (account, kind, id, value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account, kind, id) DO UPDATE SET value = excluded.value")
            .and_then(|mut s| s.execute(params![account, kind, id, value]))
            .map(|_| ())
            .map_err(db)
    }
    fn delete(&mut self, account: &str, kind: &str, id: &str) -> Result<bool> {
        self.conn
            .prepare_cached("DELETE FROM state WHERE account = ?1 AND kind = ?2 AND id = ?3")
            .and_then(|mut s| s.execute(params![account, kind, id]))
            .map(|n| n > 0)
            .map_err(db)
    }
    fn scan(&mut self, account: &str, kind: &str) -> Result<Vec<(String, String)>> {
        scan(&self.conn, account, kind)
    }
    fn append(&mut self, e: &NewEvent) -> Result<u64> {
        let resources =
            serde_json::to_string(&e.resources).map_err(|e| StoreError::Database(e.to_string()))?;
        let mut ins = self
            .conn
            .prepare_cached(
                "INSERT INTO events (account_id, region, event_time, event_id, event_name, event_source, read_only, username, access_key_id, management, resources, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(db)?;
        ins.execute(params![
            e.account_id,
            e.region,
            e.event_time,
            e.event_id,
            e.event_name,
            e.event_source,
            e.read_only,
            e.username,
            e.access_key_id,
            e.management,
            resources,
            crate::codec::encode(&e.record)
        ])
        .map_err(db)?;
        let seq = self.conn.last_insert_rowid();
        self.unindexed += 1;
        self.oldest_unindexed
            .get_or_insert_with(std::time::Instant::now);
        if !e.resources.is_empty() {
            let mut res = self
                .conn
                .prepare_cached(
                    "INSERT INTO event_resources (seq, account_id, region, event_time, resource_type, resource_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db)?;
            for (ty, name) in &e.resources {
                res.execute(params![seq, e.account_id, e.region, e.event_time, ty, name])
                    .map_err(db)?;
            }
        }
        u64::try_from(seq).map_err(|_| StoreError::Database(format!("negative sequence {seq}")))
    }
    fn last_seq(&mut self) -> Result<u64> {
        // AUTOINCREMENT keeps the highest sequence ever used in `sqlite_sequence` (rolled back
        // with the transaction that raised it), so pruned records do not lower it.
        self.conn
            .prepare_cached(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
            )
            .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(db)
    }
    /// Deletes by sequence number, oldest first and at most `PRUNE_CHUNK` records per call, so
    /// that retention never holds the writer (and every caller behind it) for long: no index
    /// leads on `event_time`, but the sequence order is the time order.
    fn prune_before(&mut self, cutoff: i64) -> Result<u64> {
        // The oldest chunk, in sequence order (the primary key: never a full scan), and the
        // newest of its records that are past retention.
        let upto: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM (SELECT seq, event_time FROM events ORDER BY seq LIMIT ?2) WHERE event_time < ?1",
                params![cutoff, PRUNE_CHUNK],
                |r| r.get(0),
            )
            .map_err(db)?;
        if upto == 0 {
            return Ok(0);
        }
        self.conn
            .execute(
                "DELETE FROM event_resources WHERE seq <= ?1 AND event_time < ?2",
                params![upto, cutoff],
            )
            .map_err(db)?;
        self.conn
            .execute(
                "DELETE FROM event_keys WHERE seq <= ?1 AND event_time < ?2",
                params![upto, cutoff],
            )
            .map_err(db)?;
        self.conn
            .execute(
                "DELETE FROM events WHERE seq <= ?1 AND event_time < ?2",
                params![upto, cutoff],
            )
            .map(|n| n as u64)
            .map_err(db)
    }
}

fn get(conn: &Connection, account: &str, kind: &str, id: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM state WHERE account = ?1 AND kind = ?2 AND id = ?3")
        .and_then(|mut s| {
            s.query_row(params![account, kind, id], |r| r.get(0))
                .optional()
        })
        .map_err(db)
}

fn scan(conn: &Connection, account: &str, kind: &str) -> Result<Vec<(String, String)>> {
    let mut s = conn
        .prepare_cached("SELECT id, value FROM state WHERE account = ?1 AND kind = ?2 ORDER BY id")
        .map_err(db)?;
    let rows = s
        .query_map(params![account, kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?;
    rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db)
}

pub struct SqliteReader {
    pool: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
}

impl SqliteReader {
    /// Reads an existing database at `dir/billtrail.db` without writing anything (no schema,
    /// no writer): for tools that inspect a data dir, also while a server runs on it (WAL lets
    /// readers run beside the writer). Fails when there is no database.
    pub fn open_read_only(dir: &Path) -> Result<SqliteReader> {
        let path = dir.join("billtrail.db");
        if !path.is_file() {
            return Err(StoreError::Database(format!(
                "{}: no database here",
                path.display()
            )));
        }
        let r = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        r.execute_batch("PRAGMA busy_timeout = 5000;").map_err(db)?;
        Ok(SqliteReader {
            pool: Mutex::new(vec![r]),
            path,
        })
    }

    /// Borrows a pooled connection (or opens one more when all are busy) for `f`.
    fn with<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let pooled = self
            .pool
            .lock()
            .map_err(|_| StoreError::Database("reader pool poisoned".into()))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.pool.lock() {
            if pool.len() < READERS * 4 {
                pool.push(conn);
            }
        }
        out
    }
}

/// The `AND ...` clauses of `q` past account and region: attribute filters on the columns of
/// alias `a` (`e` for `events`, `k` for `event_keys`), time and cursor on alias `t` (the one
/// whose order drives the query). With `resource_driven`, the first resource filter is already
/// in the FROM clause; other resource filters are always `EXISTS` on `event_resources`.
fn conditions(
    q: &EventQuery,
    a: &str,
    t: &str,
    resource_driven: bool,
    args: &mut Vec<Box<dyn ToSql>>,
) -> String {
    let mut sql = String::new();
    let mut skip_resource = resource_driven;
    for f in &q.filters {
        let (column, value): (&str, Box<dyn ToSql>) = match f {
            EventFilter::EventId(v) => ("event_id", Box::new(v.clone())),
            EventFilter::EventName(v) => ("event_name", Box::new(v.clone())),
            EventFilter::EventSource(v) => ("event_source", Box::new(v.clone())),
            EventFilter::ReadOnly(v) => ("read_only", Box::new(*v)),
            EventFilter::Username(v) => ("username", Box::new(v.clone())),
            EventFilter::AccessKeyId(v) => ("access_key_id", Box::new(v.clone())),
            EventFilter::ResourceType(v) | EventFilter::ResourceName(v) => {
                if std::mem::take(&mut skip_resource) {
                    continue; // the driving filter, already in the FROM clause
                }
                let column = if matches!(f, EventFilter::ResourceType(_)) {
                    "resource_type"
                } else {
                    "resource_name"
                };
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM event_resources x INDEXED BY resources_seq WHERE x.seq = {a}.seq AND x.{column} = ?)"
                ));
                args.push(Box::new(v.clone()));
                continue;
            }
        };
        sql.push_str(&format!(" AND {a}.{column} = ?"));
        args.push(value);
    }
    if q.management_only {
        sql.push_str(&format!(" AND {a}.management = 1"));
    }
    if let Some(time) = q.start_time {
        sql.push_str(&format!(" AND {t}.event_time >= ?"));
        args.push(Box::new(time));
    }
    if let Some(time) = q.end_time {
        sql.push_str(&format!(" AND {t}.event_time <= ?"));
        args.push(Box::new(time));
    }
    if let Some(c) = q.before {
        sql.push_str(&format!(" AND ({t}.event_time, {t}.seq) < (?, ?)"));
        args.push(Box::new(c.event_time));
        args.push(Box::new(c.seq as i64));
    }
    sql
}

const EVENT_COLUMNS: &str = "e.seq, e.account_id, e.region, e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.management, e.resources, e.record";

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let seq: i64 = r.get(0)?;
    let resources: String = r.get(11)?;
    Ok(StoredEvent {
        seq: seq as u64,
        event: NewEvent {
            account_id: r.get(1)?,
            region: r.get(2)?,
            event_time: r.get(3)?,
            event_id: r.get(4)?,
            event_name: r.get(5)?,
            event_source: r.get(6)?,
            read_only: r.get(7)?,
            username: r.get(8)?,
            access_key_id: r.get(9)?,
            management: r.get(10)?,
            resources: serde_json::from_str(&resources).unwrap_or_default(),
            record: crate::codec::decode(r.get_ref(12)?).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Blob, e.into())
            })?,
        },
    })
}

impl ReadSide for SqliteReader {
    fn get(&self, key: &Key<'_>) -> Result<Option<String>> {
        self.with(|c| get(c, key.account, key.kind, key.id))
    }

    fn scan(&self, account: &str, kind: &str) -> Result<Vec<(String, String)>> {
        self.with(|c| scan(c, account, kind))
    }

    /// One statement per query. The plan matters on a large log, so the driving index is chosen
    /// here rather than left to the planner, which prefers the index that matches the ORDER BY
    /// and would then scan an account's whole history:
    /// - with a resource filter, the resource index, walked newest first, joined to `events` by
    ///   primary key (a correlated `IN (subquery)` would re-run the subquery per event);
    /// - otherwise the indexed records (`event_keys`, through `keys_id` with an EventId, else the
    ///   planner's pick among the `(account, region, <attribute>, time, seq)` indexes, each of
    ///   which yields rows already in the answer's order), joined to `events` by primary key,
    ///   together with the matching records of the unindexed tail.
    fn lookup(&self, q: &EventQuery) -> Result<Vec<StoredEvent>> {
        let resource = q.filters.iter().find_map(|f| match f {
            EventFilter::ResourceType(v) => Some(("resource_type", v)),
            EventFilter::ResourceName(v) => Some(("resource_name", v)),
            _ => None,
        });
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        let sql = match resource {
            Some((column, value)) => {
                let mut sql = format!(
                    "SELECT DISTINCT {EVENT_COLUMNS} FROM event_resources r CROSS JOIN events e ON e.seq = r.seq \
                     WHERE r.account_id = ? AND r.region = ? AND r.{column} = ? AND e.account_id = r.account_id AND e.region = r.region"
                );
                args.push(Box::new(q.account_id.clone()));
                args.push(Box::new(q.region.clone()));
                args.push(Box::new(value.clone()));
                sql.push_str(&conditions(q, "e", "r", true, &mut args));
                sql.push_str(" ORDER BY r.event_time DESC, r.seq DESC LIMIT ?");
                args.push(Box::new(q.limit as i64));
                sql
            }
            None => {
                let by_id = q
                    .filters
                    .iter()
                    .any(|f| matches!(f, EventFilter::EventId(_)));
                let hint = if by_id { " INDEXED BY keys_id" } else { "" };
                let mut indexed = format!(
                    "SELECT {EVENT_COLUMNS} FROM event_keys k{hint} CROSS JOIN events e ON e.seq = k.seq \
                     WHERE k.account_id = ? AND k.region = ?"
                );
                args.push(Box::new(q.account_id.clone()));
                args.push(Box::new(q.region.clone()));
                indexed.push_str(&conditions(q, "k", "k", false, &mut args));
                indexed.push_str(" ORDER BY k.event_time DESC, k.seq DESC LIMIT ?");
                args.push(Box::new(q.limit as i64));
                let mut tail = format!(
                    "SELECT {EVENT_COLUMNS} FROM events e \
                     WHERE e.seq > (SELECT seq FROM event_keys_mark) AND e.account_id = ? AND e.region = ?"
                );
                args.push(Box::new(q.account_id.clone()));
                args.push(Box::new(q.region.clone()));
                tail.push_str(&conditions(q, "e", "e", false, &mut args));
                tail.push_str(" ORDER BY e.event_time DESC, e.seq DESC LIMIT ?");
                args.push(Box::new(q.limit as i64));
                args.push(Box::new(q.limit as i64));
                format!(
                    "SELECT * FROM (SELECT * FROM ({indexed}) UNION ALL SELECT * FROM ({tail})) \
                     ORDER BY event_time DESC, seq DESC LIMIT ?"
                )
            }
        };
        self.with(|c| {
            let mut s = c.prepare_cached(&sql).map_err(db)?;
            let rows = s
                .query_map(
                    params_from_iter(args.iter().map(|a| a.as_ref())),
                    row_to_event,
                )
                .map_err(db)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db)
        })
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        self.with(|c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events e WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2"
                ))
                .map_err(db)?;
            let rows = s
                .query_map(params![after as i64, limit as i64], row_to_event)
                .map_err(db)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(db)
        })
    }

    fn last_seq(&self) -> Result<u64> {
        self.with(|c| {
            c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(db)
        })
    }
}
