//! Log files: grouping a batch per (account, region), splitting by size, the JSON and gzip
//! encoding, and the object keys.
//!
//! Everything here is a pure function of the batch, so delivering the same batch twice makes
//! byte-identical objects under identical keys:
//! - the file's timestamp (key and folder date) is the newest `eventTime` among its records,
//!   never the wall clock;
//! - the 16-character unique string is a hash of the trail ARN, the account, the region, the
//!   batch's sequence range and the part number;
//! - gzip headers carry no time or name.

use std::collections::BTreeMap;
use std::io::Write;

use billtrail_store::StoredEvent;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// `{"Records":[` and `]}`: `Records` is the first and only key, as AWS's own reader
/// (the CloudTrail processing library) requires.
const HEAD: &[u8] = b"{\"Records\":[";
const TAIL: &[u8] = b"]}";

/// The gzip level: zlib's default, a balance of speed and size.
const LEVEL: u32 = 6;

/// A batch's identity: its trail and sequence range `(after, last]`.
#[derive(Debug, Clone, Copy)]
pub struct BatchId<'a> {
    pub trail_arn: &'a str,
    pub after: u64,
    pub last: u64,
}

/// Where a trail's files go.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    pub prefix: Option<&'a str>,
    /// The `o-…` id for an organization trail.
    pub organization_id: Option<&'a str>,
}

/// One log file, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub account_id: String,
    pub region: String,
    pub key: String,
    /// The gzip object.
    pub body: Bytes,
    /// Hex SHA-256 of the uncompressed JSON.
    pub sha256_hex: String,
    /// Unix seconds.
    pub oldest_event_time: i64,
    pub newest_event_time: i64,
    pub records: usize,
}

/// Groups the selected records of a batch per (account, region), in sequence order within
/// each, splits every group so that no file's JSON exceeds `max_bytes` (a record bigger than
/// that gets a file of its own), and encodes the files.
pub fn build_files(
    batch: BatchId<'_>,
    layout: Layout<'_>,
    selected: &[&StoredEvent],
    max_bytes: usize,
) -> Vec<LogFile> {
    let mut groups: BTreeMap<(&str, &str), Vec<&StoredEvent>> = BTreeMap::new();
    for ev in selected {
        groups
            .entry((ev.event.account_id.as_str(), ev.event.region.as_str()))
            .or_default()
            .push(ev);
    }
    let mut out = Vec::new();
    for ((account, region), mut records) in groups {
        records.sort_by_key(|e| e.seq);
        for (part, chunk) in split(&records, max_bytes).into_iter().enumerate() {
            out.push(encode_file(batch, layout, account, region, part, chunk));
        }
    }
    out
}

/// Consecutive runs of records whose encoded file stays within `max_bytes`.
fn split<'a, 'b>(records: &'b [&'a StoredEvent], max_bytes: usize) -> Vec<&'b [&'a StoredEvent]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut size = HEAD.len() + TAIL.len();
    for (i, ev) in records.iter().enumerate() {
        let add = ev.event.record.len() + usize::from(i > start);
        if i > start && size + add > max_bytes {
            parts.push(&records[start..i]);
            start = i;
            size = HEAD.len() + TAIL.len() + ev.event.record.len();
        } else {
            size += add;
        }
    }
    if start < records.len() {
        parts.push(&records[start..]);
    }
    parts
}

fn encode_file(
    batch: BatchId<'_>,
    layout: Layout<'_>,
    account: &str,
    region: &str,
    part: usize,
    records: &[&StoredEvent],
) -> LogFile {
    let json = records_json(records.iter().map(|e| e.event.record.as_str()));
    let oldest = records
        .iter()
        .map(|e| e.event.event_time)
        .min()
        .unwrap_or(0);
    let newest = records
        .iter()
        .map(|e| e.event.event_time)
        .max()
        .unwrap_or(0);
    let unique = unique_string(batch, account, region, part);
    LogFile {
        account_id: account.to_string(),
        region: region.to_string(),
        key: log_key(layout, account, region, newest, &unique),
        body: Bytes::from(gzip(&json)),
        sha256_hex: hex::encode(Sha256::digest(&json)),
        oldest_event_time: oldest,
        newest_event_time: newest,
        records: records.len(),
    }
}

/// `{"Records":[r1,r2,...]}` with each record copied verbatim.
pub fn records_json<'a>(records: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::from(HEAD);
    for (i, r) in records.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.as_bytes());
    }
    out.extend_from_slice(TAIL);
    out
}

/// A single-member gzip stream of `data`, with no name and a zero modification time, so equal
/// inputs give equal bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        Compression::new(LEVEL),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// 16 characters of `[A-Za-z0-9]`, derived from the batch, the group and the part.
pub fn unique_string(batch: BatchId<'_>, account: &str, region: &str, part: usize) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = Sha256::new();
    for field in [
        batch.trail_arn.as_bytes(),
        account.as_bytes(),
        region.as_bytes(),
        &batch.after.to_be_bytes(),
        &batch.last.to_be_bytes(),
        &(part as u64).to_be_bytes(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    let digest = h.finalize();
    // 16 base-62 digits of the first 128 bits.
    let mut n = u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]));
    let mut out = String::with_capacity(16);
    for _ in 0..16 {
        out.push(char::from(ALPHABET[(n % 62) as usize]));
        n /= 62;
    }
    out
}

/// `[prefix/]AWSLogs/[o-id/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz`.
pub fn log_key(layout: Layout<'_>, account: &str, region: &str, time: i64, unique: &str) -> String {
    let t = OffsetDateTime::from_unix_timestamp(time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let mut key = String::new();
    if let Some(p) = layout.prefix.filter(|p| !p.is_empty()) {
        key.push_str(p);
        key.push('/');
    }
    key.push_str("AWSLogs/");
    if let Some(o) = layout.organization_id {
        key.push_str(o);
        key.push('/');
    }
    key.push_str(&format!(
        "{account}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{:02}{:02}Z_{unique}.json.gz",
        t.hour(),
        t.minute()
    ));
    key
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_seconds(time: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use billtrail_store::NewEvent;
    use std::io::Read;

    /// The key pattern of `shared/acceptance/trails`; its unique string also satisfies the
    /// CloudTrail processing library's `[\w]+`.
    const ACCEPTANCE: &str = r"AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d\d/\d\d/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$";

    fn matches_acceptance(key: &str) -> bool {
        regex::Regex::new(ACCEPTANCE).expect("regex").is_match(key)
    }

    fn ev(seq: u64, account: &str, region: &str, time: i64, record: &str) -> StoredEvent {
        StoredEvent {
            seq,
            event: NewEvent {
                account_id: account.into(),
                region: region.into(),
                event_time: time,
                event_id: format!("id-{seq}"),
                event_name: "GetAddresses".into(),
                event_source: "billingconsole.amazonaws.com".into(),
                read_only: true,
                username: None,
                access_key_id: None,
                resources: vec![],
                management: true,
                record: record.into(),
            },
        }
    }

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/t";
    const BATCH: BatchId<'static> = BatchId {
        trail_arn: ARN,
        after: 5,
        last: 90,
    };
    const PLAIN: Layout<'static> = Layout {
        prefix: None,
        organization_id: None,
    };

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip");
        out
    }

    #[test]
    fn keys_have_aws_layout() {
        // 2015-08-01T02:10:59Z
        let k = log_key(
            PLAIN,
            "111122223333",
            "us-east-2",
            1_438_395_059,
            "Mu0KsOhtH1ar15ZZ",
        );
        assert_eq!(
            k,
            "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
        );
        assert!(matches_acceptance(&k));
        let org = Layout {
            prefix: Some("o-fxozgwu6rc"),
            organization_id: Some("o-fxozgwu6rc"),
        };
        let k = log_key(
            org,
            "123456789016",
            "ca-central-1",
            1_598_750_100,
            "3YQJxwt5qUaOzMtL",
        );
        assert_eq!(
            k,
            "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789016/CloudTrail/ca-central-1/2020/08/30/123456789016_CloudTrail_ca-central-1_20200830T0115Z_3YQJxwt5qUaOzMtL.json.gz"
        );
        let prefixed = Layout {
            prefix: Some("logs/prod"),
            organization_id: None,
        };
        assert!(
            log_key(prefixed, "111122223333", "eu-west-1", 0, "AAAAAAAAAAAAAAAA")
                .starts_with("logs/prod/AWSLogs/111122223333/CloudTrail/eu-west-1/1970/01/01/")
        );
    }

    #[test]
    fn unique_strings_are_16_alnum_and_depend_on_the_batch() {
        let u = unique_string(BATCH, "111111111111", "us-east-1", 0);
        assert_eq!(u.len(), 16);
        assert!(u.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(u, unique_string(BATCH, "111111111111", "us-east-1", 0));
        let others = [
            unique_string(BATCH, "111111111111", "us-east-1", 1),
            unique_string(BATCH, "111111111112", "us-east-1", 0),
            unique_string(BATCH, "111111111111", "us-east-2", 0),
            unique_string(
                BatchId { last: 91, ..BATCH },
                "111111111111",
                "us-east-1",
                0,
            ),
            unique_string(
                BatchId { after: 6, ..BATCH },
                "111111111111",
                "us-east-1",
                0,
            ),
            unique_string(
                BatchId {
                    trail_arn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/u",
                    ..BATCH
                },
                "111111111111",
                "us-east-1",
                0,
            ),
        ];
        for o in &others {
            assert_ne!(&u, o);
        }
    }

    #[test]
    fn files_group_per_account_and_region() {
        let evs = [
            ev(6, "111111111111", "us-east-1", 100, r#"{"a":1}"#),
            ev(7, "222222222222", "us-east-1", 200, r#"{"a":2}"#),
            ev(8, "111111111111", "eu-west-1", 300, r#"{"a":3}"#),
            ev(9, "111111111111", "us-east-1", 50, r#"{"a":4}"#),
        ];
        let refs: Vec<&StoredEvent> = evs.iter().collect();
        let files = build_files(BATCH, PLAIN, &refs, 1 << 20);
        assert_eq!(files.len(), 3);
        let f = files
            .iter()
            .find(|f| f.account_id == "111111111111" && f.region == "us-east-1")
            .expect("group");
        assert_eq!(gunzip(&f.body), br#"{"Records":[{"a":1},{"a":4}]}"#);
        assert_eq!(
            (f.oldest_event_time, f.newest_event_time, f.records),
            (50, 100, 2)
        );
        assert_eq!(
            f.sha256_hex,
            hex::encode(Sha256::digest(br#"{"Records":[{"a":1},{"a":4}]}"#))
        );
        assert!(
            f.key.contains("_19700101T0001Z_"),
            "newest record's time: {}",
            f.key
        );
        for f in &files {
            assert!(matches_acceptance(&f.key), "{}", f.key);
            assert!(f.key.contains(&format!(
                "AWSLogs/{}/CloudTrail/{}/",
                f.account_id, f.region
            )));
        }
        assert_eq!(
            files,
            build_files(BATCH, PLAIN, &refs, 1 << 20),
            "deterministic"
        );
    }

    #[test]
    fn gzip_is_one_member_with_records_first() {
        let body = gzip(br#"{"Records":[]}"#);
        assert_eq!(&body[..3], &[0x1f, 0x8b, 8], "gzip magic, deflate");
        assert_eq!(&body[4..8], &[0, 0, 0, 0], "no modification time");
        // One member: a single-member decoder consumes every byte.
        let mut dec = flate2::read::GzDecoder::new(&body[..]);
        let mut out = Vec::new();
        dec.read_to_end(&mut out).expect("gzip");
        assert_eq!(out, br#"{"Records":[]}"#);
        let total = body.len();
        let mut member = flate2::bufread::GzDecoder::new(&body[..]);
        std::io::copy(&mut member, &mut std::io::sink()).expect("member");
        assert_eq!(
            member.into_inner().len(),
            0,
            "nothing after the first member of {total}"
        );
        let json = records_json(["{\"eventID\":\"x\"}", "{}"].into_iter());
        assert!(json.starts_with(b"{\"Records\":[{\"eventID\""));
        let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1));
    }

    #[test]
    fn files_split_at_max_bytes() {
        let rec = format!("{{\"p\":\"{}\"}}", "x".repeat(90)); // 100 bytes
        let evs: Vec<StoredEvent> = (0..10)
            .map(|i| ev(10 + i, "111111111111", "us-east-1", 1000 + i as i64, &rec))
            .collect();
        let refs: Vec<&StoredEvent> = evs.iter().collect();
        // Head and tail are 14 bytes; three records with commas are 302: 316 fits in 320.
        let files = build_files(BATCH, PLAIN, &refs, 320);
        let sizes: Vec<usize> = files.iter().map(|f| f.records).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let mut keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 4, "one key per part");
        for f in &files {
            assert!(gunzip(&f.body).len() <= 320);
        }
        // Records stay in order across parts, each exactly once.
        let all: Vec<serde_json::Value> = files
            .iter()
            .flat_map(|f| {
                let v: serde_json::Value = serde_json::from_slice(&gunzip(&f.body)).expect("json");
                v["Records"].as_array().cloned().unwrap_or_default()
            })
            .collect();
        assert_eq!(all.len(), 10);
        // A record larger than the limit still goes out, alone.
        let big = ev(
            15,
            "111111111111",
            "us-east-1",
            5,
            &format!("{{\"p\":\"{}\"}}", "y".repeat(500)),
        );
        let files = build_files(BATCH, PLAIN, &[&evs[0], &big, &evs[9]], 320);
        let sizes: Vec<usize> = files.iter().map(|f| f.records).collect();
        assert_eq!(sizes, [1, 1, 1]);
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_seconds(1_438_395_059), "2015-08-01T02:10:59Z");
        assert_eq!(iso_seconds(0), "1970-01-01T00:00:00Z");
    }
}

#[cfg(test)]
mod throughput {
    use super::*;
    use billtrail_store::NewEvent;

    /// Records per second through grouping, JSON, gzip and hashing, on one core.
    /// `cargo test --release -p billtrail-trail -- --ignored --nocapture throughput`
    #[test]
    #[ignore]
    fn records_per_second() {
        let record = |n: u64| {
            serde_json::json!({
                "eventVersion": "1.11",
                "userIdentity": {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root",
                    "accountId": "123456789012", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                    "sessionContext": {"attributes": {"creationDate": "2026-11-25T10:00:00Z", "mfaAuthenticated": "false"}}},
                "eventTime": "2026-11-25T10:00:00Z", "eventSource": "billingconsole.amazonaws.com",
                "eventName": "GetAddresses", "awsRegion": "us-east-1", "sourceIPAddress": "127.0.0.1",
                "userAgent": "aws-cli/1.46.3 md/Botocore#1.43.62 ua/2.1 os/linux#6.18 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.43.62",
                "requestParameters": null, "responseElements": null,
                "requestID": format!("5e3b2a1c-0000-4000-8000-{n:012}"),
                "eventID": format!("00000000-0000-4000-8000-{n:012}"),
                "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
                "recipientAccountId": "123456789012", "eventCategory": "Management"
            })
            .to_string()
        };
        let evs: Vec<StoredEvent> = (0..50_000u64)
            .map(|n| StoredEvent {
                seq: n + 1,
                event: NewEvent {
                    account_id: "123456789012".into(),
                    region: "us-east-1".into(),
                    event_time: 1_764_000_000 + (n as i64 / 100),
                    event_id: format!("{n}"),
                    event_name: "GetAddresses".into(),
                    event_source: "billingconsole.amazonaws.com".into(),
                    read_only: true,
                    username: None,
                    access_key_id: None,
                    resources: vec![],
                    management: true,
                    record: record(n),
                },
            })
            .collect();
        let refs: Vec<&StoredEvent> = evs.iter().collect();
        let batch = BatchId {
            trail_arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
            after: 0,
            last: 50_000,
        };
        let layout = Layout {
            prefix: None,
            organization_id: None,
        };
        let t = std::time::Instant::now();
        let files = build_files(batch, layout, &refs, 50 << 20);
        let secs = t.elapsed().as_secs_f64();
        let raw: usize = evs.iter().map(|e| e.event.record.len()).sum();
        let gz: usize = files.iter().map(|f| f.body.len()).sum();
        println!(
            "{} records ({} bytes each) in {secs:.3}s: {:.0} records/s, {:.1} MB/s, gzip {:.1}%",
            evs.len(),
            raw / evs.len(),
            evs.len() as f64 / secs,
            raw as f64 / secs / 1e6,
            100.0 * gz as f64 / raw as f64
        );
    }
}
