//! `deliver_once` against a real store and an in-memory object store that can fail on demand:
//! exactly-once delivery across crashes and outages, logging periods, layouts and the
//! delivered-log entries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use billtrail_objects::{
    ListRequest, Listing, Metadata, Object, ObjectError, ObjectMeta, ObjectStore,
};
use billtrail_store::{Key, NewEvent, Store};
use billtrail_trail::{
    deliver_once, DeliveredLog, DeliveryOptions, LoggingPeriod, Selectors, Trail, TrailCursor,
    TrailStatus, TRAIL_CURSOR_KIND, TRAIL_KIND, TRAIL_LOG_KIND, TRAIL_STATUS_KIND,
};
use bytes::Bytes;
use time::OffsetDateTime;

/// Objects in memory. `fail` makes every `put` fail; `crash_at` makes the n-th `put` (counting
/// from 1) write its object and then fail, as a deliverer killed right after its last write.
#[derive(Default)]
struct Mem {
    objects: Mutex<BTreeMap<(String, String), Bytes>>,
    fail: AtomicBool,
    crash_at: AtomicUsize,
    puts: AtomicUsize,
}

#[async_trait::async_trait]
impl ObjectStore for Mem {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        _: &Metadata,
    ) -> Result<(), ObjectError> {
        let n = self.puts.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail.load(Ordering::SeqCst) {
            return Err(ObjectError::Storage("connection refused".into()));
        }
        self.objects
            .lock()
            .unwrap()
            .insert((bucket.into(), key.into()), body);
        if self.crash_at.load(Ordering::SeqCst) == n {
            return Err(ObjectError::Storage(
                "connection reset after the write".into(),
            ));
        }
        Ok(())
    }
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        let body = self
            .objects
            .lock()
            .unwrap()
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
            .ok_or_else(|| ObjectError::NoSuchKey(key.into()))?;
        Ok(Object {
            meta: ObjectMeta {
                key: key.into(),
                size: body.len() as u64,
                last_modified: 0,
                etag: String::new(),
                metadata: Metadata::new(),
            },
            body,
        })
    }
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, ObjectError> {
        self.get(bucket, key).await.map(|o| o.meta)
    }
    async fn list(&self, _: &str, _: &ListRequest<'_>) -> Result<Listing, ObjectError> {
        Ok(Listing::default())
    }
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        self.objects
            .lock()
            .unwrap()
            .remove(&(bucket.to_string(), key.to_string()));
        Ok(())
    }
    async fn create_bucket(&self, _: &str) -> Result<(), ObjectError> {
        Ok(())
    }
    async fn bucket_exists(&self, _: &str) -> Result<bool, ObjectError> {
        Ok(true)
    }
    async fn list_buckets(&self) -> Result<Vec<String>, ObjectError> {
        Ok(vec![])
    }
}

impl Mem {
    fn snapshot(&self) -> BTreeMap<(String, String), Bytes> {
        self.objects.lock().unwrap().clone()
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";
const HOME: &str = "us-east-1";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/audit";
const NOW: i64 = 1_764_000_000;

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

fn trail() -> Trail {
    Trail {
        id: "incarnation-1".into(),
        name: "audit".into(),
        arn: ARN.into(),
        account_id: A.into(),
        home_region: HOME.into(),
        s3_bucket_name: "trail-bucket".into(),
        s3_key_prefix: None,
        sns_topic_name: None,
        include_global_service_events: true,
        is_multi_region_trail: true,
        is_organization_trail: false,
        organization_id: None,
        log_file_validation_enabled: true,
        kms_key_id: None,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        recursive_logging: None,
        is_logging: false,
        selectors: Selectors::Default,
        tags: vec![],
        created: NOW,
        start_logging_time: None,
        stop_logging_time: None,
        logging: vec![],
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    n: std::cell::Cell<u64>,
}

impl Setup {
    async fn new(t: Trail) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).unwrap();
        let arn = t.arn.clone();
        store
            .transact(move |tx| {
                let cursor = TrailCursor {
                    trail_id: t.id.clone(),
                    delivered: tx.last_seq()?,
                    pending: None,
                };
                tx.put(&Key::global(TRAIL_KIND, &arn), &t)?;
                tx.put(&Key::global(TRAIL_CURSOR_KIND, &arn), &cursor)
            })
            .await
            .unwrap();
        Setup {
            _dir: dir,
            store,
            n: std::cell::Cell::new(0),
        }
    }

    /// What `StartLogging` does to the trail: a period opened at the log's last sequence.
    async fn start(&self) {
        self.change(|t, last| {
            t.logging.push(LoggingPeriod {
                after: last,
                until: None,
            });
            t.is_logging = true;
        })
        .await;
    }

    /// What `StopLogging` does (its own record is the next append; here there is none).
    async fn stop(&self) {
        self.change(|t, last| {
            for p in t.logging.iter_mut().filter(|p| p.until.is_none()) {
                p.until = Some(last);
            }
            t.is_logging = false;
        })
        .await;
    }

    async fn change(&self, f: impl FnOnce(&mut Trail, u64) + Send + 'static) {
        self.store
            .transact(move |tx| {
                let key = Key::global(TRAIL_KIND, ARN);
                let mut t: Trail = tx.get(&key)?.unwrap();
                let last = tx.last_seq()?;
                f(&mut t, last);
                tx.put(&key, &t)
            })
            .await
            .unwrap();
    }

    /// Appends `count` records; returns their event ids.
    async fn calls(&self, account: &str, region: &str, source: &str, count: usize) -> Vec<String> {
        let mut events = Vec::new();
        for _ in 0..count {
            let n = self.n.get() + 1;
            self.n.set(n);
            let id = format!("00000000-0000-4000-8000-{n:012}");
            let time = NOW - 600 + n as i64;
            let record = serde_json::json!({
                "eventVersion": "1.11",
                "eventTime": billtrail_trail::file::iso_seconds(time),
                "eventSource": source,
                "eventName": "GetAddresses",
                "awsRegion": region,
                "eventID": id,
                "recipientAccountId": account,
                "padding": "x".repeat(200),
            })
            .to_string();
            events.push(NewEvent {
                account_id: account.into(),
                region: region.into(),
                event_time: time,
                event_id: id,
                event_name: "GetAddresses".into(),
                event_source: source.into(),
                read_only: true,
                username: None,
                access_key_id: None,
                resources: vec![],
                management: true,
                record,
            });
        }
        let ids = events.iter().map(|e| e.event_id.clone()).collect();
        self.store
            .transact(move |tx| events.iter().try_for_each(|e| tx.append(e).map(drop)))
            .await
            .unwrap();
        ids
    }

    fn cursor(&self) -> TrailCursor {
        self.store
            .get(&Key::global(TRAIL_CURSOR_KIND, ARN))
            .unwrap()
            .unwrap()
    }

    fn status(&self) -> TrailStatus {
        self.store
            .get(&Key::global(TRAIL_STATUS_KIND, ARN))
            .unwrap()
            .unwrap_or_default()
    }

    fn delivered_logs(&self) -> Vec<DeliveredLog> {
        self.store
            .read()
            .scan("", TRAIL_LOG_KIND)
            .unwrap()
            .into_iter()
            .map(|(_, v)| serde_json::from_str(&v).unwrap())
            .collect()
    }

    async fn deliver(
        &self,
        objects: &Mem,
        opts: &DeliveryOptions,
    ) -> billtrail_trail::DeliveryReport {
        deliver_once(&self.store, objects, opts, now())
            .await
            .unwrap()
    }

    /// Delivers until nothing is left.
    async fn drain(&self, objects: &Mem, opts: &DeliveryOptions) {
        for _ in 0..100 {
            let r = self.deliver(objects, opts).await;
            assert!(r.failures.is_empty(), "{:?}", r.failures);
            if !r.backlog {
                return;
            }
        }
        panic!("delivery never caught up");
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every event id in every object, with how often it appears.
fn event_ids(objects: &BTreeMap<(String, String), Bytes>) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for body in objects.values() {
        let json = gunzip(body);
        assert!(json.starts_with(b"{\"Records\":["), "Records first");
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 1, "Records is the only key");
        for r in v["Records"].as_array().unwrap() {
            *ids.entry(r["eventID"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    ids
}

fn once(ids: &[String]) -> BTreeMap<String, usize> {
    ids.iter().map(|i| (i.clone(), 1)).collect()
}

#[tokio::test]
async fn nothing_is_delivered_before_start_logging() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.calls(A, HOME, "billingconsole.amazonaws.com", 5).await;
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert_eq!(r.files, 0);
    assert!(mem.snapshot().is_empty());
    assert_eq!(mem.puts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn delivers_each_record_once_per_account_and_region() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.calls(A, HOME, "cloudtrail.amazonaws.com", 3).await; // before logging
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 10).await;
    want.extend(s.calls(A, "eu-west-1", "cloudtrail.amazonaws.com", 4).await);
    s.calls(B, HOME, "billingconsole.amazonaws.com", 2).await; // another account
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert_eq!((r.files, r.records, r.backlog), (2, 14, false));
    let objects = mem.snapshot();
    assert_eq!(event_ids(&objects), once(&want));
    let keys: Vec<&str> = objects.keys().map(|(_, k)| k.as_str()).collect();
    assert!(keys
        .iter()
        .any(|k| k.starts_with(&format!("AWSLogs/{A}/CloudTrail/eu-west-1/"))));
    assert!(keys
        .iter()
        .any(|k| k.starts_with(&format!("AWSLogs/{A}/CloudTrail/us-east-1/"))));
    let status = s.status();
    assert_eq!(status.latest_delivery_time, Some(NOW));
    assert_eq!(status.latest_delivery_error, None);
    // Log file validation is on: one entry per file, hashing the uncompressed JSON.
    let logs = s.delivered_logs();
    assert_eq!(logs.len(), 2);
    for log in &logs {
        let body = &objects[&("trail-bucket".to_string(), log.key.clone())];
        use sha2::Digest;
        assert_eq!(
            log.sha256_hex,
            hex::encode(sha2::Sha256::digest(gunzip(body)))
        );
        assert_eq!(log.trail_arn, ARN);
        assert_eq!(log.delivered_at, NOW);
        assert!(log.oldest_event_time <= log.newest_event_time);
    }
    // Nothing new: nothing written.
    let puts = mem.puts.load(Ordering::SeqCst);
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert_eq!(r.files, 0);
    assert_eq!(mem.puts.load(Ordering::SeqCst), puts);
}

#[tokio::test]
async fn a_crash_after_the_put_rewrites_the_same_objects() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 30).await;
    want.extend(
        s.calls(A, "ap-south-1", "cloudtrail.amazonaws.com", 5)
            .await,
    );
    let before = s.cursor();
    // Both objects of the batch (one per region) are written, then the deliverer "dies"
    // before its cursor moves.
    mem.crash_at.store(2, Ordering::SeqCst);
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert_eq!(r.failures.len(), 1);
    let first = mem.snapshot();
    assert_eq!(first.len(), 2);
    let after_crash = s.cursor();
    assert_eq!(
        after_crash.delivered, before.delivered,
        "the cursor did not move"
    );
    assert!(after_crash.pending.is_some(), "the batch is fixed");
    // More calls arrive before the retry: they must not change the retried batch.
    let later = s.calls(A, HOME, "billingconsole.amazonaws.com", 7).await;
    // A crash after the first object of the retry, then a clean retry.
    mem.crash_at.store(3, Ordering::SeqCst);
    assert_eq!(
        s.deliver(&mem, &DeliveryOptions::default())
            .await
            .failures
            .len(),
        1
    );
    assert_eq!(mem.snapshot(), first, "the same key, the same bytes");
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert!(r.failures.is_empty());
    assert_eq!(
        r.records, 35,
        "exactly the fixed batch, not the later calls"
    );
    let retried = mem.snapshot();
    assert_eq!(retried, first, "same keys, same bytes, no new object");
    s.drain(&mem, &DeliveryOptions::default()).await;
    want.extend(later);
    assert_eq!(
        event_ids(&mem.snapshot()),
        once(&want),
        "each event exactly once"
    );
    assert!(s.cursor().pending.is_none());
}

#[tokio::test]
async fn an_outage_is_recorded_and_caught_up() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 12).await;
    let before = s.cursor().delivered;
    mem.fail.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let r = s.deliver(&mem, &DeliveryOptions::default()).await;
        assert_eq!(r.failures.len(), 1);
        assert!(r.failures[0].error.contains("connection refused"));
        want.extend(s.calls(A, HOME, "billingconsole.amazonaws.com", 4).await);
    }
    assert_eq!(
        s.cursor().delivered,
        before,
        "the cursor stays during the outage"
    );
    let status = s.status();
    assert!(status
        .latest_delivery_error
        .as_deref()
        .is_some_and(|e| e.contains("connection refused")));
    assert_eq!(status.latest_delivery_attempt_time, Some(NOW));
    assert_eq!(status.latest_delivery_time, None);
    assert!(mem.snapshot().is_empty());
    // Storage is back: everything, once, and the error is cleared.
    mem.fail.store(false, Ordering::SeqCst);
    let opts = DeliveryOptions {
        batch_limit: 5,
        ..DeliveryOptions::default()
    };
    s.drain(&mem, &opts).await;
    assert_eq!(event_ids(&mem.snapshot()), once(&want));
    assert_eq!(s.status().latest_delivery_error, None);
    assert_eq!(s.status().latest_delivery_time, Some(NOW));
}

#[tokio::test]
async fn small_batches_and_files_still_deliver_everything_once() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    let want = s.calls(A, HOME, "billingconsole.amazonaws.com", 40).await;
    let opts = DeliveryOptions {
        batch_limit: 7,
        max_file_bytes: 1500,
        ..DeliveryOptions::default()
    };
    let r = s.deliver(&mem, &opts).await;
    assert!(r.backlog, "a full batch says more may follow");
    assert_eq!(r.records, 7);
    s.drain(&mem, &opts).await;
    let objects = mem.snapshot();
    assert_eq!(event_ids(&objects), once(&want));
    for body in objects.values() {
        assert!(gunzip(body).len() <= 1500);
    }
    assert!(objects.len() > 40 / 7);
}

#[tokio::test]
async fn stop_logging_ends_what_is_delivered() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 3).await;
    s.stop().await;
    s.calls(A, HOME, "billingconsole.amazonaws.com", 4).await; // not logging
    s.start().await;
    want.extend(s.calls(A, HOME, "billingconsole.amazonaws.com", 2).await);
    s.stop().await;
    s.calls(A, HOME, "billingconsole.amazonaws.com", 5).await;
    s.drain(&mem, &DeliveryOptions::default()).await;
    assert_eq!(event_ids(&mem.snapshot()), once(&want));
}

#[tokio::test]
async fn global_events_follow_the_trail_settings() {
    let mut t = trail();
    t.is_multi_region_trail = false;
    t.home_region = "us-west-2".into();
    let s = Setup::new(t).await;
    let mem = Mem::default();
    s.start().await;
    s.calls(A, HOME, "iam.amazonaws.com", 3).await; // global: us-east-1 only
    s.calls(A, "eu-west-1", "cloudtrail.amazonaws.com", 3).await; // another region
    let want = s.calls(A, "us-west-2", "cloudtrail.amazonaws.com", 2).await;
    s.drain(&mem, &DeliveryOptions::default()).await;
    assert_eq!(event_ids(&mem.snapshot()), once(&want));
}

#[tokio::test]
async fn organization_trails_use_the_organization_layout() {
    let mut t = trail();
    t.is_organization_trail = true;
    t.organization_id = Some("o-abc1234567".into());
    t.s3_key_prefix = Some("org-logs".into());
    t.log_file_validation_enabled = false;
    let s = Setup::new(t).await;
    // Organizations' membership documents (only `organization_id` is read).
    s.store
        .transact(|tx| {
            for (acct, org) in [
                (A, "o-abc1234567"),
                (B, "o-abc1234567"),
                ("333333333333", "o-other"),
            ] {
                tx.put_text(
                    &Key::global("org_account", acct),
                    &serde_json::json!({"account": {}, "organization_id": org}).to_string(),
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mem = Mem::default();
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 2).await;
    want.extend(s.calls(B, HOME, "billingconsole.amazonaws.com", 3).await);
    s.calls("333333333333", HOME, "billingconsole.amazonaws.com", 3)
        .await;
    s.drain(&mem, &DeliveryOptions::default()).await;
    let objects = mem.snapshot();
    assert_eq!(event_ids(&objects), once(&want));
    let accounts: BTreeSet<&str> = objects
        .keys()
        .map(|(_, k)| {
            assert!(k.starts_with("org-logs/AWSLogs/o-abc1234567/"), "{k}");
            k.split('/').nth(3).unwrap()
        })
        .collect();
    assert_eq!(accounts, [A, B].into());
    assert!(s.delivered_logs().is_empty(), "validation is off");
}

#[tokio::test]
async fn a_deleted_trail_delivers_nothing_more() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    s.calls(A, HOME, "billingconsole.amazonaws.com", 3).await;
    s.store
        .transact(|tx| {
            tx.delete(&Key::global(TRAIL_KIND, ARN))?;
            tx.delete(&Key::global(TRAIL_CURSOR_KIND, ARN))
        })
        .await
        .unwrap();
    let r = s.deliver(&mem, &DeliveryOptions::default()).await;
    assert_eq!(r.files, 0);
    assert!(mem.snapshot().is_empty());
}

/// A one-request-at-a-time HTTP server that answers 200 and hands over each request's body.
async fn webhook() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), String::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break (head.to_string(), body.to_string());
                    }
                }
            };
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
            let _ = tx.send((head, body));
        }
    });
    (url, rx)
}

async fn wait_for(s: &Setup, what: impl Fn(&TrailStatus) -> bool) -> TrailStatus {
    for _ in 0..100 {
        let st = s.status();
        if what(&st) {
            return st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the status never changed: {:?}", s.status());
}

#[tokio::test]
async fn notifications_go_to_the_topics_webhook() {
    let (url, mut requests) = webhook().await;
    let mut t = trail();
    t.sns_topic_name = Some("trail-topic".into());
    let s = Setup::new(t).await;
    let mem = Mem::default();
    s.start().await;
    s.calls(A, HOME, "billingconsole.amazonaws.com", 3).await;
    let opts = DeliveryOptions {
        notify: [("trail-topic".to_string(), url)].into(),
        ..DeliveryOptions::default()
    };
    s.drain(&mem, &opts).await;
    let (head, body) = tokio::time::timeout(std::time::Duration::from_secs(10), requests.recv())
        .await
        .expect("a notification")
        .expect("a request");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("x-amz-sns-message-type: notification"),
        "{head}"
    );
    assert!(head.contains("x-amz-sns-topic-arn: arn:aws:sns:us-east-1:111111111111:trail-topic"));
    let env: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(
        env["TopicArn"],
        "arn:aws:sns:us-east-1:111111111111:trail-topic"
    );
    let msg: serde_json::Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["s3Bucket"], "trail-bucket");
    let keys: Vec<String> = mem.snapshot().into_keys().map(|(_, k)| k).collect();
    assert_eq!(msg["s3ObjectKey"], serde_json::json!(keys));
    let st = wait_for(&s, |st| st.latest_notification_time.is_some()).await;
    assert_eq!(st.latest_notification_error, None);
}

#[tokio::test]
async fn a_topic_without_webhook_is_a_notification_error_not_a_delivery_error() {
    let mut t = trail();
    t.sns_topic_name = Some("arn:aws:sns:us-east-1:111111111111:nobody-listens".into());
    let s = Setup::new(t).await;
    let mem = Mem::default();
    s.start().await;
    let want = s.calls(A, HOME, "billingconsole.amazonaws.com", 2).await;
    s.drain(&mem, &DeliveryOptions::default()).await;
    assert_eq!(event_ids(&mem.snapshot()), once(&want));
    let st = wait_for(&s, |st| st.latest_notification_error.is_some()).await;
    assert!(st
        .latest_notification_error
        .as_deref()
        .is_some_and(|e| e.contains("nobody-listens")));
    assert_eq!(st.latest_delivery_error, None);
    assert!(st.latest_delivery_time.is_some());
}

#[tokio::test]
async fn a_pause_in_logging_is_skipped_not_read_through() {
    let s = Setup::new(trail()).await;
    let mem = Mem::default();
    s.start().await;
    let mut want = s.calls(A, HOME, "billingconsole.amazonaws.com", 2).await;
    s.stop().await;
    s.calls(A, HOME, "billingconsole.amazonaws.com", 50).await; // not logging
    s.start().await;
    want.extend(s.calls(A, HOME, "billingconsole.amazonaws.com", 3).await);
    let opts = DeliveryOptions {
        batch_limit: 5,
        ..DeliveryOptions::default()
    };
    // The first batch holds the two records of the first period and stops at the batch limit;
    // the next one starts after the pause, without reading the 50 records in it.
    let first = s.deliver(&mem, &opts).await;
    assert_eq!(first.records, 2);
    let second = s.deliver(&mem, &opts).await;
    assert_eq!((second.records, second.backlog), (3, false));
    assert_eq!(event_ids(&mem.snapshot()), once(&want));
}
