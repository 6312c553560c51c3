//! [`S3Store`]: one bucket on any S3-compatible endpoint (AWS S3, MinIO, Garage, s3s-fs, ...),
//! through the `object_store` crate's S3 client (Apache Arrow's, used by DataFusion and
//! delta-rs).
//!
//! Why `object_store` 0.13 and not `aws-sdk-s3` or `object_store` 0.14: 0.13 signs with
//! `ring` and speaks through `reqwest` 0.12, both already in this workspace, so it adds little
//! to the build; the AWS SDK, and `object_store` 0.14 (aws-lc-rs, reqwest 0.13), would bring a
//! second TLS and crypto stack. It does everything delivery needs: PUT with `x-amz-meta-*`
//! (`Attribute::Metadata`), GET and HEAD returning them, and ListObjectsV2 with an arbitrary
//! prefix, delimiter, start-after and max-keys (`PaginatedListStore`).
//!
//! What it cannot do is create a bucket, so [`S3Store`] sends that one request itself, as a
//! presigned `PUT /<bucket>/` (S3's `CreateBucket`).
//!
//! Errors: a 404 is `NoSuchBucket` or `NoSuchKey`, by S3's error code or, for GET and HEAD, by
//! asking whether the bucket exists (HEAD has no body to say); everything else (network, 5xx after
//! `object_store`'s own few retries, 403 from wrong credentials) is `Storage`, which callers
//! retry with backoff.

use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::ObjectStore as _;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, GetOptions, PutMode,
    PutOptions, PutPayload, RetryConfig,
};

use crate::buckets::BucketConfig;
use crate::{
    validate_bucket_name, validate_key, validate_metadata, ListRequest, Listing, Metadata, Object,
    ObjectError, ObjectMeta, ObjectStore,
};

/// One bucket on an S3-compatible endpoint.
#[derive(Debug)]
pub struct S3Store {
    bucket: String,
    region: String,
    client: AmazonS3,
    http: reqwest::Client,
}

/// The whole chain of an error, for matching S3 error codes and for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn quoted(etag: Option<&str>) -> String {
    match etag {
        Some(e) if e.starts_with('"') => e.to_string(),
        Some(e) => format!("\"{e}\""),
        None => "\"\"".to_string(),
    }
}

impl S3Store {
    /// A store for `bucket` as `config` describes. Builds the client; sends nothing.
    pub fn new(bucket: &str, config: &BucketConfig) -> Result<Self, ObjectError> {
        validate_bucket_name(bucket)?;
        config.validate(bucket)?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(config.secret_access_key.expose())
            .with_virtual_hosted_style_request(!config.path_style)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                // Delivery retries with its own backoff; fail within seconds so an outage
                // shows in GetTrailStatus.
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(true)
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            );
        if let Some(endpoint) = config.endpoint.as_deref() {
            let endpoint = endpoint.trim_end_matches('/');
            // object_store wants the bucket in a virtual-hosted endpoint already.
            let endpoint = if config.path_style {
                endpoint.to_string()
            } else {
                match endpoint.split_once("://") {
                    Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
                    None => format!("{bucket}.{endpoint}"),
                }
            };
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder
            .build()
            .map_err(|e| ObjectError::Storage(format!("bucket {bucket}: {}", chain(&e))))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ObjectError::Storage(format!("HTTP client: {e}")))?;
        Ok(S3Store {
            bucket: bucket.to_string(),
            region: config.region.clone(),
            client,
            http,
        })
    }

    /// The bucket this store serves.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn check_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        if bucket == self.bucket {
            Ok(())
        } else {
            Err(ObjectError::NoSuchBucket(bucket.to_string()))
        }
    }

    fn path(key: &str) -> Result<Path, ObjectError> {
        validate_key(key)?;
        Path::parse(key).map_err(|e| ObjectError::InvalidKey(format!("{key:?}: {e}")))
    }

    /// Maps an `object_store` error; `key` names the object for `NoSuchKey`.
    fn error(&self, key: Option<&str>, e: object_store::Error) -> ObjectError {
        let text = chain(&e);
        if text.contains("NoSuchBucket") {
            return ObjectError::NoSuchBucket(self.bucket.clone());
        }
        match (&e, key) {
            (object_store::Error::NotFound { .. }, Some(key)) => {
                ObjectError::NoSuchKey(key.to_string())
            }
            (object_store::Error::NotFound { .. }, None) => {
                ObjectError::NoSuchBucket(self.bucket.clone())
            }
            _ => ObjectError::Storage(format!("bucket {}: {text}", self.bucket)),
        }
    }

    /// For a 404 without a body (HEAD): the key is missing, or the whole bucket is.
    async fn missing(&self, key: &str) -> ObjectError {
        match self.exists().await {
            Ok(false) => ObjectError::NoSuchBucket(self.bucket.clone()),
            Ok(true) => ObjectError::NoSuchKey(key.to_string()),
            Err(e) => e,
        }
    }

    async fn exists(&self) -> Result<bool, ObjectError> {
        let opts = PaginatedListOptions {
            max_keys: Some(1),
            ..PaginatedListOptions::default()
        };
        match self.client.list_paginated(None, opts).await {
            Ok(_) => Ok(true),
            Err(e) => match self.error(None, e) {
                ObjectError::NoSuchBucket(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn read(&self, bucket: &str, key: &str, head: bool) -> Result<Object, ObjectError> {
        self.check_bucket(bucket)?;
        let path = Self::path(key)?;
        let opts = GetOptions {
            head,
            ..GetOptions::default()
        };
        let result = match self.client.get_opts(&path, opts).await {
            Ok(r) => r,
            // HEAD has no body to tell a missing key from a missing bucket, and some servers
            // (s3s-fs) answer GET in a missing bucket with NoSuchKey: ask.
            Err(object_store::Error::NotFound { .. }) => return Err(self.missing(key).await),
            Err(e) => return Err(self.error(Some(key), e)),
        };
        let mut metadata = Metadata::new();
        for (attr, value) in result.attributes.iter() {
            if let Attribute::Metadata(name) = attr {
                metadata.insert(name.to_ascii_lowercase(), value.as_ref().to_string());
            }
        }
        let meta = ObjectMeta {
            key: key.to_string(),
            size: result.meta.size,
            last_modified: result.meta.last_modified.timestamp(),
            etag: quoted(result.meta.e_tag.as_deref()),
            metadata,
        };
        let body = if head {
            Bytes::new()
        } else {
            result.bytes().await.map_err(|e| self.error(Some(key), e))?
        };
        Ok(Object { meta, body })
    }
}

/// Whether `s` is itself a common prefix of `req` (ends at its first delimiter after the
/// prefix), as the last entry of a rolled-up page is.
fn is_common_prefix(req: &ListRequest<'_>, s: &str) -> bool {
    let Some(d) = req.delimiter.filter(|d| !d.is_empty()) else {
        return false;
    };
    s.strip_prefix(req.prefix)
        .and_then(|rest| rest.find(d).map(|at| at + d.len() == rest.len()))
        .unwrap_or(false)
}

#[async_trait::async_trait]
impl ObjectStore for S3Store {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        metadata: &Metadata,
    ) -> Result<(), ObjectError> {
        self.check_bucket(bucket)?;
        validate_metadata(metadata)?;
        let path = Self::path(key)?;
        let mut attributes = Attributes::new();
        for (name, value) in metadata {
            attributes.insert(
                Attribute::Metadata(name.clone().into()),
                AttributeValue::from(value.clone()),
            );
        }
        let opts = PutOptions {
            mode: PutMode::Overwrite,
            attributes,
            ..PutOptions::default()
        };
        self.client
            .put_opts(&path, PutPayload::from_bytes(body), opts)
            .await
            .map(|_| ())
            .map_err(|e| self.error(Some(key), e))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        self.read(bucket, key, false).await
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, ObjectError> {
        self.read(bucket, key, true).await.map(|o| o.meta)
    }

    async fn list(&self, bucket: &str, req: &ListRequest<'_>) -> Result<Listing, ObjectError> {
        self.check_bucket(bucket)?;
        // S3 servers differ on whether a start-after equal to a common prefix skips the keys
        // under it; asking to start after everything under it makes them all agree.
        let offset = req.start_after.map(|s| {
            if is_common_prefix(req, s) {
                format!("{s}\u{10FFFF}")
            } else {
                s.to_string()
            }
        });
        let opts = PaginatedListOptions {
            offset,
            delimiter: req.delimiter.map(|d| d.to_string().into()),
            max_keys: Some(req.page_size()),
            ..PaginatedListOptions::default()
        };
        let prefix = (!req.prefix.is_empty()).then_some(req.prefix);
        let page = self
            .client
            .list_paginated(prefix, opts)
            .await
            .map_err(|e| self.error(None, e))?;
        let mut listing = Listing {
            truncated: page.page_token.is_some(),
            ..Listing::default()
        };
        for o in page.result.objects {
            listing.objects.push(ObjectMeta {
                key: o.location.to_string(),
                size: o.size,
                last_modified: o.last_modified.timestamp(),
                etag: quoted(o.e_tag.as_deref()),
                metadata: Metadata::new(),
            });
        }
        let d = req.delimiter.unwrap_or_default();
        for p in page.result.common_prefixes {
            // object_store's paths drop a trailing '/': a common prefix ends with the delimiter.
            let mut p = p.to_string();
            if !p.ends_with(d) {
                p.push('/');
            }
            if req.start_after != Some(p.as_str()) {
                listing.common_prefixes.push(p);
            }
        }
        Ok(listing)
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        self.check_bucket(bucket)?;
        let path = Self::path(key)?;
        object_store::ObjectStoreExt::delete(&self.client, &path)
            .await
            .map_err(|e| self.error(None, e))
    }

    async fn create_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        validate_bucket_name(bucket)?;
        if bucket != self.bucket {
            return Err(ObjectError::InvalidBucketName(format!(
                "{bucket}: this store serves only {}",
                self.bucket
            )));
        }
        let url = self
            .client
            .signed_url(
                http::Method::PUT,
                &Path::default(),
                Duration::from_secs(300),
            )
            .await
            .map_err(|e| self.error(None, e))?;
        let body = if self.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            )
        };
        let resp = self
            .http
            .put(url)
            .body(body)
            .send()
            .await
            .map_err(|e| ObjectError::Storage(format!("bucket {bucket}: {}", chain(&e))))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        if status.as_u16() == 409
            && (text.contains("BucketAlreadyOwnedByYou") || text.contains("BucketAlreadyExists"))
        {
            return Err(ObjectError::BucketExists(bucket.to_string()));
        }
        let shown: String = text.chars().take(500).collect();
        Err(ObjectError::Storage(format!(
            "bucket {bucket}: CreateBucket answered {status}: {shown}"
        )))
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool, ObjectError> {
        if bucket != self.bucket {
            return Ok(false);
        }
        self.exists().await
    }

    async fn list_buckets(&self) -> Result<Vec<String>, ObjectError> {
        Ok(if self.exists().await? {
            vec![self.bucket.clone()]
        } else {
            Vec::new()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_detection() {
        let req = ListRequest {
            prefix: "AWSLogs/",
            delimiter: Some("/"),
            ..ListRequest::default()
        };
        assert!(is_common_prefix(&req, "AWSLogs/123/"));
        assert!(!is_common_prefix(&req, "AWSLogs/123/x"));
        assert!(!is_common_prefix(&req, "AWSLogs/123"));
        assert!(!is_common_prefix(&req, "Other/123/"));
        let none = ListRequest::default();
        assert!(!is_common_prefix(&none, "a/"));
    }

    #[test]
    fn etags_are_quoted() {
        assert_eq!(quoted(Some("\"ab\"")), "\"ab\"");
        assert_eq!(quoted(Some("ab")), "\"ab\"");
    }
}
