//! The digest file format: object keys, the JSON document, gzip, and the string that is signed.
//!
//! Everything here is a pure function of its inputs, pinned to reference §3 (`cloudtrail.md`) and
//! to what awscli's `validate-logs` (`awscli/customizations/cloudtrail/validation.py`) reads:
//!
//! * keys: `[prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/`
//!   `<acct>_CloudTrail-Digest_<region>_<trail>_<home-region>_YYYYMMDDTHHMMSSZ.json.gz`, dated by
//!   the digest's **end** time (the CLI reads the date back as `key[-24:-8]`);
//! * the document: every field of §3.2, in AWS's order, `null` (never absent) where a value is
//!   missing, because the CLI indexes `previousDigestSignature` and `logFiles` directly;
//! * the signed string (§3.4): `<digestEndTime>\n<bucket>/<key>\n<hex sha256 of the uncompressed
//!   digest>\n<previous signature or "null">`, UTF-8, no trailing newline;
//! * compression: a **single-member** gzip, since the CLI rejects data after the first member.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// `digestSignatureAlgorithm`, and the `signature-algorithm` object metadata.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// `hashAlgorithm` and `previousDigestHashAlgorithm`.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// Object metadata names (S3 user metadata, without `x-amz-meta-`).
pub const META_SIGNATURE: &str = "signature";
pub const META_SIGNATURE_ALGORITHM: &str = "signature-algorithm";
pub const META_BACKFILL_TIMESTAMP: &str = "backfill-generation-timestamp";

/// One digest file, as delivered. Field order is AWS's (UG-DIG sample).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestFile {
    #[serde(rename = "awsAccountId")]
    pub aws_account_id: String,
    #[serde(rename = "digestStartTime")]
    pub digest_start_time: String,
    #[serde(rename = "digestEndTime")]
    pub digest_end_time: String,
    #[serde(rename = "digestS3Bucket")]
    pub digest_s3_bucket: String,
    #[serde(rename = "digestS3Object")]
    pub digest_s3_object: String,
    #[serde(rename = "digestPublicKeyFingerprint")]
    pub digest_public_key_fingerprint: String,
    #[serde(rename = "digestSignatureAlgorithm")]
    pub digest_signature_algorithm: String,
    #[serde(rename = "newestEventTime")]
    pub newest_event_time: Option<String>,
    #[serde(rename = "oldestEventTime")]
    pub oldest_event_time: Option<String>,
    #[serde(rename = "previousDigestS3Bucket")]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(rename = "previousDigestS3Object")]
    pub previous_digest_s3_object: Option<String>,
    #[serde(rename = "previousDigestHashValue")]
    pub previous_digest_hash_value: Option<String>,
    #[serde(rename = "previousDigestHashAlgorithm")]
    pub previous_digest_hash_algorithm: Option<String>,
    #[serde(rename = "previousDigestSignature")]
    pub previous_digest_signature: Option<String>,
    #[serde(rename = "logFiles")]
    pub log_files: Vec<LogFileEntry>,
}

/// One entry of `logFiles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFileEntry {
    #[serde(rename = "s3Bucket")]
    pub s3_bucket: String,
    #[serde(rename = "s3Object")]
    pub s3_object: String,
    /// Lowercase hex SHA-256 of the **uncompressed** log file.
    #[serde(rename = "hashValue")]
    pub hash_value: String,
    #[serde(rename = "hashAlgorithm")]
    pub hash_algorithm: String,
    #[serde(rename = "newestEventTime")]
    pub newest_event_time: String,
    #[serde(rename = "oldestEventTime")]
    pub oldest_event_time: String,
}

/// The link a digest carries to the one before it (absent on a starting digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousDigest {
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the previous digest's uncompressed content.
    pub hash_hex: String,
    /// The previous digest's hex signature.
    pub signature_hex: String,
}

impl DigestFile {
    /// Sets `previousDigest*` from `previous`, all five `null` for a starting digest.
    pub fn set_previous(&mut self, previous: Option<&PreviousDigest>) {
        self.previous_digest_s3_bucket = previous.map(|p| p.bucket.clone());
        self.previous_digest_s3_object = previous.map(|p| p.key.clone());
        self.previous_digest_hash_value = previous.map(|p| p.hash_hex.clone());
        self.previous_digest_hash_algorithm = previous.map(|_| HASH_ALGORITHM.to_string());
        self.previous_digest_signature = previous.map(|p| p.signature_hex.clone());
    }

    /// Sets `newestEventTime`/`oldestEventTime` over the log files (`null` when there are none).
    /// The times are compared as the fixed-width UTC strings they are.
    pub fn set_event_times(&mut self) {
        self.newest_event_time = self
            .log_files
            .iter()
            .map(|l| l.newest_event_time.clone())
            .max();
        self.oldest_event_time = self
            .log_files
            .iter()
            .map(|l| l.oldest_event_time.clone())
            .min();
    }

    /// The uncompressed bytes as delivered: compact JSON in field order.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Where a trail's files for one (account, region) live in a bucket, and how it names digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailLocation {
    pub bucket: String,
    /// The trail's `S3KeyPrefix`, if any (joined with `/`).
    pub prefix: Option<String>,
    /// The organization ID of an organization trail (`o-…`).
    pub organization_id: Option<String>,
    pub account_id: String,
    /// The region the files are delivered from.
    pub region: String,
    pub trail_name: String,
    pub home_region: String,
}

impl TrailLocation {
    /// `[prefix/]AWSLogs/[o-id/]<acct>/`
    fn account_root(&self) -> String {
        let mut s = String::new();
        if let Some(p) = self.prefix.as_deref().filter(|p| !p.is_empty()) {
            s.push_str(p);
            s.push('/');
        }
        s.push_str("AWSLogs/");
        if let Some(o) = self.organization_id.as_deref().filter(|o| !o.is_empty()) {
            s.push_str(o);
            s.push('/');
        }
        s.push_str(&self.account_id);
        s.push('/');
        s
    }

    /// `[prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/`: every digest of this
    /// (account, region), of every trail delivering there.
    pub fn digest_prefix(&self) -> String {
        format!("{}CloudTrail-Digest/{}/", self.account_root(), self.region)
    }

    /// `[prefix/]AWSLogs/[o-id/]<acct>/CloudTrail/<region>/`: the log files.
    pub fn log_prefix(&self) -> String {
        format!("{}CloudTrail/{}/", self.account_root(), self.region)
    }

    /// The file name stem every digest of this trail shares, up to the timestamp:
    /// `<acct>_CloudTrail-Digest_<region>_<trail>_<home>_`.
    pub fn digest_name_stem(&self) -> String {
        format!(
            "{}_CloudTrail-Digest_{}_{}_{}_",
            self.account_id, self.region, self.trail_name, self.home_region
        )
    }

    /// The key of the digest that ends at `end`.
    pub fn digest_key(&self, end: OffsetDateTime) -> String {
        format!(
            "{}{}/{}{}.json.gz",
            self.digest_prefix(),
            ymd_path(end),
            self.digest_name_stem(),
            key_timestamp(end)
        )
    }

    /// True when `key` is a digest of this trail (standard or backfill), the way the CLI's key
    /// regex decides it: the prefix, three numeric date folders, then the name stem.
    pub fn is_digest_key(&self, key: &str) -> bool {
        let Some(rest) = key.strip_prefix(&self.digest_prefix()) else {
            return false;
        };
        let mut parts = rest.splitn(4, '/');
        for _ in 0..3 {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {}
                _ => return false,
            }
        }
        let Some(name) = parts.next() else {
            return false;
        };
        name.strip_prefix(&self.digest_name_stem())
            .is_some_and(|t| t.len() > ".json.gz".len() && t.ends_with(".json.gz"))
    }
}

/// True for `..._backfill.json.gz`.
pub fn is_backfill_key(key: &str) -> bool {
    key.ends_with("_backfill.json.gz")
}

/// The `YYYYMMDDTHHMMSSZ` part of a digest key, as the CLI extracts it (`key[-24:-8]`, or
/// `key[-33:-17]` for backfill). `None` when the key is too short.
pub fn digest_key_date(key: &str) -> Option<&str> {
    let (from_end, to_end) = if is_backfill_key(key) {
        (33, 17)
    } else {
        (24, 8)
    };
    let len = key.len();
    if len < from_end {
        return None;
    }
    key.get(len - from_end..len - to_end)
}

/// `YYYY/MM/DD` of a UTC time.
pub fn ymd_path(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}/{:02}/{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `YYYYMMDDTHHMMSSZ` (the digest key timestamp; also the CLI's `DATE_FORMAT`).
pub fn key_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form of every time in a digest.
pub fn iso_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
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

/// [`iso_time`] of Unix seconds; times out of range print as the epoch.
pub fn iso_unix(secs: i64) -> String {
    iso_time(from_unix(secs))
}

/// Unix seconds to a UTC time, clamped to the epoch when out of range.
pub fn from_unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (also with fractional seconds or an offset, as RFC 3339).
pub fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Parses a key timestamp `YYYYMMDDTHHMMSSZ`.
pub fn parse_key_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(t).assume_utc())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The string a digest's signature covers (§3.4), as bytes.
pub fn string_to_sign(
    digest_end_time: &str,
    bucket: &str,
    key: &str,
    digest_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> Vec<u8> {
    format!(
        "{digest_end_time}\n{bucket}/{key}\n{digest_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
    .into_bytes()
}

/// A single-member gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Why a gzip body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GunzipError {
    #[error("not a valid gzip stream")]
    Invalid,
    /// The stream ends early. The CLI's zlib inflater does not notice this: it hashes what it
    /// got, so the file fails as "hash value doesn't match".
    #[error("the gzip stream ends early")]
    Truncated,
    /// More bytes follow the first gzip member (the CLI refuses this too).
    #[error("unexpected data after end of compressed stream")]
    TrailingData,
}

/// Inflates the first gzip member of `bytes`, refusing anything after it.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    let mut dec = flate2::bufread::GzDecoder::new(bytes);
    dec.read_to_end(&mut out)
        .map_err(|e| read_error(bytes, &e))?;
    if !dec.into_inner().is_empty() {
        return Err(GunzipError::TrailingData);
    }
    Ok(out)
}

/// A stream that starts as gzip and ends early is truncated; anything else is invalid.
fn read_error(bytes: &[u8], e: &std::io::Error) -> GunzipError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof && bytes.starts_with(&[0x1f, 0x8b]) {
        GunzipError::Truncated
    } else {
        GunzipError::Invalid
    }
}

/// SHA-256 of the first gzip member's content, streamed (no copy of the inflated content is
/// kept). Refuses trailing data like [`gunzip`].
pub fn gunzip_sha256_hex(bytes: &[u8]) -> Result<String, GunzipError> {
    let mut dec = flate2::bufread::GzDecoder::new(bytes);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
            Err(e) => return Err(read_error(bytes, &e)),
        }
    }
    if !dec.into_inner().is_empty() {
        return Err(GunzipError::TrailingData);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Files whose content (gzip ISIZE) is at most this many bytes are decoded whole, with
/// libdeflate; larger ones are streamed. It bounds the memory each concurrent check holds.
const WHOLE_DECODE_LIMIT: usize = 8 * 1024 * 1024;

/// [`gunzip_sha256_hex`], faster: files up to [`WHOLE_DECODE_LIMIT`] are decoded in one call
/// to libdeflate (about twice zlib's speed). Whatever libdeflate refuses, and anything larger,
/// goes through the streaming path, which classifies the failure; so the outcome is always
/// the same as [`gunzip_sha256_hex`]'s.
pub fn gunzip_sha256_hex_fast(bytes: &[u8]) -> Result<String, GunzipError> {
    let declared = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize);
    let Some(size) =
        declared.filter(|s| *s <= WHOLE_DECODE_LIMIT && bytes.starts_with(&[0x1f, 0x8b]))
    else {
        return gunzip_sha256_hex(bytes);
    };
    // One buffer per thread, grown but never shrunk or cleared: a fresh zeroed buffer per file
    // had the kernel zeroing pages for 15 % of a validation run.
    thread_local! {
        static OUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let decoded = OUT.with_borrow_mut(|out| {
        if out.len() < size {
            out.resize(size, 0);
        }
        let out = out.get_mut(..size)?;
        match whole::gzip_decompress(bytes, out) {
            Some((used, written)) if used == bytes.len() => {
                Some(Ok(sha256_hex(out.get(..written).unwrap_or_default())))
            }
            Some(_) => Some(Err(GunzipError::TrailingData)),
            None => None,
        }
    });
    decoded.unwrap_or_else(|| gunzip_sha256_hex(bytes))
}

/// The one call into libdeflate.
mod whole {
    use std::ptr::NonNull;

    use libdeflate_sys::{
        libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
        libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_SUCCESS,
    };

    struct Decompressor(NonNull<libdeflate_decompressor>);

    impl Drop for Decompressor {
        fn drop(&mut self) {
            // SAFETY: the pointer came from libdeflate_alloc_decompressor and is freed once.
            unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
        }
    }

    /// Decodes the first gzip member of `input` into `out`. Returns (input bytes the member
    /// took, output bytes written), or `None` when libdeflate refuses (bad data, or `out` too
    /// small).
    pub(super) fn gzip_decompress(input: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
        // SAFETY: allocation has no preconditions; a null result is handled.
        let d = Decompressor(NonNull::new(unsafe { libdeflate_alloc_decompressor() })?);
        let (mut used, mut written) = (0usize, 0usize);
        // SAFETY: the pointers and lengths describe live slices that outlive the call;
        // libdeflate reads at most `input.len()` bytes, writes at most `out.len()` bytes, and
        // keeps no pointer after it returns. The decompressor is used by this thread only.
        let r = unsafe {
            libdeflate_gzip_decompress_ex(
                d.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut written,
            )
        };
        (r == libdeflate_result_LIBDEFLATE_SUCCESS).then_some((used, written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_location() -> TrailLocation {
        TrailLocation {
            bucket: "S3-bucket-name".into(),
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            region: "us-east-2".into(),
            trail_name: "your-trail-name".into(),
            home_region: "us-east-2".into(),
        }
    }

    /// The key of UG-DIG's sample digest, from its `digestEndTime`.
    #[test]
    fn digest_key_matches_the_documented_sample() {
        let end = parse_iso("2015-08-17T15:01:31Z").unwrap();
        assert_eq!(
            sample_location().digest_key(end),
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz"
        );
        let prev = parse_iso("2015-08-17T14:01:31Z").unwrap();
        assert_eq!(
            sample_location().digest_key(prev),
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz"
        );
    }

    /// ASEA's real organization-trail digest key (reference §2.1).
    #[test]
    fn organization_trail_key_matches_a_real_one() {
        let loc = TrailLocation {
            bucket: "b".into(),
            prefix: Some("o-fxozgwu6rc".into()),
            organization_id: Some("o-fxozgwu6rc".into()),
            account_id: "123456789016".into(),
            region: "ca-central-1".into(),
            trail_name: "PBMMAccel-Org-Trail".into(),
            home_region: "ca-central-1".into(),
        };
        let end = parse_iso("2020-08-30T19:09:38Z").unwrap();
        assert_eq!(
            loc.digest_key(end),
            "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789016/CloudTrail-Digest/ca-central-1/2020/08/30/123456789016_CloudTrail-Digest_ca-central-1_PBMMAccel-Org-Trail_ca-central-1_20200830T190938Z.json.gz"
        );
        assert!(loc.is_digest_key(&loc.digest_key(end)));
        assert_eq!(
            loc.log_prefix(),
            "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789016/CloudTrail/ca-central-1/"
        );
    }

    #[test]
    fn key_dates_are_read_back_as_the_cli_does() {
        let loc = sample_location();
        let key = loc.digest_key(parse_iso("2015-08-17T15:01:31Z").unwrap());
        assert_eq!(digest_key_date(&key), Some("20150817T150131Z"));
        let backfill = key.replace(".json.gz", "_backfill.json.gz");
        assert_eq!(digest_key_date(&backfill), Some("20150817T150131Z"));
        assert!(is_backfill_key(&backfill));
        assert!(loc.is_digest_key(&backfill));
        assert_eq!(
            parse_key_timestamp("20150817T150131Z"),
            parse_iso("2015-08-17T15:01:31Z")
        );
        assert_eq!(digest_key_date("short"), None);
        assert_eq!(parse_key_timestamp("2015081xT150131Z"), None);
    }

    #[test]
    fn other_trails_and_folders_are_not_digest_keys() {
        let loc = sample_location();
        let key = loc.digest_key(parse_iso("2015-08-17T15:01:31Z").unwrap());
        assert!(loc.is_digest_key(&key));
        assert!(!loc.is_digest_key(&key.replace("your-trail-name", "other")));
        assert!(!loc.is_digest_key(&key.replace("/2015/", "/x/")));
        assert!(!loc.is_digest_key(&key.replace(".json.gz", ".json")));
        assert!(
            !loc.is_digest_key("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/x.json.gz")
        );
    }

    /// The documented sample, rebuilt field by field, serializes to the same JSON (same keys, same
    /// order, same values).
    #[test]
    fn digest_json_has_every_field_in_aws_order() {
        let mut d = DigestFile {
            aws_account_id: "111122223333".into(),
            digest_start_time: "2015-08-17T14:01:31Z".into(),
            digest_end_time: "2015-08-17T15:01:31Z".into(),
            digest_s3_bucket: "S3-bucket-name".into(),
            digest_s3_object: "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz".into(),
            digest_public_key_fingerprint: "31e8b5433410dfb61a9dc45cc65b22ff".into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: None,
            oldest_event_time: None,
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_hash_algorithm: None,
            previous_digest_signature: None,
            log_files: vec![LogFileEntry {
                s3_bucket: "S3-bucket-name".into(),
                s3_object: "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz".into(),
                hash_value: "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6".into(),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: "2015-08-17T14:52:27Z".into(),
                oldest_event_time: "2015-08-17T14:42:27Z".into(),
            }],
        };
        d.set_event_times();
        d.set_previous(Some(&PreviousDigest {
            bucket: "S3-bucket-name".into(),
            key: "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz".into(),
            hash_hex: "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d".into(),
            signature_hex: "50887ccf".into(),
        }));
        let expected = serde_json::json!({
          "awsAccountId": "111122223333",
          "digestStartTime": "2015-08-17T14:01:31Z",
          "digestEndTime": "2015-08-17T15:01:31Z",
          "digestS3Bucket": "S3-bucket-name",
          "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
          "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
          "digestSignatureAlgorithm": "SHA256withRSA",
          "newestEventTime": "2015-08-17T14:52:27Z",
          "oldestEventTime": "2015-08-17T14:42:27Z",
          "previousDigestS3Bucket": "S3-bucket-name",
          "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
          "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
          "previousDigestHashAlgorithm": "SHA-256",
          "previousDigestSignature": "50887ccf",
          "logFiles": [
            {
              "s3Bucket": "S3-bucket-name",
              "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
              "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
              "hashAlgorithm": "SHA-256",
              "newestEventTime": "2015-08-17T14:52:27Z",
              "oldestEventTime": "2015-08-17T14:42:27Z"
            }
          ]
        });
        // Byte-equal to the sample re-serialized compactly: same keys in the same order.
        assert_eq!(
            String::from_utf8(d.to_json()).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }

    /// A starting, empty digest: the five `previousDigest*` and both event times are JSON `null`
    /// (present, not absent), and `logFiles` is `[]`.
    #[test]
    fn starting_empty_digest_has_nulls_not_absent_keys() {
        let mut d = DigestFile {
            aws_account_id: "111122223333".into(),
            digest_start_time: "2015-08-17T14:01:31Z".into(),
            digest_end_time: "2015-08-17T15:01:31Z".into(),
            digest_s3_bucket: "b".into(),
            digest_s3_object: "k".into(),
            digest_public_key_fingerprint: "f".into(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: Some("x".into()),
            oldest_event_time: Some("x".into()),
            previous_digest_s3_bucket: Some("x".into()),
            previous_digest_s3_object: Some("x".into()),
            previous_digest_hash_value: Some("x".into()),
            previous_digest_hash_algorithm: Some("x".into()),
            previous_digest_signature: Some("x".into()),
            log_files: vec![],
        };
        d.set_previous(None);
        d.set_event_times();
        let v: serde_json::Value = serde_json::from_slice(&d.to_json()).unwrap();
        for k in [
            "newestEventTime",
            "oldestEventTime",
            "previousDigestS3Bucket",
            "previousDigestS3Object",
            "previousDigestHashValue",
            "previousDigestHashAlgorithm",
            "previousDigestSignature",
        ] {
            assert_eq!(v.get(k), Some(&serde_json::Value::Null), "{k}");
        }
        assert_eq!(v["logFiles"], serde_json::json!([]));
    }

    /// §3.4: the exact bytes, with `null` for a starting digest and no trailing newline.
    #[test]
    fn string_to_sign_is_the_documented_layout() {
        let s = string_to_sign(
            "2015-08-17T15:01:31Z",
            "S3-bucket-name",
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/x.json.gz",
            "ab",
            None,
        );
        assert_eq!(
            s,
            b"2015-08-17T15:01:31Z\nS3-bucket-name/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/x.json.gz\nab\nnull"
        );
        let s = string_to_sign("t", "b", "k", "ab", Some("50887ccf"));
        assert_eq!(s, b"t\nb/k\nab\n50887ccf");
    }

    #[test]
    fn gzip_is_one_member_and_trailing_data_is_refused() {
        let body = gzip(b"{\"Records\":[]}");
        assert_eq!(gunzip(&body).unwrap(), b"{\"Records\":[]}");
        assert_eq!(
            gunzip_sha256_hex(&body).unwrap(),
            sha256_hex(b"{\"Records\":[]}")
        );
        let mut two = body.clone();
        two.extend_from_slice(&body);
        assert_eq!(gunzip(&two), Err(GunzipError::TrailingData));
        assert_eq!(gunzip_sha256_hex(&two), Err(GunzipError::TrailingData));
        assert_eq!(gunzip(b"not gzip"), Err(GunzipError::Invalid));
        // The fast path agrees with the streaming one on every case.
        for case in [
            &body[..],
            &two[..],
            b"not gzip",
            &body[..body.len() - 3],
            b"",
        ] {
            assert_eq!(
                gunzip_sha256_hex_fast(case),
                gunzip_sha256_hex(case),
                "{case:?}"
            );
        }
        let mut flipped = body.clone();
        flipped[body.len() / 2] ^= 0x55;
        assert_eq!(
            gunzip_sha256_hex_fast(&flipped),
            gunzip_sha256_hex(&flipped)
        );
        let mut garbage = body.clone();
        garbage.extend_from_slice(b"xyz");
        assert_eq!(
            gunzip_sha256_hex_fast(&garbage),
            Err(GunzipError::TrailingData)
        );
        let mut cut = body.clone();
        cut.truncate(body.len() - 3);
        assert_eq!(gunzip(&cut), Err(GunzipError::Truncated));
        assert_eq!(gunzip_sha256_hex(&cut), Err(GunzipError::Truncated));
    }
}
