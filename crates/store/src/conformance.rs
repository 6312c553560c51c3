//! The conformance suite: what every backend must do, written against [`Store`] only.
//!
//! Each backend's tests call [`run_all`] with a fresh, empty store. A new backend is done when
//! the whole suite passes against it.

use crate::{EventFilter, EventQuery, Key, NewEvent, Store, StoreError};

/// Runs every check against `store`, which must be empty. Panics (test failure) on the first
/// violation, naming it.
pub async fn run_all(store: &Store) {
    state_round_trip(store).await;
    failed_job_changes_nothing(store).await;
    atomic_rolls_back_only_its_part(store).await;
    concurrent_jobs_get_distinct_increasing_seqs(store).await;
    refused_jobs_leave_their_batch_alone(store).await;
    lookup_filters_and_isolation(store).await;
    lookup_pagination_is_stable(store).await;
    events_after_in_sequence_order(store).await;
    prune_removes_only_old_records(store).await;
}

/// A record for tests: `n` makes every field distinct.
pub fn sample_event(account: &str, region: &str, time: i64, n: u64) -> NewEvent {
    NewEvent {
        account_id: account.to_string(),
        region: region.to_string(),
        event_time: time,
        event_id: format!("00000000-0000-4000-8000-{n:012}"),
        event_name: if n.is_multiple_of(2) {
            "GetAddresses".into()
        } else {
            "SetContactAddress".into()
        },
        event_source: if n.is_multiple_of(3) {
            "cloudtrail.amazonaws.com".into()
        } else {
            "billingconsole.amazonaws.com".into()
        },
        read_only: n.is_multiple_of(2),
        username: Some(if n.is_multiple_of(5) {
            "alice".into()
        } else {
            "root".into()
        }),
        access_key_id: Some(format!("AKIA{:016}", n % 7)),
        resources: if n.is_multiple_of(4) {
            vec![(Some("AWS::CloudTrail::Trail".into()), format!("trail-{n}"))]
        } else {
            vec![]
        },
        management: !n.is_multiple_of(11),
        record: format!("{{\"n\":{n}}}"),
    }
}

async fn state_round_trip(store: &Store) {
    store
        .transact(|t| {
            t.put(
                &Key::new("111111111111", "address", "contact"),
                &serde_json::json!({"city": "Seattle"}),
            )?;
            t.put(
                &Key::new("111111111111", "address", "billing"),
                &serde_json::json!({"city": "Tacoma"}),
            )?;
            t.put(
                &Key::new("222222222222", "address", "contact"),
                &serde_json::json!({"city": "Paris"}),
            )
        })
        .await
        .expect("put commits");
    let v: Option<serde_json::Value> = store
        .get(&Key::new("111111111111", "address", "contact"))
        .expect("get");
    assert_eq!(
        v,
        Some(serde_json::json!({"city": "Seattle"})),
        "read side sees the committed put"
    );
    let rows = store.read().scan("111111111111", "address").expect("scan");
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["billing", "contact"],
        "scan is per account and ordered by id"
    );
    let existed = store
        .transact(|t| {
            let read: Option<serde_json::Value> =
                t.get(&Key::new("222222222222", "address", "contact"))?;
            assert!(read.is_some(), "the writer reads its own state");
            t.delete(&Key::new("222222222222", "address", "contact"))
        })
        .await
        .expect("delete commits");
    assert!(existed);
    assert_eq!(
        store
            .read()
            .get(&Key::new("222222222222", "address", "contact"))
            .expect("get"),
        None
    );
}

async fn failed_job_changes_nothing(store: &Store) {
    let before = store.read().last_seq().expect("last_seq");
    let r: Result<(), StoreError> = store
        .transact(|t| {
            t.put(&Key::new("111111111111", "x", "failed"), &1)?;
            t.append(&sample_event("111111111111", "us-east-1", 1, 999_001))?;
            Err(StoreError::Database("the job gave up".into()))
        })
        .await;
    assert!(r.is_err(), "the job's error reaches the caller");
    assert_eq!(
        store
            .read()
            .get(&Key::new("111111111111", "x", "failed"))
            .expect("get"),
        None,
        "no state from a failed job"
    );
    assert_eq!(
        store.read().last_seq().expect("last_seq"),
        before,
        "no record from a failed job"
    );
}

async fn atomic_rolls_back_only_its_part(store: &Store) {
    let seq = store
        .transact(|t| {
            let inner: Result<(), &str> = t.atomic(|t| {
                t.put(&Key::new("111111111111", "x", "inner"), &1)
                    .map_err(|_| "store")?;
                Err("operation failed")
            })?;
            assert_eq!(inner, Err("operation failed"));
            t.append(&sample_event("111111111111", "us-east-1", 2, 999_002))
        })
        .await
        .expect("the job commits");
    assert!(seq > 0);
    assert_eq!(
        store
            .read()
            .get(&Key::new("111111111111", "x", "inner"))
            .expect("get"),
        None,
        "atomic rolled back"
    );
    let found = store
        .read()
        .lookup(&query(
            "111111111111",
            "us-east-1",
            vec![EventFilter::EventId(
                sample_event("", "", 0, 999_002).event_id,
            )],
        ))
        .expect("lookup");
    assert_eq!(
        found.len(),
        1,
        "the record written after the rolled-back part is kept"
    );
}

async fn concurrent_jobs_get_distinct_increasing_seqs(store: &Store) {
    let mut tasks = Vec::new();
    for n in 0..500u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.transact(move |t| {
                t.put(&Key::new("333333333333", "counter", &n.to_string()), &n)?;
                t.append(&sample_event(
                    "333333333333",
                    "us-east-1",
                    1_000 + n as i64,
                    n,
                ))
            })
            .await
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task").expect("commit"));
    }
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 500, "every job got its own sequence number");
    assert_eq!(
        store
            .read()
            .scan("333333333333", "counter")
            .expect("scan")
            .len(),
        500
    );
    assert!(store.read().last_seq().expect("last_seq") >= *sorted.last().expect("non-empty"));
}

/// Jobs that fail before writing anything (a refused call's job, say) share batches with jobs
/// that commit, and must not take them down.
async fn refused_jobs_leave_their_batch_alone(store: &Store) {
    let mut tasks = Vec::new();
    for n in 0..300u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.transact(move |t| {
                let id = n.to_string();
                let key = Key::new("333333333334", "mixed", &id);
                if n.is_multiple_of(3) {
                    // Reads, then refuses: nothing of it is in the transaction.
                    let _: Option<u64> = t.get(&key)?;
                    return Err(StoreError::Database(format!("job {n} refused")));
                }
                t.put(&key, &n)
            })
            .await
        }));
    }
    for (n, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        if n % 3 == 0 {
            assert!(
                matches!(&r, Err(StoreError::Database(m)) if m.contains("refused")),
                "job {n} gets its own error, got {r:?}"
            );
        } else {
            assert!(r.is_ok(), "job {n} commits beside refused ones: {r:?}");
        }
    }
    assert_eq!(
        store
            .read()
            .scan("333333333334", "mixed")
            .expect("scan")
            .len(),
        200,
        "every job that did not refuse committed"
    );
}

fn query(account: &str, region: &str, filters: Vec<EventFilter>) -> EventQuery {
    EventQuery {
        account_id: account.into(),
        region: region.into(),
        filters,
        start_time: None,
        end_time: None,
        before: None,
        management_only: false,
        limit: 1000,
    }
}

async fn lookup_filters_and_isolation(store: &Store) {
    let acct = "444444444444";
    store
        .transact(move |t| {
            for n in 0..60u64 {
                t.append(&sample_event(acct, "us-east-1", 10_000 + n as i64, n))?;
            }
            t.append(&sample_event(acct, "eu-west-1", 10_000, 1_000))?;
            t.append(&sample_event("555555555555", "us-east-1", 10_000, 1_001))
        })
        .await
        .expect("append");
    let all = store
        .read()
        .lookup(&query(acct, "us-east-1", vec![]))
        .expect("lookup");
    assert_eq!(all.len(), 60, "only this account's and region's events");
    assert!(
        all.windows(2).all(|w| w[0].cursor() > w[1].cursor()),
        "newest first"
    );
    let count = |filters: Vec<EventFilter>| {
        store
            .read()
            .lookup(&query(acct, "us-east-1", filters))
            .expect("lookup")
            .len()
    };
    assert_eq!(
        count(vec![EventFilter::EventName("GetAddresses".into())]),
        30
    );
    assert_eq!(count(vec![EventFilter::ReadOnly(true)]), 30);
    assert_eq!(
        count(vec![EventFilter::EventSource(
            "cloudtrail.amazonaws.com".into()
        )]),
        20
    );
    assert_eq!(count(vec![EventFilter::Username("alice".into())]), 12);
    assert_eq!(
        count(vec![EventFilter::AccessKeyId(format!("AKIA{:016}", 3))]),
        9
    );
    assert_eq!(
        count(vec![EventFilter::ResourceType(
            "AWS::CloudTrail::Trail".into()
        )]),
        15
    );
    assert_eq!(count(vec![EventFilter::ResourceName("trail-8".into())]), 1);
    assert_eq!(
        count(vec![EventFilter::EventId(
            sample_event("", "", 0, 7).event_id
        )]),
        1
    );
    assert_eq!(
        count(vec![
            EventFilter::EventName("GetAddresses".into()),
            EventFilter::EventSource("cloudtrail.amazonaws.com".into())
        ]),
        10,
        "filters combine with AND"
    );
    let mut q = query(acct, "us-east-1", vec![]);
    q.start_time = Some(10_010);
    q.end_time = Some(10_019);
    assert_eq!(
        store.read().lookup(&q).expect("lookup").len(),
        10,
        "time bounds are inclusive"
    );
    q.start_time = None;
    q.end_time = None;
    q.management_only = true;
    assert_eq!(
        store.read().lookup(&q).expect("lookup").len(),
        54,
        "management_only drops data events"
    );
    assert_eq!(
        store
            .read()
            .lookup(&query("666666666666", "us-east-1", vec![]))
            .expect("lookup")
            .len(),
        0
    );
}

async fn lookup_pagination_is_stable(store: &Store) {
    let acct = "777777777777";
    // Several events share each second, so the sequence number must break ties.
    store
        .transact(move |t| {
            for n in 0..25u64 {
                t.append(&sample_event(acct, "us-east-1", 20_000 + (n / 4) as i64, n))?;
            }
            Ok(())
        })
        .await
        .expect("append");
    let mut q = query(acct, "us-east-1", vec![]);
    q.limit = 3;
    let mut seen = Vec::new();
    loop {
        let page = store.read().lookup(&q).expect("lookup");
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|e| e.seq));
        q.before = page.last().map(|e| e.cursor());
        // A record committed mid-pagination is newer than every cursor, so it never shows up.
        store
            .transact(move |t| t.append(&sample_event(acct, "us-east-1", 30_000, 500)))
            .await
            .expect("append");
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(seen.len(), 25, "every event once");
    assert_eq!(unique.len(), 25);
}

async fn events_after_in_sequence_order(store: &Store) {
    let last = store.read().last_seq().expect("last_seq");
    let first = store
        .transact(|t| {
            let a = t.append(&sample_event("888888888888", "us-east-1", 5, 1))?;
            t.append(&sample_event("888888888888", "us-east-1", 4, 2))?;
            t.append(&sample_event("888888888888", "us-east-1", 6, 3))?;
            Ok(a)
        })
        .await
        .expect("append");
    let got = store.read().events_after(last, 10).expect("events_after");
    assert_eq!(got.len(), 3);
    // The writer's view: the highest sequence so far, its own uncommitted appends included.
    let (before, mid) = store
        .transact(|t| {
            let before = t.last_seq()?;
            let a = t.append(&sample_event("888888888888", "us-east-1", 7, 4))?;
            Ok((before, (a, t.last_seq()?)))
        })
        .await
        .expect("last_seq in a transaction");
    assert_eq!(before, got[2].seq, "last_seq is the last committed append");
    assert_eq!(mid.0, mid.1, "last_seq sees this transaction's append");
    assert_eq!(got[0].seq, first);
    assert!(
        got.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequence order, not time order"
    );
    assert_eq!(
        store
            .read()
            .events_after(last, 2)
            .expect("events_after")
            .len(),
        2,
        "limit"
    );
}

async fn prune_removes_only_old_records(store: &Store) {
    let acct = "999999999999";
    store
        .transact(move |t| {
            t.append(&sample_event(acct, "us-east-1", 100, 1))?;
            t.append(&sample_event(acct, "us-east-1", 50_000_000, 4))
        })
        .await
        .expect("append");
    let last = store.read().last_seq().expect("last_seq");
    store
        .transact(|t| t.prune_before(101))
        .await
        .expect("prune");
    let left = store
        .read()
        .lookup(&query(acct, "us-east-1", vec![]))
        .expect("lookup");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event.event_time, 50_000_000);
    let next = store
        .transact(move |t| t.append(&sample_event(acct, "us-east-1", 50_000_001, 5)))
        .await
        .expect("append");
    assert!(
        next > last,
        "sequence numbers are never reused after pruning"
    );
    store
        .transact(|t| t.prune_before(i64::MAX))
        .await
        .expect("prune all");
    let after_prune = store.transact(|t| t.last_seq()).await.expect("last_seq");
    assert_eq!(after_prune, next, "last_seq survives pruning every record");
}
