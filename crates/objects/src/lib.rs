//! Object storage for trail buckets: where log files and digest files are delivered.
//!
//! [`ObjectStore`] is the one interface delivery, digests and validation use. Two kinds of
//! bucket implement it: folders under the data dir (the embedded default, `local`), and any
//! S3-compatible endpoint (`s3`). [`Buckets`] routes each bucket name to its store.
//!
//! The contract every implementation keeps: `put` returns `Ok` only once the object and its
//! metadata are durable, and writing the same key again replaces the object whole (readers
//! see the old or the new object, never a mix), so that a retried delivery rewrites the same
//! object instead of adding a second one.

use std::collections::BTreeMap;

use bytes::Bytes;

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
    pub objects: Vec<ObjectMeta>,
    /// With a delimiter: the distinct prefixes up to and including it.
    pub common_prefixes: Vec<String>,
    /// More keys follow the last one returned.
    pub truncated: bool,
}

/// A listing request: keys starting with `prefix` and (strictly) after `start_after`, at most
/// `max_keys`, rolled up at `delimiter` when one is given.
#[derive(Debug, Clone, Default)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub max_keys: usize,
}

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
}
