//! Object storage for trail buckets: where log files and digest files are delivered.
//!
//! [`ObjectStore`] is the one interface delivery, digests and validation use. Two kinds of
//! bucket implement it: folders under the data dir (the embedded default, [`local`]), and any
//! S3-compatible endpoint ([`s3`]). [`Buckets`] routes each bucket name to its store, by
//! configuration ([`BucketConfig`]).
//!
//! The contract every implementation keeps (and `tests/conformance.rs` checks, against each):
//! - `put` returns `Ok` only once the object and its metadata are durable, and writing the same
//!   key again replaces the object whole: readers see the old or the new object (body *and*
//!   metadata), never a mix. So a retried delivery rewrites the same object instead of adding
//!   a second one.
//! - Listings are in byte order of the keys, as S3's are, and pages follow S3's rules (see
//!   [`ListRequest`]).
//! - Bucket names follow S3's rules ([`validate_bucket_name`]); keys are checked by
//!   [`validate_key`] before any store sees them, so no key reaches outside its bucket.
//! - [`ObjectError::Storage`] is the only retryable error: the store is unreachable or failing.
//!
//! What this crate is not: it knows no HTTP API of its own (the server's `s3` module serves
//! buckets over S3's REST API), no trail layout and no authorization.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod buckets;
pub mod local;
pub mod s3;

use std::collections::BTreeMap;

use bytes::Bytes;

pub use buckets::{BucketConfig, Buckets, SecretString};
pub use local::LocalStore;
pub use s3::S3Store;

/// User metadata (`x-amz-meta-*`), names lowercase without the prefix.
pub type Metadata = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("no such bucket: {0}")]
    NoSuchBucket(String),
    #[error("no such key: {0}")]
    NoSuchKey(String),
    #[error("bucket already exists: {0}")]
    BucketExists(String),
    #[error("invalid bucket name: {0}")]
    InvalidBucketName(String),
    /// Storage unreachable or failing: callers retry with backoff.
    #[error("storage error: {0}")]
    Storage(String),
    /// A key this store cannot hold: empty or too long, with an empty, `.` or `..` segment,
    /// a control character, or (locally) a name billtrail reserves or that collides with a
    /// folder of other keys. Retrying does not help.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// User metadata S3 cannot carry: a name that is not a lowercase HTTP token, a value that
    /// is not printable ASCII, or more than 2 KB in all.
    #[error("invalid metadata: {0}")]
    InvalidMetadata(String),
}

impl ObjectError {
    /// Whether trying again later may succeed (the store was unreachable or failing).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ObjectError::Storage(_))
    }
}

/// What `head` and listings say about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Unix seconds.
    pub last_modified: i64,
    /// Quoted hex MD5 of the body, as S3 sends it.
    pub etag: String,
    pub metadata: Metadata,
}

/// An object read whole.
#[derive(Debug, Clone)]
pub struct Object {
    pub meta: ObjectMeta,
    pub body: Bytes,
}

/// One page of a listing, in key order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Without user metadata, as S3 lists them: `head` an object for its metadata.
    pub objects: Vec<ObjectMeta>,
    /// With a delimiter: the distinct prefixes up to and including it.
    pub common_prefixes: Vec<String>,
    /// More keys follow the last one returned.
    pub truncated: bool,
}

impl Listing {
    /// The last entry of this page, key or common prefix, whichever sorts last: the
    /// `start_after` of the next page (S3's `NextMarker`).
    pub fn last_entry(&self) -> Option<&str> {
        let key = self.objects.last().map(|o| o.key.as_str());
        let prefix = self.common_prefixes.last().map(String::as_str);
        match (key, prefix) {
            (Some(k), Some(p)) => Some(k.max(p)),
            (k, p) => k.or(p),
        }
    }
}

/// A listing request: keys starting with `prefix` and (strictly) after `start_after`, at most
/// `max_keys`, rolled up at `delimiter` when one is given.
///
/// S3's rules, which every store follows:
/// - `max_keys` bounds objects and common prefixes together. `0` means S3's default page,
///   1000. A store may return fewer entries than asked (S3 never returns more than 1000) and
///   say `truncated`: follow pages until it is `false`.
/// - With a delimiter, keys after `start_after` are rolled up; a common prefix equal to
///   `start_after` is left out, so the next page starts after [`Listing::last_entry`].
#[derive(Debug, Clone, Default)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub max_keys: usize,
}

/// S3's default and largest page.
pub const MAX_KEYS: usize = 1000;

impl ListRequest<'_> {
    /// `max_keys` with `0` read as the default page.
    pub fn page_size(&self) -> usize {
        if self.max_keys == 0 {
            MAX_KEYS
        } else {
            self.max_keys
        }
    }
}

/// What [`ObjectStore::get_each`] makes of one object (or of why it could not be read): the
/// caller's own type, boxed so that the trait stays object-safe.
pub type Processed = Box<dyn std::any::Any + Send>;

/// The work [`ObjectStore::get_each`] does on each object, given its key.
pub type ProcessFn =
    std::sync::Arc<dyn Fn(&str, Result<Object, ObjectError>) -> Processed + Send + Sync>;

#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Writes an object durably, replacing any object at `key`.
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        metadata: &Metadata,
    ) -> Result<(), ObjectError>;
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError>;
    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, ObjectError>;
    async fn list(&self, bucket: &str, req: &ListRequest<'_>) -> Result<Listing, ObjectError>;
    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError>;
    async fn create_bucket(&self, bucket: &str) -> Result<(), ObjectError>;
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, ObjectError>;
    /// The buckets this store holds, by name.
    async fn list_buckets(&self) -> Result<Vec<String>, ObjectError>;
    /// When the bucket was created (unix seconds), if the store knows. S3's `ListBuckets`
    /// shows it as `CreationDate`.
    async fn bucket_created(&self, bucket: &str) -> Result<Option<i64>, ObjectError> {
        let _ = bucket;
        Ok(None)
    }

    /// Fetches each of `keys` and hands it to `f`, off the async threads; returns what `f` made
    /// of each, in the order of `keys`. For CPU-heavy work on many bodies (hashing log files):
    /// the local store reads and runs `f` on one blocking thread for the whole list, where
    /// fetching and then processing each object costs two thread hand-offs apiece.
    async fn get_each(&self, bucket: &str, keys: Vec<String>, f: ProcessFn) -> Vec<Processed> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let got = self.get(bucket, &key).await;
            let work = f.clone();
            let made = tokio::task::spawn_blocking(move || work(&key, got)).await;
            out.push(made.unwrap_or_else(|e| {
                Box::new(ObjectError::Storage(format!("processing task failed: {e}")))
            }));
        }
        out
    }
}

/// Every object under `prefix`, following pages to the end.
pub async fn list_all(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ObjectMeta>, ObjectError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list(
                bucket,
                &ListRequest {
                    prefix,
                    delimiter: None,
                    start_after: after.as_deref(),
                    max_keys: MAX_KEYS,
                },
            )
            .await?;
        let next = page.last_entry().map(str::to_string);
        out.extend(page.objects);
        match next {
            Some(n) if page.truncated => after = Some(n),
            _ => return Ok(out),
        }
    }
}

/// Checks a bucket name against S3's rules for new buckets: 3 to 63 characters of lowercase
/// letters, digits, dots and hyphens, beginning and ending with a letter or digit, no two
/// adjacent dots, not shaped like an IP address, and none of S3's reserved prefixes and
/// suffixes (`xn--`, `sthree-`, `amzn-s3-demo-`, `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`).
pub fn validate_bucket_name(name: &str) -> Result<(), ObjectError> {
    let bad = |why: &str| Err(ObjectError::InvalidBucketName(format!("{name:?}: {why}")));
    if !(3..=63).contains(&name.len()) {
        return bad("must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return bad("may hold only lowercase letters, digits, dots and hyphens");
    }
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !edge(name.bytes().next()) || !edge(name.bytes().last()) {
        return bad("must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return bad("must not have two adjacent dots");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return bad(&format!("must not begin with {prefix:?}"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3"] {
        if name.ends_with(suffix) {
            return bad(&format!("must not end with {suffix:?}"));
        }
    }
    Ok(())
}

/// S3's longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks a key every store accepts: 1 to 1024 bytes, `/`-separated segments that are not
/// empty (no leading, trailing or doubled `/`), not `.` or `..`, and no control characters.
///
/// S3 itself allows more (`a//b`, `dir/`), but such keys have no file path, and nothing
/// billtrail delivers needs them. Refusing them everywhere keeps the stores interchangeable.
pub fn validate_key(key: &str) -> Result<(), ObjectError> {
    let bad = |why: &str| {
        let shown: String = key.chars().take(200).collect();
        Err(ObjectError::InvalidKey(format!("{shown:?}: {why}")))
    };
    if key.is_empty() {
        return bad("a key must not be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad("a key must be at most 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return bad("a key must not hold control characters");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("a key must not begin or end with '/' or hold '//'"),
            "." | ".." => return bad("a key must not have '.' or '..' segments"),
            _ => {}
        }
    }
    Ok(())
}

/// S3's limit on user metadata: names and values together, in bytes.
pub const MAX_METADATA_BYTES: usize = 2048;

/// Checks user metadata S3 can carry as `x-amz-meta-<name>: <value>` headers: names lowercase
/// HTTP tokens, values printable ASCII without surrounding spaces, 2 KB in all.
pub fn validate_metadata(metadata: &Metadata) -> Result<(), ObjectError> {
    let bad = |why: String| Err(ObjectError::InvalidMetadata(why));
    let mut total = 0;
    for (name, value) in metadata {
        total += name.len() + value.len();
        let token =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return bad(format!(
                "name {name:?} must be a lowercase HTTP token (without x-amz-meta-)"
            ));
        }
        if !value
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
            || value.trim() != value
        {
            return bad(format!(
                "the value of {name:?} must be printable ASCII without surrounding spaces"
            ));
        }
    }
    if total > MAX_METADATA_BYTES {
        return bad(format!(
            "{total} bytes of metadata; S3 allows {MAX_METADATA_BYTES}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3() {
        for ok in ["abc", "trail-bucket", "my.bucket.1", "a1b", &"a".repeat(63)] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Trail",
            "trail_bucket",
            "-abc",
            "abc-",
            ".abc",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "sthree-x",
            "abc-s3alias",
            "abc--ol-s3",
            "a b",
            "../etc",
            "",
        ] {
            assert!(
                matches!(
                    validate_bucket_name(bad),
                    Err(ObjectError::InvalidBucketName(_))
                ),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn keys_that_cannot_be_paths_are_refused() {
        for ok in [
            "a",
            "AWSLogs/123/CloudTrail/us-east-1/2024/01/02/x.json.gz",
            "a b/ü/..x/x..",
            ".hidden",
        ] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/abs",
            "a/",
            "a//b",
            "..",
            "../x",
            "a/../../x",
            "a/./b",
            ".",
            "a\0b",
            "a\nb",
            &"k".repeat(1025),
        ] {
            assert!(
                matches!(validate_key(bad), Err(ObjectError::InvalidKey(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn metadata_must_fit_headers() {
        let m = |k: &str, v: &str| Metadata::from([(k.to_string(), v.to_string())]);
        assert!(validate_metadata(&m("signature", "ab12")).is_ok());
        assert!(validate_metadata(&m("signature-algorithm", "SHA256withRSA")).is_ok());
        assert!(
            validate_metadata(&m("backfill-generation-timestamp", "2025-09-01T00:00:00Z")).is_ok()
        );
        for (k, v) in [
            ("Upper", "x"),
            ("", "x"),
            ("a b", "x"),
            ("a", "x\ny"),
            ("a", " x"),
            ("a", "é"),
        ] {
            assert!(
                matches!(
                    validate_metadata(&m(k, v)),
                    Err(ObjectError::InvalidMetadata(_))
                ),
                "{k:?}: {v:?}"
            );
        }
        assert!(validate_metadata(&m("a", &"x".repeat(2048))).is_err());
    }

    #[test]
    fn last_entry_is_the_greater_of_key_and_prefix() {
        let meta = |k: &str| ObjectMeta {
            key: k.into(),
            size: 0,
            last_modified: 0,
            etag: String::new(),
            metadata: Metadata::new(),
        };
        let l = Listing {
            objects: vec![meta("a"), meta("c")],
            common_prefixes: vec!["b/".into()],
            truncated: true,
        };
        assert_eq!(l.last_entry(), Some("c"));
        let l = Listing {
            objects: vec![meta("a")],
            common_prefixes: vec!["b/".into()],
            truncated: true,
        };
        assert_eq!(l.last_entry(), Some("b/"));
        assert_eq!(Listing::default().last_entry(), None);
    }
}
