//! The conformance suite and the durability checks, against the embedded SQLite backend.

use std::sync::Arc;
use std::time::Duration;

use billtrail_store::sqlite::{self, IndexPolicy};
use billtrail_store::{conformance, Key, Store, WriterOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite(dir.path()).expect("open");
    conformance::run_all(&store).await;
}

fn store_with(dir: &std::path::Path, index: IndexPolicy) -> Store {
    let (w, r) = sqlite::open_with(dir, index).expect("open");
    Store::new(Box::new(w), Arc::new(r), WriterOptions::default())
}

/// Lookups read indexed records and the unindexed tail: the suite passes with every record
/// indexed at its own commit, with none ever indexed, and with the boundary moving every few
/// records (so that pages of results straddle it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_suite_all_indexed_and_all_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        dir.path(),
        IndexPolicy {
            rows: 1,
            age: Duration::ZERO,
        },
    );
    conformance::run_all(&store).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        dir.path(),
        IndexPolicy {
            rows: u64::MAX,
            age: Duration::from_secs(3600),
        },
    );
    conformance::run_all(&store).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_with(
        dir.path(),
        IndexPolicy {
            rows: 7,
            age: Duration::from_secs(3600),
        },
    );
    conformance::run_all(&store).await;
}

/// A database whose `events` still carries the lookup indexes (an older layout) is moved to
/// `event_keys` when opened, and lookups find its records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_layout_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_sqlite(dir.path()).expect("open");
        store
            .transact(|t| {
                for n in 0..10u64 {
                    t.append(&conformance::sample_event(
                        "555555555555",
                        "us-east-1",
                        100 + n as i64,
                        n,
                    ))?;
                }
                Ok(())
            })
            .await
            .expect("append");
    }
    // Back to the older layout: keys in `events`' own indexes, no `event_keys`.
    {
        let c = rusqlite::Connection::open(dir.path().join("billtrail.db")).expect("db");
        c.execute_batch(
            "DROP TABLE event_keys; DROP TABLE event_keys_mark;
             CREATE INDEX events_name ON events (account_id, region, event_name, event_time, seq);",
        )
        .expect("old layout");
    }
    let store = Store::open_sqlite(dir.path()).expect("reopen");
    let q = billtrail_store::EventQuery {
        account_id: "555555555555".into(),
        region: "us-east-1".into(),
        filters: vec![billtrail_store::EventFilter::EventName(
            "GetAddresses".into(),
        )],
        start_time: None,
        end_time: None,
        before: None,
        management_only: false,
        limit: 100,
    };
    let found = store.read().lookup(&q).expect("lookup");
    assert_eq!(
        found.len(),
        5,
        "the even-numbered sample events are GetAddresses"
    );
    let c = rusqlite::Connection::open(dir.path().join("billtrail.db")).expect("db");
    let old: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_name'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(old, 0, "the old index is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_state_and_records_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_sqlite(dir.path()).expect("open");
        store
            .transact(|t| {
                t.put(&Key::new("111111111111", "k", "a"), &"kept")?;
                t.append(&conformance::sample_event(
                    "111111111111",
                    "us-east-1",
                    10,
                    1,
                ))
            })
            .await
            .expect("commit");
    }
    let store = Store::open_sqlite(dir.path()).expect("reopen");
    let v: Option<String> = store.get(&Key::new("111111111111", "k", "a")).expect("get");
    assert_eq!(v.as_deref(), Some("kept"));
    assert_eq!(store.read().last_seq().expect("last_seq"), 1);
}

/// Under a steady stream of commits the write-ahead log stays bounded: the checkpointer makes it
/// start over (it cannot by itself while commits keep coming).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_bounded_under_steady_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_sqlite(dir.path()).expect("open");
    let wal = dir.path().join("billtrail.db-wal");
    let blob = "x".repeat(64 * 1024);
    let started = std::time::Instant::now();
    let mut written = 0usize;
    // About 160 MB through the log in jobs of 1 MB, back to back, for at least 2 s.
    while written < 160 * 1024 * 1024 || started.elapsed() < Duration::from_secs(2) {
        let b = blob.clone();
        let n = written;
        store
            .transact(move |t| {
                for i in 0..16 {
                    t.put(&Key::new("777777777777", "blob", &format!("{n}-{i}")), &b)?;
                }
                Ok(())
            })
            .await
            .expect("write");
        written += 16 * blob.len();
    }
    let size = std::fs::metadata(&wal).expect("wal").len();
    eprintln!("log after {written} bytes written: {size} bytes");
    assert!(
        size < 48 * 1024 * 1024,
        "the log grew to {size} bytes after {written} bytes written"
    );
}

/// Jobs queued while a transaction runs join it, up to `max_batch`: 40 jobs, 39 of them queued
/// while a slow one runs, take exactly 40 / 8 transactions (not one for the slow job alone and
/// then five more), and every one of them commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_join_the_running_transaction_up_to_max_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (w, r) = sqlite::open(dir.path()).expect("open");
    let store = Store::new(
        Box::new(w),
        Arc::new(r),
        WriterOptions {
            max_batch: 8,
            queue: 1024,
        },
    );
    let before = store.writer_stats();
    let (started_tx, started) = std::sync::mpsc::channel::<()>();
    let slow = {
        let s = store.clone();
        tokio::spawn(async move {
            s.transact(move |t| {
                let _ = started_tx.send(());
                std::thread::sleep(Duration::from_millis(300));
                t.put(&Key::new("444444444444", "joined", "slow"), &0u64)
            })
            .await
        })
    };
    started.recv().expect("the slow job runs");
    let mut tasks = Vec::new();
    for n in 1..=39u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = n.to_string();
            s.transact(move |t| t.put(&Key::new("444444444444", "joined", &id), &n))
                .await
        }));
    }
    // Every job is queued well before the slow one ends.
    tokio::time::sleep(Duration::from_millis(100)).await;
    slow.await.expect("task").expect("slow job commits");
    for t in tasks {
        t.await.expect("task").expect("job commits");
    }
    let after = store.writer_stats();
    assert_eq!(after.jobs - before.jobs, 40);
    assert_eq!(after.transactions - before.transactions, 5);
    assert_eq!(
        store
            .read()
            .scan("444444444444", "joined")
            .expect("scan")
            .len(),
        40
    );
}
