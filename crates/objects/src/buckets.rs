//! [`Buckets`]: which store holds a bucket. Buckets named in the configuration live on their
//! S3-compatible endpoint ([`S3Store`]); every other bucket is a folder of the [`LocalStore`].
//!
//! The configuration, one table per bucket (the server reads it from its TOML file):
//!
//! ```toml
//! [buckets.trail-bucket]
//! endpoint = "http://127.0.0.1:9000"   # default: AWS S3 itself
//! region = "us-east-1"                 # default us-east-1
//! access_key_id = "AKIA..."
//! secret_access_key = "..."            # or in the environment, see below
//! path_style = true                    # http://host/bucket/key; default false: http://bucket.host/key
//! ```
//!
//! Every key can come from the environment instead, which is where secrets belong:
//! `BILLTRAIL_BUCKETS_<NAME>_<KEY>`, with the bucket name upper-cased and `-` and `.` written
//! `_` (for `trail-bucket`: `BILLTRAIL_BUCKETS_TRAIL_BUCKET_SECRET_ACCESS_KEY`). See
//! [`BucketConfig::with_env`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{
    validate_bucket_name, ListRequest, Listing, LocalStore, Metadata, Object, ObjectError,
    ObjectMeta, ObjectStore, S3Store,
};

/// A secret string: redacted in `Debug`, wiped from memory when dropped, and without `==`
/// (nothing should compare secrets in variable time).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }

    /// The secret itself, for the one place that signs with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"<redacted>\""
        })
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

fn default_region() -> String {
    "us-east-1".to_string()
}

/// Where one bucket lives on an S3-compatible endpoint: `[buckets.<name>]`.
///
/// Env-only buckets are not discovered (a variable name cannot spell a bucket name with dots
/// and hyphens apart): name each bucket in the file, even with an empty table, and give its
/// keys in the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// `http://host:port` or `https://host`; absent: AWS S3 (`https://s3.<region>.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The region requests are signed for. Default `us-east-1`.
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub secret_access_key: SecretString,
    /// Path-style addressing (`/bucket/key`), which most self-hosted servers need. Default
    /// `false`: virtual-hosted style (`bucket.host/key`), as AWS prefers.
    #[serde(default)]
    pub path_style: bool,
}

impl Default for BucketConfig {
    fn default() -> Self {
        BucketConfig {
            endpoint: None,
            region: default_region(),
            access_key_id: String::new(),
            secret_access_key: SecretString::default(),
            path_style: false,
        }
    }
}

/// `trail-bucket` → `TRAIL_BUCKET`.
fn env_name(bucket: &str) -> String {
    bucket
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

impl BucketConfig {
    /// Applies `BILLTRAIL_BUCKETS_<NAME>_<KEY>` overrides from `env` (see the module docs).
    /// `path_style` takes `true` or `false`.
    pub fn with_env(
        mut self,
        bucket: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ObjectError> {
        let prefix = format!("BILLTRAIL_BUCKETS_{}_", env_name(bucket));
        for (name, value) in env {
            let Some(key) = name.strip_prefix(&prefix) else {
                continue;
            };
            match key {
                "ENDPOINT" => self.endpoint = Some(value).filter(|v| !v.is_empty()),
                "REGION" => self.region = value,
                "ACCESS_KEY_ID" => self.access_key_id = value,
                "SECRET_ACCESS_KEY" => self.secret_access_key = SecretString::new(value),
                "PATH_STYLE" => {
                    self.path_style = value.parse().map_err(|_| {
                        ObjectError::Storage(format!("{name} must be true or false"))
                    })?
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// Checks the configuration is usable: an `http`/`https` endpoint with a host, a region,
    /// and both halves of the key.
    pub fn validate(&self, bucket: &str) -> Result<(), ObjectError> {
        let bad = |why: String| Err(ObjectError::Storage(format!("[buckets.{bucket}] {why}")));
        if let Some(e) = &self.endpoint {
            let rest = e
                .strip_prefix("http://")
                .or_else(|| e.strip_prefix("https://"));
            match rest {
                Some(host) if !host.trim_end_matches('/').is_empty() => {}
                _ => return bad(format!("endpoint {e:?} must be an http:// or https:// URL")),
            }
        }
        if self.region.is_empty() {
            return bad("region must not be empty".into());
        }
        if self.access_key_id.is_empty() || self.secret_access_key.is_empty() {
            return bad(format!(
                "access_key_id and secret_access_key are required (secret also as \
                 BILLTRAIL_BUCKETS_{}_SECRET_ACCESS_KEY)",
                env_name(bucket)
            ));
        }
        Ok(())
    }
}

/// Every bucket billtrail knows, each routed to the store that holds it.
pub struct Buckets {
    local: LocalStore,
    remote: BTreeMap<String, S3Store>,
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buckets")
            .field("local", &self.local)
            .field("remote", &self.remote.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Buckets {
    /// Local buckets under `local_root` (`DATA_DIR/buckets`), and the buckets of `s3` on their
    /// endpoints. Fails on a bad bucket name or an unusable configuration; sends no request.
    pub fn new(
        local_root: PathBuf,
        s3: BTreeMap<String, BucketConfig>,
    ) -> Result<Self, ObjectError> {
        let mut remote = BTreeMap::new();
        for (name, config) in s3 {
            let store = S3Store::new(&name, &config)?;
            remote.insert(name, store);
        }
        Ok(Buckets {
            local: LocalStore::new(local_root),
            remote,
        })
    }

    /// The store of the buckets that are folders under the data dir.
    pub fn local(&self) -> &LocalStore {
        &self.local
    }

    /// Whether `bucket` lives on an S3-compatible endpoint (by configuration).
    pub fn is_remote(&self, bucket: &str) -> bool {
        self.remote.contains_key(bucket)
    }

    /// The names of the buckets configured on S3-compatible endpoints.
    pub fn remote_names(&self) -> impl Iterator<Item = &str> {
        self.remote.keys().map(String::as_str)
    }

    /// The store that holds `bucket`.
    pub fn store_for(&self, bucket: &str) -> &dyn ObjectStore {
        match self.remote.get(bucket) {
            Some(s) => s,
            None => &self.local,
        }
    }
}

#[async_trait::async_trait]
impl ObjectStore for Buckets {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        metadata: &Metadata,
    ) -> Result<(), ObjectError> {
        self.store_for(bucket)
            .put(bucket, key, body, metadata)
            .await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        self.store_for(bucket).get(bucket, key).await
    }

    async fn get_each(
        &self,
        bucket: &str,
        keys: Vec<String>,
        f: crate::ProcessFn,
    ) -> Vec<crate::Processed> {
        self.store_for(bucket).get_each(bucket, keys, f).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, ObjectError> {
        self.store_for(bucket).head(bucket, key).await
    }

    async fn list(&self, bucket: &str, req: &ListRequest<'_>) -> Result<Listing, ObjectError> {
        self.store_for(bucket).list(bucket, req).await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        self.store_for(bucket).delete(bucket, key).await
    }

    async fn create_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        validate_bucket_name(bucket)?;
        self.store_for(bucket).create_bucket(bucket).await
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool, ObjectError> {
        self.store_for(bucket).bucket_exists(bucket).await
    }

    /// The local buckets and every configured remote bucket (whether or not it exists on its
    /// endpoint yet: asking each endpoint would make one outage fail the whole list).
    async fn list_buckets(&self) -> Result<Vec<String>, ObjectError> {
        let mut names = self.local.list_buckets().await?;
        names.extend(self.remote.keys().cloned());
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn bucket_created(&self, bucket: &str) -> Result<Option<i64>, ObjectError> {
        self.store_for(bucket).bucket_created(bucket).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_the_documented_toml_and_redacts_the_secret() {
        let text = r#"
            endpoint = "http://127.0.0.1:9000"
            region = "us-east-1"
            access_key_id = "AKIAEXAMPLE"
            secret_access_key = "very-secret"
            path_style = true
        "#;
        let c: BucketConfig = toml::from_str(text).expect("toml");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(c.path_style);
        assert_eq!(c.secret_access_key.expose(), "very-secret");
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert!(c.validate("trail-bucket").is_ok());
        assert!(toml::from_str::<BucketConfig>("endpont = \"x\"").is_err());
    }

    #[test]
    fn env_fills_in_the_secret() {
        let c = BucketConfig {
            access_key_id: "AKIA".into(),
            ..BucketConfig::default()
        };
        assert!(c.validate("trail-bucket").is_err(), "no secret yet");
        let env = [
            (
                "BILLTRAIL_BUCKETS_TRAIL_BUCKET_SECRET_ACCESS_KEY".to_string(),
                "s3cr3t".to_string(),
            ),
            (
                "BILLTRAIL_BUCKETS_TRAIL_BUCKET_PATH_STYLE".to_string(),
                "true".to_string(),
            ),
            (
                "BILLTRAIL_BUCKETS_OTHER_SECRET_ACCESS_KEY".to_string(),
                "no".to_string(),
            ),
        ];
        let c = c.with_env("trail-bucket", env).expect("env");
        assert_eq!(c.secret_access_key.expose(), "s3cr3t");
        assert!(c.path_style);
        assert!(c.validate("trail-bucket").is_ok());
        assert!(BucketConfig {
            endpoint: Some("ftp://x".into()),
            ..c
        }
        .validate("trail-bucket")
        .is_err());
    }

    #[tokio::test]
    async fn configured_buckets_route_to_s3_and_the_rest_stay_local() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = BucketConfig {
            endpoint: Some("http://127.0.0.1:9".into()),
            access_key_id: "AKIA".into(),
            secret_access_key: SecretString::new("x"),
            path_style: true,
            ..BucketConfig::default()
        };
        let b = Buckets::new(
            dir.path().join("buckets"),
            BTreeMap::from([("remote-bucket".to_string(), config)]),
        )
        .expect("buckets");
        assert!(b.is_remote("remote-bucket"));
        assert!(!b.is_remote("local-bucket"));
        b.create_bucket("local-bucket").await.expect("local");
        assert!(dir.path().join("buckets/local-bucket").is_dir());
        // Nothing listens on port 9: the remote bucket fails as storage, retryably.
        let e = b
            .put(
                "remote-bucket",
                "k",
                Bytes::from_static(b"x"),
                &Metadata::new(),
            )
            .await
            .expect_err("unreachable");
        assert!(e.is_retryable(), "{e}");
        assert!(!dir.path().join("buckets/remote-bucket").exists());
        assert_eq!(
            b.list_buckets().await.expect("list"),
            vec!["local-bucket".to_string(), "remote-bucket".to_string()]
        );
    }
}
