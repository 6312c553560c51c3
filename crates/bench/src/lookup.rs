//! `lookup`: `LookupEvents` latency per attribute key on a store of millions of events.
//!
//! The store is built once through the store's own group-commit writer (in-process
//! `billtrail_server::start`, so the schema, bootstrap and keys are the server's), cached, and
//! reused while its events are still well inside the 90-day retention. The lookups then go over
//! HTTP to the real binary, signed, one at a time, so each latency is what a client sees: the
//! query, the response, and the fsync of the lookup's own audit record.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use billtrail_store::NewEvent;
use hdrhistogram::Histogram;
use hyper::body::Bytes;
use rand::prelude::*;
use rand::rngs::StdRng;
use serde_json::{json, Value};

use crate::client::{self, Call, Conn};
use crate::gen::{self, Generator, World};
use crate::report::{group, Figure, Floor, Section};
use crate::server::{self, Billtrail};
use crate::{Common, Error, LookupArgs};

/// Seeds the synthetic world; changing it changes every cached store's contents.
const SEED: u64 = 20_131_101;
/// How far back the records go.
const SPAN_DAYS: i64 = 80;
/// A cached store older than this is rebuilt: its oldest records near the 90-day retention.
const MAX_CACHE_AGE_DAYS: i64 = 7;
/// Records per store transaction while building.
const BUILD_BATCH: usize = 50_000;
/// Generous upper bound of the disk a record takes, indexes and WAL included.
const BYTES_PER_EVENT: u64 = 2_600;

/// How long one lookup may take; a slower one is recorded as taking this long (a lower bound).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the requests of one query kind may take in all (a slow kind gets fewer samples).
const KIND_BUDGET: Duration = Duration::from_secs(60);

const P50_FLOOR_MS: f64 = 10.0;
const P99_FLOOR_MS: f64 = 100.0;

/// What a built store holds; saved next to it as `bench-store.json`.
#[derive(Debug, Clone)]
struct Meta {
    events: u64,
    account_id: String,
    built_unix: i64,
    start: i64,
    end: i64,
    build_seconds: f64,
    record_bytes_avg: f64,
}

impl Meta {
    fn to_json(&self) -> Value {
        json!({
            "events": self.events,
            "account_id": self.account_id,
            "seed": SEED,
            "built_unix": self.built_unix,
            "start": self.start,
            "end": self.end,
            "build_seconds": self.build_seconds,
            "record_bytes_avg": self.record_bytes_avg,
        })
    }
    fn from_json(v: &Value) -> Option<Meta> {
        if v["seed"].as_u64()? != SEED {
            return None;
        }
        Some(Meta {
            events: v["events"].as_u64()?,
            account_id: v["account_id"].as_str()?.to_string(),
            built_unix: v["built_unix"].as_i64()?,
            start: v["start"].as_i64()?,
            end: v["end"].as_i64()?,
            build_seconds: v["build_seconds"].as_f64()?,
            record_bytes_avg: v["record_bytes_avg"].as_f64()?,
        })
    }
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `10m`, `200k`, or the plain number.
fn label(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}m", n / 1_000_000)
    } else if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn cache_root(args: &LookupArgs) -> Result<PathBuf, Error> {
    if let Some(c) = &args.cache {
        return Ok(c.clone());
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set; pass --cache")?;
    Ok(PathBuf::from(home).join(".cache/billtrail/bench"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// The cached store for `n` events, if it is complete and fresh.
fn cached(dir: &Path, n: u64) -> Option<Meta> {
    let text = std::fs::read_to_string(dir.join("bench-store.json")).ok()?;
    let meta = Meta::from_json(&serde_json::from_str(&text).ok()?)?;
    let fresh = now_unix() - meta.built_unix < MAX_CACHE_AGE_DAYS * 86400;
    (meta.events == n && fresh && dir.join("store/billtrail.db").is_file()).then_some(meta)
}

/// Builds a store of `n` events in `dir` (via `dir.partial`, renamed when complete).
async fn build(dir: &Path, n: u64) -> Result<Meta, Error> {
    let partial = dir.with_extension("partial");
    for d in [dir, partial.as_path()] {
        if d.exists() {
            std::fs::remove_dir_all(d).map_err(io(d))?;
        }
    }
    let parent = dir.parent().ok_or("the cache directory has no parent")?;
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let need = n.saturating_mul(BYTES_PER_EVENT);
    let free = server::free_bytes(parent)?;
    if free < need {
        return Err(format!(
            "building {} events needs about {:.1} GB in {}, which has {:.1} GB free",
            group(n as i64),
            need as f64 / 1e9,
            parent.display(),
            free as f64 / 1e9
        ));
    }
    eprintln!(
        "lookup: building a store of {} events in {} (needs about {:.0} GB; {:.0} GB free)",
        group(n as i64),
        partial.display(),
        need as f64 / 1e9,
        free as f64 / 1e9
    );
    let mut raw = billtrail_server::RawConfig::default();
    raw.server.listen = "127.0.0.1:0".into();
    let config = raw
        .validate(partial.clone())
        .map_err(|e| format!("config: {e}"))?;
    let running = billtrail_server::start(config)
        .await
        .map_err(|e| format!("starting billtrail in-process: {e}"))?;
    let account_id = running.installation.management_account_id.clone();
    let store = running.env.store.clone();
    running.stop();

    let end = now_unix() - 60;
    let start = end - SPAN_DAYS * 86400;
    let mut generator = Generator::new(World::new(&account_id, SEED), SEED, start, end, n);
    let began = Instant::now();
    let mut record_bytes: u64 = 0;
    let mut done: u64 = 0;
    let mut last_report = Instant::now();
    let mut pending: Option<tokio::task::JoinHandle<Result<u64, Error>>> = None;
    // Bounded: each round takes at least one record off the generator.
    while generator.remaining() > 0 || pending.is_some() {
        let batch: Vec<NewEvent> = generator.batch(BUILD_BATCH);
        record_bytes += batch.iter().map(|e| e.record.len() as u64).sum::<u64>();
        if let Some(p) = pending.take() {
            done += p.await.map_err(|e| e.to_string())??;
            if last_report.elapsed() > Duration::from_secs(15) {
                last_report = Instant::now();
                let secs = began.elapsed().as_secs_f64();
                eprintln!(
                    "lookup: {} / {} events, {:.0} events/s, {:.0} s",
                    group(done as i64),
                    group(n as i64),
                    done as f64 / secs,
                    secs
                );
            }
        }
        if !batch.is_empty() {
            let store = store.clone();
            pending = Some(tokio::spawn(async move {
                let len = batch.len() as u64;
                store
                    .transact(move |t| {
                        for e in &batch {
                            t.append(e)?;
                        }
                        Ok(())
                    })
                    .await
                    .map_err(|e| format!("appending: {e}"))?;
                Ok(len)
            }));
        }
    }
    store.flush().await.map_err(|e| e.to_string())?;
    let build_seconds = began.elapsed().as_secs_f64();
    drop(store);
    // Let the aborted server tasks drop their store handles, so the writer thread closes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = partial.join("store/billtrail.db");
    let conn = rusqlite::Connection::open(&db).map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(|e| format!("checkpoint: {e}"))?;
    drop(conn);
    let meta = Meta {
        events: n,
        account_id,
        built_unix: now_unix(),
        start,
        end,
        build_seconds,
        record_bytes_avg: record_bytes as f64 / n.max(1) as f64,
    };
    let meta_path = partial.join("bench-store.json");
    std::fs::write(&meta_path, meta.to_json().to_string()).map_err(io(&meta_path))?;
    std::fs::rename(&partial, dir).map_err(io(dir))?;
    Ok(meta)
}

/// Bytes of the database files (main, WAL, shared memory) under `dir/store`.
fn db_bytes(dir: &Path) -> u64 {
    ["billtrail.db", "billtrail.db-wal", "billtrail.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join("store").join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Values that exist only in the store (event ids, resource ARNs), sampled at random.
struct Samples {
    event_ids: Vec<String>,
    resource_names: Vec<String>,
}

fn sample(dir: &Path, meta: &Meta, want: usize, rng: &mut StdRng) -> Result<Samples, Error> {
    let db = dir.join("store/billtrail.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("{}: {e}", db.display()))?;
    let err = |e: rusqlite::Error| format!("sampling {}: {e}", db.display());
    let max = |table: &str| -> Result<i64, Error> {
        conn.query_row(
            &format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )
        .map_err(err)
    };
    let draw = |sql: &str, max: i64, rng: &mut StdRng| -> Result<Vec<String>, Error> {
        let mut stmt = conn.prepare(sql).map_err(err)?;
        let mut out = Vec::with_capacity(want);
        // Bounded: most rows belong to the account and region, so few draws miss.
        for _ in 0..want * 50 {
            if out.len() >= want || max < 1 {
                break;
            }
            let row: Option<String> = stmt
                .query_row(
                    rusqlite::params![rng.gen_range(1..=max), meta.account_id, gen::REGION],
                    |r| r.get(0),
                )
                .ok();
            out.extend(row);
        }
        Ok(out)
    };
    let event_ids = draw(
        "SELECT event_id FROM events WHERE seq = ?1 AND account_id = ?2 AND region = ?3",
        max("events")?,
        rng,
    )?;
    let resource_names = draw(
        "SELECT resource_name FROM event_resources WHERE rowid = ?1 AND account_id = ?2 AND region = ?3",
        max("event_resources")?,
        rng,
    )?;
    if event_ids.is_empty() || resource_names.is_empty() {
        return Err(format!("{}: found no events to sample", db.display()));
    }
    Ok(Samples {
        event_ids,
        resource_names,
    })
}

/// The query kinds, in report order: the 8 attribute keys, none, a time window, a second page.
const KINDS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
    "no_attribute",
    "time_window",
    "next_page",
];

fn pick<'a, T: ?Sized>(rng: &mut StdRng, items: &'a [&'a T]) -> &'a T {
    items[rng.gen_range(0..items.len())]
}

/// The body of one first-page request of `kind` (for `next_page`, its first page).
fn body(kind: &str, rng: &mut StdRng, world: &World, samples: &Samples, meta: &Meta) -> Value {
    let attr = |k: &str, v: &str| json!({"LookupAttributes": [{"AttributeKey": k, "AttributeValue": v}], "MaxResults": 50});
    let names: Vec<&str> = gen::OPERATIONS.iter().map(|o| o.0).collect();
    match kind {
        "EventId" => attr(
            kind,
            &samples.event_ids[rng.gen_range(0..samples.event_ids.len())],
        ),
        "EventName" | "next_page" => attr("EventName", pick(rng, &names)),
        "ReadOnly" => attr(kind, if rng.gen() { "true" } else { "false" }),
        "Username" => {
            let a = &world.actors[rng.gen_range(0..world.actors.len())];
            attr(kind, &a.username)
        }
        "ResourceType" => attr(kind, pick(rng, gen::RESOURCE_TYPES)),
        "ResourceName" => attr(
            kind,
            &samples.resource_names[rng.gen_range(0..samples.resource_names.len())],
        ),
        "EventSource" => attr(kind, pick(rng, gen::SOURCES)),
        "AccessKeyId" => attr(kind, pick(rng, &world.access_keys())),
        "time_window" => {
            let width = rng.gen_range(3600..=86400);
            let from = rng.gen_range(meta.start..=(meta.end - width).max(meta.start));
            json!({"StartTime": from, "EndTime": from + width, "MaxResults": 50})
        }
        _ => json!({"MaxResults": 50}),
    }
}

fn lookup_call(body: &Value) -> Call {
    Call {
        service: "cloudtrail",
        target: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        body: Bytes::from(body.to_string()),
    }
}

/// One signed `LookupEvents`: its latency and answer, or `None` when no answer came within
/// `limit`.
async fn lookup_once(
    conn: &mut Conn,
    srv: &Billtrail,
    body: &Value,
    limit: Duration,
) -> Result<Option<(Duration, Value)>, Error> {
    let call = lookup_call(body);
    let headers = client::sign(
        &srv.endpoint,
        &srv.creds,
        &call,
        time::OffsetDateTime::now_utc(),
    )?;
    let sent = Instant::now();
    let exchange = conn.post_within(headers, call.body, limit + Duration::from_secs(60));
    let Ok(answered) = tokio::time::timeout(limit, exchange).await else {
        return Ok(None);
    };
    let (status, answer) = answered?;
    let latency = sent.elapsed();
    if status.as_u16() != 200 {
        return Err(format!(
            "LookupEvents {body} answered HTTP {status}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        ));
    }
    let v: Value =
        serde_json::from_slice(&answer).map_err(|e| format!("LookupEvents answer: {e}"))?;
    Ok(Some((latency, v)))
}

#[derive(Default)]
struct KindStats {
    hist: Option<Histogram<u64>>,
    events: u64,
    requests: u64,
    /// The time budget ran out before all requests were made.
    cut_short: bool,
    /// A request got no answer within the limit; its sample is the limit (a lower bound).
    timed_out: bool,
}

/// Untimed requests before the timed ones of each kind (fewer when they are slow).
const WARMUP: usize = 3;

/// Limits of one kind's measurement.
#[derive(Clone, Copy)]
struct Limits {
    /// Timed requests wanted.
    requests: usize,
    /// Time for the kind in all; at least one timed request is always made, so that a
    /// pathologically slow kind still gets a figure.
    budget: Duration,
    /// Time for one request.
    timeout: Duration,
}

/// Runs the requests of `kind`. Stops at the first timeout (the connection is then mid-request
/// and must not be reused).
async fn measure(
    kind: &str,
    limits: Limits,
    conn: &mut Conn,
    srv: &Billtrail,
    ctx: (&World, &Samples, &Meta),
    rng: &mut StdRng,
) -> Result<KindStats, Error> {
    let (world, samples, meta) = ctx;
    let mut hist = client::histogram();
    let mut st = KindStats::default();
    let began = Instant::now();
    let mut warm = 0;
    for _ in 0..WARMUP + limits.requests {
        if st.requests as usize >= limits.requests {
            break;
        }
        let over = began.elapsed() > limits.budget;
        if over && st.requests > 0 {
            st.cut_short = true;
            break;
        }
        let mut b = body(kind, rng, world, samples, meta);
        let mut answered = None;
        if kind == "next_page" {
            // Find a first page that has a next one (bounded: a few names are rare).
            let mut token = None;
            for _ in 0..20 {
                let Some((_, first)) = lookup_once(conn, srv, &b, limits.timeout).await? else {
                    break;
                };
                if let Some(t) = first["NextToken"].as_str() {
                    token = Some(t.to_string());
                    break;
                }
                b = body(kind, rng, world, samples, meta);
            }
            match token {
                Some(t) => b["NextToken"] = json!(t),
                None => answered = Some(None),
            }
        }
        let answered = match answered {
            Some(a) => a,
            None => lookup_once(conn, srv, &b, limits.timeout).await?,
        };
        let Some((latency, answer)) = answered else {
            client::record(&mut hist, limits.timeout);
            st.requests += 1;
            st.timed_out = true;
            break;
        };
        if warm < WARMUP && !over {
            warm += 1;
            if latency <= Duration::from_secs(1) {
                continue;
            }
            // Slow whatever the cache holds: warming up would only waste the budget, so this
            // one counts.
            warm = WARMUP;
        }
        client::record(&mut hist, latency);
        st.requests += 1;
        st.events += answer["Events"].as_array().map_or(0, |e| e.len() as u64);
    }
    st.hist = Some(hist);
    Ok(st)
}

/// Starts the server on the store and waits for its first lookup (which waits for whatever the
/// server does at start-up); returns the server, a connection and that first latency.
async fn start(bin: &Path, dir: &Path) -> Result<(Billtrail, Conn, Duration), Error> {
    let srv = server::start_billtrail(bin, dir).await?;
    let mut conn = Conn::open(srv.endpoint.addr).await?;
    let first = json!({"MaxResults": 50});
    match lookup_once(&mut conn, &srv, &first, Duration::from_secs(900)).await? {
        Some((latency, _)) => Ok((srv, conn, latency)),
        None => Err("the first LookupEvents after start got no answer in 900 s".into()),
    }
}

pub async fn run(bin: &Path, common: &Common, args: &LookupArgs) -> Result<Section, Error> {
    let n = args
        .events
        .unwrap_or(if common.quick { 200_000 } else { 10_000_000 })
        .max(1000);
    let per_kind = args
        .requests
        .unwrap_or(if common.quick { 60 } else { 300 })
        .max(1);
    let dir = cache_root(args)?.join(format!("lookup-{}", label(n)));
    let mut s = Section::new(&format!(
        "lookup: LookupEvents on a store of {} events, {per_kind} requests per kind",
        group(n as i64)
    ));

    let meta = match cached(&dir, n).filter(|_| !args.rebuild) {
        Some(meta) => {
            eprintln!("lookup: reusing the store in {}", dir.display());
            s.notes.push(format!(
                "store reused from {} (built {} h ago); build figures are from that build",
                dir.display(),
                (now_unix() - meta.built_unix) / 3600
            ));
            meta
        }
        None => build(&dir, n).await?,
    };
    s.push(Figure::new(
        "lookup.build.events_per_s",
        meta.events as f64 / meta.build_seconds.max(1e-9),
        "events/s",
    ));
    s.push(Figure::new("lookup.build.seconds", meta.build_seconds, "s"));
    s.push(Figure::new(
        "lookup.store.events",
        meta.events as f64,
        "count",
    ));
    s.push(Figure::new(
        "lookup.store.record_bytes_avg",
        meta.record_bytes_avg,
        "bytes",
    ));
    s.push(Figure::new(
        "lookup.store.db_size_gb",
        db_bytes(&dir) as f64 / 1e9,
        "GB",
    ));

    let mut rng = StdRng::seed_from_u64(now_unix() as u64);
    let samples = sample(&dir, &meta, per_kind.max(50), &mut rng)?;
    let world = World::new(&meta.account_id, SEED);

    eprintln!("lookup: starting {} on {}", bin.display(), dir.display());
    let (mut srv, mut conn, first) = start(bin, &dir).await?;
    s.push(Figure::new(
        "lookup.first_call_after_start_ms",
        first.as_secs_f64() * 1000.0,
        "ms",
    ));
    let limits = Limits {
        requests: per_kind,
        budget: if common.quick {
            KIND_BUDGET / 4
        } else {
            KIND_BUDGET
        },
        timeout: if common.quick {
            LOOKUP_TIMEOUT / 4
        } else {
            LOOKUP_TIMEOUT
        },
    };
    for kind in KINDS {
        eprintln!("lookup: {kind}");
        let ctx = (&world, &samples, &meta);
        let st = match measure(kind, limits, &mut conn, &srv, ctx, &mut rng).await {
            Ok(st) => st,
            Err(e) => {
                s.failures.push(format!("{kind}: {e}"));
                // The connection may be in any state after a failure.
                conn = Conn::open(srv.endpoint.addr).await?;
                continue;
            }
        };
        if st.timed_out {
            // The server is still running the abandoned query, which would slow every later
            // kind: start it afresh (every answered call is durable; nothing is lost).
            eprintln!("lookup: {kind} timed out; restarting the server");
            srv.proc.kill9()?;
            (srv, conn, _) = start(bin, &dir).await?;
        }
        let hist = st.hist.unwrap_or_else(client::histogram);
        s.push(
            Figure::new(
                format!("lookup.{kind}.p50_ms"),
                client::ms(&hist, 0.5),
                "ms",
            )
            .floor(Floor::AtMost(P50_FLOOR_MS)),
        );
        s.push(
            Figure::new(
                format!("lookup.{kind}.p99_ms"),
                client::ms(&hist, 0.99),
                "ms",
            )
            .floor(Floor::AtMost(P99_FLOOR_MS)),
        );
        let avg = st.events as f64 / st.requests.max(1) as f64;
        let mut note = format!(
            "{kind}: {} timed requests, {avg:.1} events per page on average, max {:.1} ms",
            st.requests,
            hist.max() as f64 / 1000.0
        );
        if st.cut_short {
            note.push_str(&format!("; cut short by the {:?} budget", limits.budget));
        }
        if st.timed_out {
            note.push_str(&format!(
                "; a request got no answer in {:?}, counted as {:?} (a lower bound)",
                limits.timeout, limits.timeout
            ));
        }
        s.notes.push(note);
    }
    srv.proc.kill9()?;
    Ok(s)
}
