//! Digest chains end to end, over the real store and the real local object store: the worker
//! writes digests as log files are delivered, and validation accepts the chain and reports
//! every kind of tampering.

use std::sync::Arc;

use billtrail_auth::credentials::Vault;
use billtrail_digest::format::{self, gunzip, TrailLocation};
use billtrail_digest::validate::{validate, Report, ValidateOptions};
use billtrail_digest::worker::{chain_id, ChainState, CHAIN_KIND};
use billtrail_digest::{digest_once, public_keys, DigestOptions};
use billtrail_objects::{LocalStore, Metadata, ObjectStore};
use billtrail_store::{Key, Store};
use billtrail_trail::file::{log_key, Layout};
use billtrail_trail::{
    trail_log_id, DeliveredLog, LoggingPeriod, Selectors, Trail, TrailStatus, TRAIL_KIND,
    TRAIL_LOG_KIND, TRAIL_STATUS_KIND,
};
use bytes::Bytes;
use serde_json::{json, Value};
use time::OffsetDateTime;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-2";
const BUCKET: &str = "trail-bucket";
const INTERVAL: i64 = 3600;
/// 2026-01-05T10:00:00Z.
const T0: i64 = 1_767_607_200;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    objects: Arc<LocalStore>,
    vault: Vault,
    trail: Trail,
    seq: u64,
}

fn trail() -> Trail {
    Trail {
        id: "trail-1".into(),
        name: "my-trail".into(),
        arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/my-trail"),
        account_id: ACCOUNT.into(),
        home_region: REGION.into(),
        s3_bucket_name: BUCKET.into(),
        s3_key_prefix: Some("pre".into()),
        sns_topic_name: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        is_organization_trail: false,
        organization_id: None,
        log_file_validation_enabled: true,
        kms_key_id: None,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        recursive_logging: None,
        is_logging: true,
        selectors: Selectors::Default,
        tags: vec![],
        created: T0,
        start_logging_time: Some(T0),
        stop_logging_time: None,
        logging: vec![LoggingPeriod {
            after: 0,
            until: None,
        }],
    }
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("store")).unwrap();
        let objects = Arc::new(LocalStore::new(dir.path().join("buckets")));
        objects.create_bucket(BUCKET).await.unwrap();
        let f = Fixture {
            _dir: dir,
            store,
            objects,
            vault: Vault::new(&[9u8; 32]),
            trail: trail(),
            seq: 0,
        };
        f.save_trail().await;
        f
    }

    async fn save_trail(&self) {
        let t = self.trail.clone();
        self.store
            .transact(move |x| x.put(&Key::global(TRAIL_KIND, &t.arn), &t))
            .await
            .unwrap();
    }

    fn location(&self) -> TrailLocation {
        billtrail_digest::worker::trail_location(&self.trail, ACCOUNT, REGION)
    }

    /// Delivers one log file of `n` records at `when`, as delivery does: object first, then
    /// the delivered-log entry.
    async fn deliver(&mut self, when: i64, n: usize) -> String {
        self.seq += 1;
        let records: Vec<Value> = (0..n)
            .map(|i| json!({"eventVersion": "1.11", "eventTime": format::iso_unix(when - 30 + i as i64), "eventID": format!("e{}-{i}", self.seq)}))
            .collect();
        let body = serde_json::to_vec(&json!({ "Records": records })).unwrap();
        let unique = format!("{:016}", self.seq);
        let key = log_key(
            Layout {
                prefix: self.trail.s3_key_prefix.as_deref(),
                organization_id: None,
            },
            ACCOUNT,
            REGION,
            when - 30 + n as i64 - 1,
            &unique,
        );
        self.objects
            .put(
                BUCKET,
                &key,
                Bytes::from(format::gzip(&body)),
                &Metadata::new(),
            )
            .await
            .unwrap();
        let log = DeliveredLog {
            trail_arn: self.trail.arn.clone(),
            account_id: ACCOUNT.into(),
            region: REGION.into(),
            bucket: BUCKET.into(),
            key: key.clone(),
            sha256_hex: format::sha256_hex(&body),
            oldest_event_time: format::iso_unix(when - 30),
            newest_event_time: format::iso_unix(when - 30 + n as i64 - 1),
            delivered_at: when,
        };
        self.store
            .transact(move |x| x.put(&Key::global(TRAIL_LOG_KIND, &trail_log_id(&log)), &log))
            .await
            .unwrap();
        key
    }

    async fn digest(&self, now: i64) -> billtrail_digest::DigestReport {
        let opts = DigestOptions {
            interval: INTERVAL,
            ..DigestOptions::default()
        };
        digest_once(
            &self.store,
            self.objects.as_ref(),
            &self.vault,
            &opts,
            at(now),
        )
        .await
        .unwrap()
    }

    async fn digest_keys(&self) -> Vec<String> {
        billtrail_objects::list_all(
            self.objects.as_ref(),
            BUCKET,
            &self.location().digest_prefix(),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
    }

    async fn digest_json(&self, key: &str) -> (Value, Metadata) {
        let o = self.objects.get(BUCKET, key).await.unwrap();
        (
            serde_json::from_slice(&gunzip(&o.body).unwrap()).unwrap(),
            o.meta.metadata,
        )
    }

    async fn validate(&self, start: i64, end: i64) -> Report {
        let keys = public_keys(self.store.read().as_ref(), REGION, 0, i64::MAX / 2).unwrap();
        let opts = ValidateOptions::new(
            self.trail.arn.clone(),
            self.location(),
            at(start),
            at(end),
            keys,
        );
        validate(self.objects.as_ref(), &opts).await.unwrap()
    }

    /// A chain of four digests over four hours: logs in hours 1, 2 and 4, none in hour 3.
    async fn chain_of_four(&mut self) -> Vec<String> {
        let r = self.digest(T0).await;
        assert_eq!(r.chains_started, 1);
        let mut logs = vec![];
        logs.push(self.deliver(T0 + 600, 3).await);
        logs.push(self.deliver(T0 + 1800, 2).await);
        assert_eq!(
            self.digest(T0 + INTERVAL - 1).await.digests,
            0,
            "not due yet"
        );
        assert_eq!(self.digest(T0 + INTERVAL).await.digests, 1);
        logs.push(self.deliver(T0 + INTERVAL + 100, 1).await);
        self.digest(T0 + 2 * INTERVAL + 5).await;
        self.digest(T0 + 3 * INTERVAL + 5).await;
        logs.push(self.deliver(T0 + 3 * INTERVAL + 60, 4).await);
        self.digest(T0 + 4 * INTERVAL + 5).await;
        logs
    }
}

fn errors(r: &Report) -> Vec<String> {
    r.lines
        .iter()
        .filter(|l| l.error)
        .map(|l| l.text.clone())
        .collect()
}

fn rendered(r: &Report) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    r.write(&mut out, &mut err, true).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[tokio::test]
async fn a_chain_of_digests_validates_and_links() {
    let mut f = Fixture::new().await;
    let logs = f.chain_of_four().await;
    let keys = f.digest_keys().await;
    assert_eq!(keys.len(), 4, "{keys:#?}");
    assert_eq!(
        keys[0],
        "pre/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/01/05/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20260105T110000Z.json.gz"
    );

    // The starting digest: previous* null, both logs of the first hour, metadata signature.
    let (first, meta) = f.digest_json(&keys[0]).await;
    assert_eq!(first["digestStartTime"], "2026-01-05T10:00:00Z");
    assert_eq!(first["digestEndTime"], "2026-01-05T11:00:00Z");
    assert_eq!(first["digestS3Bucket"], BUCKET);
    assert_eq!(first["digestS3Object"], keys[0]);
    assert_eq!(first["digestSignatureAlgorithm"], "SHA256withRSA");
    for k in [
        "previousDigestS3Bucket",
        "previousDigestS3Object",
        "previousDigestHashValue",
        "previousDigestHashAlgorithm",
        "previousDigestSignature",
    ] {
        assert_eq!(first[k], Value::Null, "{k}");
    }
    let listed: Vec<&str> = first["logFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["s3Object"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![logs[0].as_str(), logs[1].as_str()]);
    assert_eq!(first["oldestEventTime"], "2026-01-05T10:09:30Z");
    assert_eq!(first["newestEventTime"], "2026-01-05T10:29:31Z");
    assert_eq!(
        meta.get("signature-algorithm").map(String::as_str),
        Some("SHA256withRSA")
    );
    assert_eq!(meta.get("signature").map(String::len), Some(512));

    // The empty hour: no log files, null event times, linked to the one before.
    let (second, second_meta) = f.digest_json(&keys[1]).await;
    let (third, _) = f.digest_json(&keys[2]).await;
    assert_eq!(third["logFiles"], json!([]));
    assert_eq!(third["newestEventTime"], Value::Null);
    assert_eq!(third["oldestEventTime"], Value::Null);
    assert_eq!(third["previousDigestS3Object"], keys[1]);
    assert_eq!(third["digestStartTime"], second["digestEndTime"]);
    let raw = f.objects.get(BUCKET, &keys[1]).await.unwrap();
    assert_eq!(
        third["previousDigestHashValue"],
        format::sha256_hex(&gunzip(&raw.body).unwrap())
    );
    assert_eq!(third["previousDigestHashAlgorithm"], "SHA-256");
    assert_eq!(
        third["previousDigestSignature"].as_str(),
        second_meta.get("signature").map(String::as_str)
    );

    // Everything sealed is gone from the store; the status shows the delivery.
    assert!(f.store.read().scan("", TRAIL_LOG_KIND).unwrap().is_empty());
    let status: TrailStatus = f
        .store
        .get(&Key::global(TRAIL_STATUS_KIND, &f.trail.arn))
        .unwrap()
        .unwrap();
    assert_eq!(
        status.latest_digest_delivery_time,
        Some(T0 + 4 * INTERVAL + 5)
    );
    assert_eq!(status.latest_digest_delivery_error, None);

    let r = f.validate(T0, T0 + 4 * INTERVAL + 10).await;
    assert!(r.is_valid(), "{:#?}", errors(&r));
    assert_eq!((r.valid_digests, r.invalid_digests), (4, 0));
    assert_eq!((r.valid_logs, r.invalid_logs), (4, 0));
    assert_eq!((r.links_valid, r.links_invalid), (3, 0));
    assert_eq!(r.bucket_logs_checked, 4);
    let (out, err) = rendered(&r);
    assert!(err.is_empty(), "{err}");
    assert!(
        out.contains("\n4/4 digest files valid\n4/4 log files valid\n"),
        "{out}"
    );
    assert!(out.starts_with(&format!(
        "Validating log files for trail {} between 2026-01-05T10:00:00Z and 2026-01-05T14:00:10Z\n\n",
        f.trail.arn
    )));
    assert!(
        out.contains("Results found for 2026-01-05T10:00:00Z to 2026-01-05T14:00:00Z:"),
        "{out}"
    );
    assert!(out.contains(&format!("Digest file\ts3://{BUCKET}/{}\tvalid\n", keys[3])));
    assert!(out.contains(&format!("Log file\ts3://{BUCKET}/{}\tvalid\n", logs[3])));

    // A range in the middle: the CLI's listing window and walk.
    let r = f.validate(T0 + INTERVAL + 10, T0 + 2 * INTERVAL + 10).await;
    assert!(r.is_valid(), "{:#?}", errors(&r));
    assert_eq!(
        r.valid_digests, 2,
        "newest first, back to the one that starts before start"
    );
}

#[tokio::test]
async fn the_public_key_is_pkcs1_der_fingerprinted_by_md5() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = public_keys(f.store.read().as_ref(), REGION, T0, T0).unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(&k.value)
        .unwrap();
    assert_eq!(k.fingerprint, billtrail_digest::keys::fingerprint(&der));
    assert!(k.value.starts_with("MIIBCgKCAQEA"));
    assert!(k.validity_start <= T0 && k.validity_end >= k.validity_start + 31 * 86_400);
    let (d, _) = f.digest_json(&f.digest_keys().await[0]).await;
    assert_eq!(d["digestPublicKeyFingerprint"], k.fingerprint);
    // Other regions have no key, and the store keeps the private half only sealed.
    assert!(
        public_keys(f.store.read().as_ref(), "eu-west-1", 0, i64::MAX / 2)
            .unwrap()
            .is_empty()
    );
    let stored = f
        .store
        .read()
        .scan("", billtrail_digest::keys::KEY_KIND)
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].1.contains("MIIE"),
        "no plain private key at rest"
    );
}

#[tokio::test]
async fn a_modified_log_file_is_reported() {
    let mut f = Fixture::new().await;
    let logs = f.chain_of_four().await;
    let o = f.objects.get(BUCKET, &logs[1]).await.unwrap();
    let mut body = gunzip(&o.body).unwrap();
    body[20] ^= 1;
    f.objects
        .put(
            BUCKET,
            &logs[1],
            Bytes::from(format::gzip(&body)),
            &Metadata::new(),
        )
        .await
        .unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert!(!r.is_valid());
    assert_eq!((r.valid_logs, r.invalid_logs), (3, 1));
    assert_eq!(
        errors(&r),
        vec![format!(
            "Log file\ts3://{BUCKET}/{}\tINVALID: hash value doesn't match",
            logs[1]
        )]
    );
    let (out, _) = rendered(&r);
    assert!(
        out.contains("\n3/4 log files valid, 1/4 log files INVALID"),
        "{out}"
    );
}

#[tokio::test]
async fn a_deleted_log_file_is_reported() {
    let mut f = Fixture::new().await;
    let logs = f.chain_of_four().await;
    f.objects.delete(BUCKET, &logs[2]).await.unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(
        errors(&r),
        vec![format!(
            "Log file\ts3://{BUCKET}/{}\tINVALID: not found",
            logs[2]
        )]
    );
}

#[tokio::test]
async fn a_deleted_digest_is_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = f.digest_keys().await;
    f.objects.delete(BUCKET, &keys[2]).await.unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!((r.valid_digests, r.invalid_digests), (3, 1));
    assert_eq!(r.inferred_missing_digests, 0);
    assert_eq!(
        errors(&r),
        vec![format!(
            "Digest file\ts3://{BUCKET}/{}\tINVALID: not found",
            keys[2]
        )]
    );
}

/// The CLI reports only the first of two consecutive deleted digests (it jumps to the next
/// listed one); billtrail infers the second from the chain's cadence.
#[tokio::test]
async fn two_consecutive_deleted_digests_are_both_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = f.digest_keys().await;
    f.objects.delete(BUCKET, &keys[1]).await.unwrap();
    f.objects.delete(BUCKET, &keys[2]).await.unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(r.inferred_missing_digests, 1);
    assert_eq!((r.valid_digests, r.invalid_digests), (2, 2));
    let errs = errors(&r);
    assert!(
        errs.contains(&format!(
            "Digest file\ts3://{BUCKET}/{}\tINVALID: not found",
            keys[2]
        )),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.starts_with(&format!(
            "Digest file\ts3://{BUCKET}/{}\tINVALID: not found (inferred",
            keys[1]
        ))),
        "{errs:#?}"
    );
}

#[tokio::test]
async fn a_moved_digest_is_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = f.digest_keys().await;
    let o = f.objects.get(BUCKET, &keys[3]).await.unwrap();
    let moved = keys[3].replace("T140000Z", "T140001Z");
    assert_ne!(moved, keys[3]);
    f.objects
        .put(BUCKET, &moved, o.body, &o.meta.metadata)
        .await
        .unwrap();
    f.objects.delete(BUCKET, &keys[3]).await.unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(
        errors(&r),
        vec![format!("Digest file\ts3://{BUCKET}/{moved}\tINVALID: has been moved from its original location")]
    );
    assert_eq!((r.valid_digests, r.invalid_digests), (3, 1));
}

#[tokio::test]
async fn a_digest_signed_by_an_unknown_key_is_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = f.digest_keys().await;
    let (mut d, meta) = f.digest_json(&keys[3]).await;
    let other = billtrail_digest::keys::generate(&f.vault, REGION, 0, i64::MAX / 2, 0).unwrap();
    let signer = billtrail_digest::keys::signer(&f.vault, &other).unwrap();
    d["digestPublicKeyFingerprint"] = json!(other.fingerprint);
    let body = serde_json::to_vec(&d).unwrap();
    let sig = signer.sign_hex(&format::string_to_sign(
        d["digestEndTime"].as_str().unwrap(),
        BUCKET,
        &keys[3],
        &format::sha256_hex(&body),
        d["previousDigestSignature"].as_str(),
    ));
    let mut meta = meta;
    meta.insert("signature".into(), sig);
    f.objects
        .put(BUCKET, &keys[3], Bytes::from(format::gzip(&body)), &meta)
        .await
        .unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(
        errors(&r)[0],
        format!(
            "Digest file\ts3://{BUCKET}/{}\tINVALID: public key not found in region {REGION} for fingerprint {}",
            keys[3], other.fingerprint
        )
    );

    // The same digest claiming the real key's fingerprint fails its signature instead.
    let (real, _) = f.digest_json(&keys[2]).await;
    d["digestPublicKeyFingerprint"] = real["digestPublicKeyFingerprint"].clone();
    let body = serde_json::to_vec(&d).unwrap();
    f.objects
        .put(BUCKET, &keys[3], Bytes::from(format::gzip(&body)), &meta)
        .await
        .unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(
        errors(&r)[0],
        format!(
            "Digest file\ts3://{BUCKET}/{}\tINVALID: signature verification failed",
            keys[3]
        )
    );
}

#[tokio::test]
async fn an_unreferenced_log_file_is_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let extra = log_key(
        Layout {
            prefix: Some("pre"),
            organization_id: None,
        },
        ACCOUNT,
        REGION,
        T0 + 2 * INTERVAL + 1200,
        "AAAAAAAAAAAAAAAA",
    );
    f.objects
        .put(
            BUCKET,
            &extra,
            Bytes::from(format::gzip(b"{\"Records\":[]}")),
            &Metadata::new(),
        )
        .await
        .unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(
        (r.valid_digests, r.valid_logs, r.invalid_logs),
        (4, 4, 0),
        "the CLI's checks pass"
    );
    assert_eq!(r.bucket_logs_unreferenced, 1);
    assert!(!r.is_valid());
    assert_eq!(
        errors(&r),
        vec![format!(
            "Log file\ts3://{BUCKET}/{extra}\tINVALID: not referenced by any digest"
        )]
    );
    let (out, _) = rendered(&r);
    assert!(out.contains("4/5 log files in the bucket referenced by a digest, 1/5 log files in the bucket UNREFERENCED"), "{out}");
}

#[tokio::test]
async fn a_tampered_chain_link_is_reported() {
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = f.digest_keys().await;
    // Re-sign digest 2 with the real key but a wrong previousDigestHashValue: its signature
    // is valid, so only the chain check sees it.
    let (mut d, mut meta) = f.digest_json(&keys[2]).await;
    d["previousDigestHashValue"] = json!("00".repeat(32));
    let body = serde_json::to_vec(&d).unwrap();
    let stored = f
        .store
        .read()
        .scan("", billtrail_digest::keys::KEY_KIND)
        .unwrap();
    let k: billtrail_digest::keys::StoredKey = serde_json::from_str(&stored[0].1).unwrap();
    let signer = billtrail_digest::keys::signer(&f.vault, &k).unwrap();
    meta.insert(
        "signature".into(),
        signer.sign_hex(&format::string_to_sign(
            d["digestEndTime"].as_str().unwrap(),
            BUCKET,
            &keys[2],
            &format::sha256_hex(&body),
            d["previousDigestSignature"].as_str(),
        )),
    );
    f.objects
        .put(BUCKET, &keys[2], Bytes::from(format::gzip(&body)), &meta)
        .await
        .unwrap();
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert_eq!(r.valid_digests, 4, "every signature is valid");
    let errs = errors(&r);
    // Digest 3 now points at a digest whose signature changed; digest 2's own pointer lies.
    assert!(errs.contains(&format!("Digest file\ts3://{BUCKET}/{}\tINVALID: previousDigestHashValue doesn't match s3://{BUCKET}/{}", keys[2], keys[1])), "{errs:#?}");
    assert!(
        errs.iter()
            .any(|e| e.contains(&keys[3]) && e.contains("previousDigestSignature doesn't match")),
        "{errs:#?}"
    );
    assert_eq!(r.links_invalid, 2);
}

#[tokio::test]
async fn stop_and_start_logging_end_and_restart_the_chain() {
    let mut f = Fixture::new().await;
    f.digest(T0).await;
    f.deliver(T0 + 100, 2).await;
    f.digest(T0 + INTERVAL).await;
    f.deliver(T0 + INTERVAL + 100, 1).await;
    // StopLogging at +1h5m: delivery has flushed (no cursor needed: the period is closed and
    // the stop is long past the grace), the final digest covers up to now.
    f.trail.is_logging = false;
    f.trail.stop_logging_time = Some(T0 + INTERVAL + 300);
    f.trail.logging = vec![LoggingPeriod {
        after: 0,
        until: Some(0),
    }];
    f.save_trail().await;
    let r = f.digest(T0 + INTERVAL + 400).await;
    assert_eq!((r.digests, r.chains_ended, r.log_files), (1, 1, 1));
    let keys = f.digest_keys().await;
    let (last, _) = f.digest_json(&keys[1]).await;
    assert_eq!(last["digestEndTime"], "2026-01-05T11:06:40Z");
    assert_eq!(last["previousDigestS3Object"], keys[0]);
    // Stopped: nothing more, however long.
    assert_eq!(f.digest(T0 + 5 * INTERVAL).await.digests, 0);

    // StartLogging again at +6h: a starting digest, previous* null.
    f.trail.is_logging = true;
    f.trail.start_logging_time = Some(T0 + 6 * INTERVAL);
    f.trail.logging.push(LoggingPeriod {
        after: 0,
        until: None,
    });
    f.save_trail().await;
    assert_eq!(f.digest(T0 + 6 * INTERVAL).await.chains_started, 1);
    f.deliver(T0 + 6 * INTERVAL + 60, 1).await;
    f.digest(T0 + 7 * INTERVAL).await;
    let keys = f.digest_keys().await;
    assert_eq!(keys.len(), 3);
    let (restart, _) = f.digest_json(&keys[2]).await;
    assert_eq!(restart["previousDigestSignature"], Value::Null);
    assert_eq!(restart["digestStartTime"], "2026-01-05T16:00:00Z");

    let r = f.validate(T0, T0 + 7 * INTERVAL).await;
    assert!(r.is_valid(), "{:#?}", errors(&r));
    assert_eq!((r.valid_digests, r.valid_logs), (3, 3));
    // The CLI's gap notice, on stderr, is not a failure.
    assert_eq!(
        errors(&r),
        vec!["No log files were delivered by CloudTrail between 2026-01-05T11:06:40Z and 2026-01-05T16:00:00Z".to_string()]
    );
}

#[tokio::test]
async fn turning_validation_off_ends_the_chain_and_deleting_the_trail_forgets_it() {
    let mut f = Fixture::new().await;
    f.digest(T0).await;
    f.deliver(T0 + 100, 2).await;
    f.trail.log_file_validation_enabled = false;
    f.save_trail().await;
    let r = f.digest(T0 + 200).await;
    assert_eq!((r.digests, r.chains_ended, r.log_files), (1, 1, 1));
    // Logs delivered while validation is off get no digest.
    assert_eq!(f.digest(T0 + 3 * INTERVAL).await.digests, 0);
    // On again: a new chain.
    f.trail.log_file_validation_enabled = true;
    f.save_trail().await;
    assert_eq!(f.digest(T0 + 4 * INTERVAL).await.chains_started, 1);
    f.deliver(T0 + 4 * INTERVAL + 10, 1).await;
    // Deleted: a final digest, and the chain state is dropped.
    let arn = f.trail.arn.clone();
    f.store
        .transact(move |x| x.delete(&Key::global(TRAIL_KIND, &arn)).map(|_| ()))
        .await
        .unwrap();
    let r = f.digest(T0 + 4 * INTERVAL + 20).await;
    assert_eq!((r.digests, r.chains_ended, r.log_files), (1, 1, 1));
    assert!(f.store.read().scan("", CHAIN_KIND).unwrap().is_empty());
    assert_eq!(f.digest_keys().await.len(), 2);
    let r = f.validate(T0, T0 + 5 * INTERVAL).await;
    assert!(r.is_valid(), "{:#?}", errors(&r));
    assert_eq!((r.valid_digests, r.valid_logs), (2, 2));
}

/// A crash after the digest object is written but before the chain state commits: the next
/// step re-signs the same period under the same key, and the chain stays valid.
#[tokio::test]
async fn a_crash_before_the_chain_state_commits_re_signs_the_same_period() {
    let mut f = Fixture::new().await;
    f.digest(T0).await;
    f.deliver(T0 + 100, 2).await;
    let id = chain_id(&f.trail.arn, ACCOUNT, REGION);
    let before: ChainState = f.store.get(&Key::global(CHAIN_KIND, &id)).unwrap().unwrap();
    let entries = f.store.read().scan("", TRAIL_LOG_KIND).unwrap();
    f.digest(T0 + INTERVAL).await;
    let first = f.digest_keys().await;
    // Undo the commit: the chain state and the sealed entries as they were.
    let (id2, before2, entries2) = (id.clone(), before.clone(), entries.clone());
    f.store
        .transact(move |x| {
            x.put(&Key::global(CHAIN_KIND, &id2), &before2)?;
            for (k, v) in &entries2 {
                x.put_text(&Key::global(TRAIL_LOG_KIND, k), v)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    f.deliver(T0 + INTERVAL - 10, 1).await;
    assert_eq!(f.digest(T0 + INTERVAL + 30).await.digests, 1);
    assert_eq!(f.digest_keys().await, first, "the same key, rewritten");
    f.digest(T0 + 2 * INTERVAL).await;
    let r = f.validate(T0, T0 + 2 * INTERVAL).await;
    assert!(r.is_valid(), "{:#?}", errors(&r));
    assert_eq!((r.valid_digests, r.valid_logs), (2, 2));
}

#[tokio::test]
async fn a_bucket_outage_is_retried_and_shown_in_the_status() {
    let mut f = Fixture::new().await;
    f.digest(T0).await;
    f.deliver(T0 + 100, 1).await;
    // The bucket disappears: the digest fails, the status says why, nothing is lost.
    f.trail.s3_bucket_name = "gone-bucket".into();
    f.save_trail().await;
    let r = f.digest(T0 + INTERVAL).await;
    assert_eq!(r.digests, 0);
    assert_eq!(r.failures.len(), 1);
    let status: TrailStatus = f
        .store
        .get(&Key::global(TRAIL_STATUS_KIND, &f.trail.arn))
        .unwrap()
        .unwrap();
    assert!(status.latest_digest_delivery_error.is_some());
    assert_eq!(f.store.read().scan("", TRAIL_LOG_KIND).unwrap().len(), 1);
    f.objects.create_bucket("gone-bucket").await.unwrap();
    let r = f.digest(T0 + INTERVAL + 60).await;
    assert_eq!((r.digests, r.log_files), (1, 1));
    let status: TrailStatus = f
        .store
        .get(&Key::global(TRAIL_STATUS_KIND, &f.trail.arn))
        .unwrap()
        .unwrap();
    assert_eq!(status.latest_digest_delivery_error, None);
}

/// Writes a chain of four digests to `$BILLTRAIL_DIGEST_EXPORT` (bucket folder and public
/// keys) for checking with awscli's own validator classes; does nothing without it.
#[tokio::test]
async fn export_a_chain_for_awscli() {
    let Ok(dir) = std::env::var("BILLTRAIL_DIGEST_EXPORT") else {
        return;
    };
    let mut f = Fixture::new().await;
    f.chain_of_four().await;
    let keys = public_keys(f.store.read().as_ref(), REGION, 0, i64::MAX / 2).unwrap();
    let out = std::path::Path::new(&dir);
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("keys.json"), serde_json::to_vec(&keys).unwrap()).unwrap();
    for o in billtrail_objects::list_all(f.objects.as_ref(), BUCKET, "")
        .await
        .unwrap()
    {
        let obj = f.objects.get(BUCKET, &o.key).await.unwrap();
        let p = out.join("bucket").join(&o.key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &obj.body).unwrap();
        std::fs::write(
            p.with_extension("gz.meta"),
            serde_json::to_vec(&obj.meta.metadata).unwrap(),
        )
        .unwrap();
    }
}
