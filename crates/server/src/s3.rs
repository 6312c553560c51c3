//! S3's REST API over the trail buckets, on the one listen address, path-style
//! (`/<bucket>/<key>`), so that `aws s3 ls`, `aws s3 cp` and `aws cloudtrail validate-logs`
//! work against billtrail with `AWS_ENDPOINT_URL_S3`.
//!
//! Served, in S3's REST-XML and with S3's error shape: `ListBuckets` (`GET /`), `ListObjects`
//! v1 and v2, `GetBucketLocation`, `HeadBucket`, `CreateBucket`, `GetObject` (with a single
//! `Range`) and `HeadObject`. The operations are the closed set [`Op`]; routing is one `match`.
//!
//! Invariants:
//! - Every request is SigV4-authenticated (service `s3`: single URI encoding, unsigned payloads
//!   allowed) and authorized by the caller's IAM policies (`s3:ListBucket`, `s3:GetObject`, ...);
//!   root may do anything. Failures are spelled as S3 spells them: `InvalidAccessKeyId`,
//!   `SignatureDoesNotMatch`, `RequestTimeTooSkewed`, `AccessDenied`, each with its status.
//! - Objects are read-only here: only delivery writes (through [`billtrail_objects::Buckets`]
//!   directly). `PutObject`, `DeleteObject` and the other writes are `AccessDenied`, before any
//!   authentication, since no signature could make them succeed.
//! - S3 calls are data events, which CloudTrail's event history does not show: none is
//!   recorded.
//! - Internal failures are logged and answered with a generic `InternalError` (500); a remote
//!   bucket's endpoint failing is `ServiceUnavailable` (503), which clients retry.
//!
//! What this module is not: a general S3 server. There are no ACLs, bucket policies,
//! versions, multipart uploads or virtual-hosted addressing; buckets have no owner account
//! (one installation, one owner: the management account).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use billtrail_auth::principal::Principal;
use billtrail_auth::sigv4::{RequestParts, SigV4Error, WireProtocol};
use billtrail_objects::{ListRequest, Listing, ObjectError, ObjectMeta, ObjectStore};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::app::AppState;
use crate::authn::{authenticate_detailed, AuthnError};

/// S3's XML namespace.
const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Bucket names that `GET /<name>` cannot reach, because the server's own routes take them.
pub const RESERVED_BUCKET_NAMES: &[&str] = &["health", "metrics"];

/// The region every bucket is reported in (`GetBucketLocation`, `x-amz-bucket-region`).
const REGION: &str = "us-east-1";

/// Every S3 operation this API knows, served or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ListBuckets,
    ListObjects,
    ListObjectsV2,
    GetBucketLocation,
    HeadBucket,
    CreateBucket,
    GetObject,
    HeadObject,
    /// A write: only delivery writes objects. Named as S3 names it, for metrics.
    Refused(&'static str),
    /// A read of a bucket or object subresource (`?acl`, `?versioning`, ...): a feature that is
    /// never configured on billtrail's buckets, answered as S3 answers for such a bucket.
    Subresource(&'static Sub),
    /// A method the resource has no operation for.
    MethodNotAllowed,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::HeadBucket => "HeadBucket",
            Op::CreateBucket => "CreateBucket",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::Refused(name) => name,
            Op::Subresource(sub) => sub.op,
            Op::MethodNotAllowed => "",
        }
    }

    /// The IAM action it needs, on the bucket or the object.
    fn action(self) -> Option<&'static str> {
        match self {
            Op::ListBuckets => Some("s3:ListAllMyBuckets"),
            Op::ListObjects | Op::ListObjectsV2 | Op::HeadBucket => Some("s3:ListBucket"),
            Op::GetBucketLocation => Some("s3:GetBucketLocation"),
            Op::CreateBucket => Some("s3:CreateBucket"),
            Op::GetObject | Op::HeadObject => Some("s3:GetObject"),
            Op::Subresource(sub) => Some(sub.action),
            Op::Refused(_) | Op::MethodNotAllowed => None,
        }
    }
}

/// A subresource S3 reads: its query name, the operation and the IAM action, and what a bucket
/// (or object) where the feature was never configured answers. Delivery configures none of
/// them, and the S3 API here is read-only, so that is every bucket's answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sub {
    query: &'static str,
    op: &'static str,
    action: &'static str,
    answer: Unset,
}

/// What S3 answers for a feature never configured.
#[derive(Debug, PartialEq, Eq)]
enum Unset {
    /// This error: status, code and message (mostly 404 "no such configuration").
    Missing(u16, &'static str, &'static str),
    /// An empty document with this root.
    Empty(&'static str),
    /// The owner has full control, nobody else any grant (`GetBucketAcl`, `GetObjectAcl`).
    OwnerAcl,
    /// `<Tagging><TagSet/></Tagging>`, for an object (buckets without tags answer 404).
    NoTags,
    /// `BucketOwner` pays.
    OwnerPays,
    /// A `List...Configurations` answer with no entry; with an `id`, `NoSuchConfiguration`.
    NoConfigurations(&'static str),
    /// No multipart upload in progress.
    NoUploads,
    /// Versioning never enabled: every object is its only version, `null`.
    NullVersions,
    /// What `GetObjectAttributes` is asked for, from the object's facts.
    Attributes,
}

const fn sub(query: &'static str, op: &'static str, action: &'static str, answer: Unset) -> Sub {
    Sub {
        query,
        op,
        action,
        answer,
    }
}

/// Subresources of a bucket.
const BUCKET_SUBRESOURCES: &[Sub] = &[
    sub(
        "accelerate",
        "GetBucketAccelerateConfiguration",
        "s3:GetAccelerateConfiguration",
        Unset::Empty("AccelerateConfiguration"),
    ),
    sub("acl", "GetBucketAcl", "s3:GetBucketAcl", Unset::OwnerAcl),
    sub(
        "analytics",
        "GetBucketAnalyticsConfiguration",
        "s3:GetAnalyticsConfiguration",
        Unset::NoConfigurations("ListBucketAnalyticsConfigurationResult"),
    ),
    sub(
        "cors",
        "GetBucketCors",
        "s3:GetBucketCORS",
        Unset::Missing(
            404,
            "NoSuchCORSConfiguration",
            "The CORS configuration does not exist",
        ),
    ),
    sub(
        "encryption",
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        Unset::Missing(
            404,
            "ServerSideEncryptionConfigurationNotFoundError",
            "The server side encryption configuration was not found",
        ),
    ),
    sub(
        "intelligent-tiering",
        "GetBucketIntelligentTieringConfiguration",
        "s3:GetIntelligentTieringConfiguration",
        Unset::NoConfigurations("ListBucketIntelligentTieringConfigurationsOutput"),
    ),
    sub(
        "inventory",
        "GetBucketInventoryConfiguration",
        "s3:GetInventoryConfiguration",
        Unset::NoConfigurations("ListInventoryConfigurationsResult"),
    ),
    sub(
        "lifecycle",
        "GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
        Unset::Missing(
            404,
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
        ),
    ),
    sub(
        "logging",
        "GetBucketLogging",
        "s3:GetBucketLogging",
        Unset::Empty("BucketLoggingStatus"),
    ),
    sub(
        "metrics",
        "GetBucketMetricsConfiguration",
        "s3:GetMetricsConfiguration",
        Unset::NoConfigurations("ListMetricsConfigurationsResult"),
    ),
    sub(
        "notification",
        "GetBucketNotificationConfiguration",
        "s3:GetBucketNotification",
        Unset::Empty("NotificationConfiguration"),
    ),
    sub(
        "object-lock",
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        Unset::Missing(
            404,
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        ),
    ),
    sub(
        "ownershipControls",
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        Unset::Missing(
            404,
            "OwnershipControlsNotFoundError",
            "The bucket ownership controls were not found",
        ),
    ),
    sub(
        "policy",
        "GetBucketPolicy",
        "s3:GetBucketPolicy",
        Unset::Missing(
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        ),
    ),
    sub(
        "policyStatus",
        "GetBucketPolicyStatus",
        "s3:GetBucketPolicyStatus",
        Unset::Missing(
            404,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist",
        ),
    ),
    sub(
        "publicAccessBlock",
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        Unset::Missing(
            404,
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
        ),
    ),
    sub(
        "replication",
        "GetBucketReplication",
        "s3:GetReplicationConfiguration",
        Unset::Missing(
            404,
            "ReplicationConfigurationNotFoundError",
            "The replication configuration was not found",
        ),
    ),
    sub(
        "requestPayment",
        "GetBucketRequestPayment",
        "s3:GetBucketRequestPayment",
        Unset::OwnerPays,
    ),
    sub(
        "tagging",
        "GetBucketTagging",
        "s3:GetBucketTagging",
        Unset::Missing(404, "NoSuchTagSet", "The TagSet does not exist"),
    ),
    sub(
        "uploads",
        "ListMultipartUploads",
        "s3:ListBucketMultipartUploads",
        Unset::NoUploads,
    ),
    sub(
        "versioning",
        "GetBucketVersioning",
        "s3:GetBucketVersioning",
        Unset::Empty("VersioningConfiguration"),
    ),
    sub(
        "versions",
        "ListObjectVersions",
        "s3:ListBucketVersions",
        Unset::NullVersions,
    ),
    sub(
        "website",
        "GetBucketWebsite",
        "s3:GetBucketWebsite",
        Unset::Missing(
            404,
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
        ),
    ),
];

/// Subresources of an object.
const OBJECT_SUBRESOURCES: &[Sub] = &[
    sub("acl", "GetObjectAcl", "s3:GetObjectAcl", Unset::OwnerAcl),
    sub("attributes", "GetObjectAttributes", "s3:GetObjectAttributes", Unset::Attributes),
    sub("legal-hold", "GetObjectLegalHold", "s3:GetObjectLegalHold", Unset::Missing(400, "InvalidRequest", "Bucket is missing Object Lock Configuration")),
    sub("retention", "GetObjectRetention", "s3:GetObjectRetention", Unset::Missing(400, "InvalidRequest", "Bucket is missing Object Lock Configuration")),
    sub("tagging", "GetObjectTagging", "s3:GetObjectTagging", Unset::NoTags),
    sub("uploadId", "ListParts", "s3:ListMultipartUploadParts", Unset::Missing(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")),
];

/// A request's parsed target.
struct Target {
    bucket: Option<String>,
    key: Option<String>,
    query: Vec<(String, String)>,
}

impl Target {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
}

fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let s: Cow<'_, str> = if plus_is_space && s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    percent_decode_str(&s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `/<bucket>[/<key>]` and the query, decoded; `None` when not UTF-8.
fn parse_target(path: &str, query: &str) -> Option<Target> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    let bucket = (!bucket.is_empty())
        .then(|| decode(bucket, false))
        .flatten();
    let key = match key {
        Some(k) if !k.is_empty() => Some(decode(k, false)?),
        _ => None,
    };
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.push((decode(k, true)?, decode(v, true)?));
    }
    Some(Target {
        bucket,
        key,
        query: params,
    })
}

fn route(method: &Method, t: &Target) -> Op {
    let sub = |table: &'static [Sub]| table.iter().find(|s| t.has(s.query));
    match (&t.bucket, &t.key) {
        (None, _) => match *method {
            Method::GET => Op::ListBuckets,
            _ => Op::MethodNotAllowed,
        },
        (Some(_), None) => match *method {
            Method::GET if t.has("location") => Op::GetBucketLocation,
            Method::GET => match sub(BUCKET_SUBRESOURCES) {
                Some(sub) => Op::Subresource(sub),
                None if t.param("list-type") == Some("2") => Op::ListObjectsV2,
                None => Op::ListObjects,
            },
            Method::HEAD => Op::HeadBucket,
            Method::PUT => match sub(BUCKET_SUBRESOURCES) {
                Some(_) => Op::Refused("PutBucketConfiguration"),
                None => Op::CreateBucket,
            },
            Method::DELETE => Op::Refused("DeleteBucket"),
            Method::POST => Op::Refused("DeleteObjects"),
            _ => Op::MethodNotAllowed,
        },
        (Some(_), Some(_)) => match *method {
            Method::GET => match sub(OBJECT_SUBRESOURCES) {
                Some(sub) => Op::Subresource(sub),
                None => Op::GetObject,
            },
            Method::HEAD => Op::HeadObject,
            Method::PUT => Op::Refused("PutObject"),
            Method::DELETE => Op::Refused("DeleteObject"),
            Method::POST => Op::Refused("CreateMultipartUpload"),
            _ => Op::MethodNotAllowed,
        },
    }
}

/// An S3 error: code, status, message, and what it is about.
#[derive(Debug)]
struct S3Error {
    code: &'static str,
    status: u16,
    message: String,
    /// Extra elements, e.g. `("BucketName", "b")`.
    extra: Vec<(&'static str, String)>,
}

impl S3Error {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        S3Error {
            code,
            status,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    fn internal() -> Self {
        S3Error::new(
            "InternalError",
            500,
            "We encountered an internal error. Please try again.",
        )
    }

    fn no_such_bucket(bucket: &str) -> Self {
        S3Error::new("NoSuchBucket", 404, "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    fn no_such_key(key: &str) -> Self {
        S3Error::new("NoSuchKey", 404, "The specified key does not exist.").with("Key", key)
    }

    fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        S3Error::new("InvalidArgument", 400, message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    fn access_denied(message: impl Into<String>) -> Self {
        S3Error::new("AccessDenied", 403, message)
    }

    /// A store error on a read of `bucket` (and `key`): invalid names cannot exist.
    fn from_store(e: ObjectError, bucket: &str, key: Option<&str>) -> Self {
        match e {
            ObjectError::NoSuchBucket(_) | ObjectError::InvalidBucketName(_) => {
                S3Error::no_such_bucket(bucket)
            }
            ObjectError::NoSuchKey(_) | ObjectError::InvalidKey(_) => {
                S3Error::no_such_key(key.unwrap_or_default())
            }
            ObjectError::BucketExists(_) => S3Error::new(
                "BucketAlreadyOwnedByYou",
                409,
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
            .with("BucketName", bucket),
            ObjectError::Storage(detail) => {
                tracing::warn!(bucket, detail, "a bucket's storage failed");
                S3Error::new(
                    "ServiceUnavailable",
                    503,
                    "The bucket's storage is unavailable. Please try again.",
                )
            }
            ObjectError::InvalidMetadata(detail) => {
                tracing::error!(bucket, detail, "invalid metadata on a read");
                S3Error::internal()
            }
        }
    }

    fn from_authn(e: AuthnError) -> Self {
        match e {
            AuthnError::Signature(e) => {
                let code = e.code_for(WireProtocol::S3);
                let status = e.status_for(WireProtocol::S3);
                let err = S3Error::new(code, status, s3_message(&e));
                match e {
                    SigV4Error::PresignedExpired {
                        expired_at,
                        server_time,
                    } => err
                        .with("Expires", expired_at)
                        .with("ServerTime", server_time),
                    SigV4Error::PayloadHashMismatch { claimed, computed } => err
                        .with("ClientComputedContentSHA256", claimed)
                        .with("S3ComputedContentSHA256", computed),
                    _ => err,
                }
            }
            AuthnError::UnknownKey => S3Error::new(
                "InvalidAccessKeyId",
                403,
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            AuthnError::InvalidToken => S3Error::new(
                "InvalidToken",
                400,
                "The provided token is malformed or otherwise invalid.",
            ),
            AuthnError::ExpiredToken => {
                S3Error::new("ExpiredToken", 400, "The provided token has expired.")
            }
            AuthnError::Internal => S3Error::internal(),
        }
    }
}

/// S3's wording where it differs from the JSON services'.
fn s3_message(e: &SigV4Error) -> String {
    match e {
        SigV4Error::MissingAuthenticationToken => "Access Denied".into(),
        SigV4Error::SignatureExpired(_) => {
            "The difference between the request time and the current time is too large.".into()
        }
        SigV4Error::PresignedExpired { .. } => "Request has expired".into(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// XML

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters even escaped; keys hold none.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
}

struct Xml(String);

impl Xml {
    fn new(root: &str) -> Self {
        Xml(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">"
        ))
    }

    fn open(&mut self, name: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.0, text);
        self.close(name)
    }

    fn finish(mut self, root: &str) -> Vec<u8> {
        self.close(root);
        self.0.into_bytes()
    }
}

/// `2024-01-02T03:04:05.000Z`, as S3 lists times.
fn iso_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    t.format(fmt).unwrap_or_default()
}

/// `Tue, 02 Jan 2024 03:04:05 GMT`, as HTTP headers carry times.
fn http_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(fmt).unwrap_or_default()
}

/// S3's `EncodingType=url`: everything but unreserved characters and '/' percent-encoded.
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// The canonical user ID S3 shows for an account: 64 hex characters.
fn canonical_id(account_id: &str) -> String {
    hex::encode(Sha256::digest(format!(
        "billtrail-canonical-user:{account_id}"
    )))
}

// ---------------------------------------------------------------------------------------------
// The handler

/// What one request came to.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn new(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    fn xml(body: Vec<u8>) -> Self {
        Reply::new(StatusCode::OK, body).header("content-type", "application/xml")
    }

    /// Adds a header; a value that is not a valid header value is left out.
    fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.append(name, v);
        }
        self
    }
}

fn request_ids() -> (String, String) {
    let id = uuid::Uuid::new_v4();
    let request_id = id.simple().to_string().to_uppercase();
    let host_id = base64::engine::general_purpose::STANDARD.encode(id.as_bytes());
    (
        request_id.get(..16).unwrap_or(&request_id).to_string(),
        host_id,
    )
}

/// The router's entry for `GET /`, `/{bucket}`, `/{bucket}/` and `/{bucket}/{*key}`.
pub async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let (request_id, host_id) = request_ids();
    let (parts, body) = req.into_parts();
    let is_head = parts.method == Method::HEAD;
    let target = parse_target(parts.uri.path(), parts.uri.query().unwrap_or(""));
    let (op, result) = match target {
        None => (
            Op::MethodNotAllowed,
            Err(S3Error::new(
                "InvalidURI",
                400,
                "Couldn't parse the specified URI.",
            )),
        ),
        Some(target) => {
            let op = route(&parts.method, &target);
            (op, serve(&state, op, &target, &parts, body).await)
        }
    };
    let code = match &result {
        Ok(_) => "200",
        Err(e) => e.code,
    };
    state.metrics.observe("s3", op.name(), code, started);
    let reply = match result {
        Ok(r) => r,
        Err(e) => {
            if e.status >= 500 {
                tracing::warn!(request_id, code = e.code, "S3 request failed");
            }
            error_reply(e, &request_id, &host_id)
        }
    };
    let mut response = Response::new(if is_head {
        Body::empty()
    } else {
        Body::from(reply.body)
    });
    *response.status_mut() = reply.status;
    let h = response.headers_mut();
    h.extend(reply.headers);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&host_id) {
        h.insert("x-amz-id-2", v);
    }
    h.insert(header::SERVER, HeaderValue::from_static("billtrail"));
    response
}

fn error_reply(e: S3Error, request_id: &str, host_id: &str) -> Reply {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    out.push_str(e.code);
    out.push_str("</Code><Message>");
    escape_into(&mut out, &e.message);
    out.push_str("</Message>");
    for (name, value) in &e.extra {
        out.push('<');
        out.push_str(name);
        out.push('>');
        escape_into(&mut out, value);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("<RequestId>");
    out.push_str(request_id);
    out.push_str("</RequestId><HostId>");
    out.push_str(host_id);
    out.push_str("</HostId></Error>");
    Reply::new(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        out.into_bytes(),
    )
    .header("content-type", "application/xml")
}

/// Authenticates, authorizes and runs one operation.
async fn serve(
    state: &AppState,
    op: Op,
    t: &Target,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<Reply, S3Error> {
    match op {
        Op::Refused(_) => {
            return Err(S3Error::access_denied(
                "Access Denied: billtrail serves trail buckets read-only; only trail delivery \
                 writes objects.",
            ))
        }
        Op::MethodNotAllowed => {
            return Err(S3Error::new(
                "MethodNotAllowed",
                405,
                "The specified method is not allowed against this resource.",
            )
            .with("Method", parts.method.as_str())
            .with(
                "ResourceType",
                if t.key.is_some() { "OBJECT" } else { "BUCKET" },
            ))
        }
        _ => {}
    }
    let body = crate::app::read_body(body, state.max_body_bytes)
        .await
        .map_err(|_| S3Error::new("MaxMessageLengthExceeded", 400, "Your request was too big."))?;
    let principal = authenticate(state, parts, &body)?;
    authorize(state, &principal, op, t)?;
    let bucket = t.bucket.as_deref().unwrap_or_default();
    let objects: &dyn ObjectStore = state.objects.as_ref();
    match op {
        Op::ListBuckets => list_buckets(state, objects).await,
        Op::ListObjects => list_objects(state, objects, bucket, t, false).await,
        Op::ListObjectsV2 => list_objects(state, objects, bucket, t, true).await,
        Op::GetBucketLocation => {
            require_bucket(objects, bucket).await?;
            let mut x = Xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{NS}\">"
            ));
            // us-east-1 is the empty constraint.
            if REGION != "us-east-1" {
                escape_into(&mut x.0, REGION);
            }
            Ok(Reply::xml(x.finish("LocationConstraint")))
        }
        Op::HeadBucket => {
            require_bucket(objects, bucket).await?;
            Ok(Reply::new(StatusCode::OK, Vec::new()).header("x-amz-bucket-region", REGION))
        }
        Op::CreateBucket => create_bucket(objects, bucket, &body).await,
        Op::GetObject | Op::HeadObject => {
            let key = t.key.as_deref().unwrap_or_default();
            get_object(objects, bucket, key, &parts.headers, op == Op::HeadObject).await
        }
        Op::Subresource(sub) => unset(state, objects, bucket, t, &parts.headers, sub).await,
        Op::Refused(_) | Op::MethodNotAllowed => Err(S3Error::internal()),
    }
}

fn authenticate(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Result<Principal, S3Error> {
    let rp = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let (principal, claim) =
        authenticate_detailed(&state.env, &state.keys, &rp).map_err(S3Error::from_authn)?;
    if claim.service != "s3" {
        return Err(S3Error::new(
            "AuthorizationHeaderMalformed",
            400,
            format!(
                "The authorization header is malformed; the service '{}' is wrong; expecting 's3'.",
                claim.service
            ),
        ));
    }
    Ok(principal)
}

fn authorize(state: &AppState, p: &Principal, op: Op, t: &Target) -> Result<(), S3Error> {
    let Some(action) = op.action() else {
        return Ok(());
    };
    let resource = match (&t.bucket, &t.key) {
        (None, _) => "*".to_string(),
        (Some(b), None) => format!("arn:aws:s3:::{b}"),
        (Some(b), Some(k)) => format!("arn:aws:s3:::{b}/{k}"),
    };
    let decision = billtrail_operations::identity_allows(&state.env, p, action, &resource)
        .map_err(|e| {
            tracing::error!(code = %e.code, "authorizing an S3 call failed");
            S3Error::internal()
        })?;
    if decision.is_allowed() {
        return Ok(());
    }
    let why = match decision {
        billtrail_auth::policy::Decision::ExplicitDeny => {
            "with an explicit deny in an identity-based policy"
        }
        _ => "because no identity-based policy allows the action",
    };
    Err(S3Error::access_denied(format!(
        "User: {} is not authorized to perform: {action} on resource: \"{resource}\" {why}",
        p.arn()
    )))
}

/// Answers a subresource read (see [`Sub`]) for a bucket or object that exists.
async fn unset(
    state: &AppState,
    objects: &dyn ObjectStore,
    bucket: &str,
    t: &Target,
    headers: &HeaderMap,
    sub: &Sub,
) -> Result<Reply, S3Error> {
    let meta = match t.key.as_deref() {
        Some(key) => Some(
            objects
                .head(bucket, key)
                .await
                .map_err(|e| S3Error::from_store(e, bucket, Some(key)))?,
        ),
        None => {
            require_bucket(objects, bucket).await?;
            None
        }
    };
    let owner = canonical_id(&state.management_account_id);
    let doc = match sub.answer {
        Unset::Missing(status, code, message) => return Err(S3Error::new(code, status, message)),
        Unset::NoConfigurations(_) if t.has("id") => {
            return Err(S3Error::new(
                "NoSuchConfiguration",
                404,
                "The specified configuration does not exist.",
            ))
        }
        Unset::Empty(root) => Xml::new(root).finish(root),
        Unset::OwnerAcl => {
            let mut x = Xml::new("AccessControlPolicy");
            x.open("Owner").elem("ID", &owner).close("Owner");
            x.open("AccessControlList").open("Grant");
            x.0.push_str(
                "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">",
            );
            x.elem("ID", &owner).close("Grantee");
            x.elem("Permission", "FULL_CONTROL")
                .close("Grant")
                .close("AccessControlList");
            x.finish("AccessControlPolicy")
        }
        Unset::NoTags => {
            let mut x = Xml::new("Tagging");
            x.open("TagSet").close("TagSet");
            x.finish("Tagging")
        }
        Unset::OwnerPays => {
            let mut x = Xml::new("RequestPaymentConfiguration");
            x.elem("Payer", "BucketOwner");
            x.finish("RequestPaymentConfiguration")
        }
        Unset::NoConfigurations(root) => {
            let mut x = Xml::new(root);
            x.elem("IsTruncated", "false");
            x.finish(root)
        }
        Unset::NoUploads => {
            let mut x = Xml::new("ListMultipartUploadsResult");
            x.elem("Bucket", bucket)
                .elem("KeyMarker", "")
                .elem("UploadIdMarker", "")
                .elem("MaxUploads", "1000")
                .elem("IsTruncated", "false");
            x.finish("ListMultipartUploadsResult")
        }
        Unset::NullVersions => null_versions(objects, bucket, t, &owner).await?,
        Unset::Attributes => {
            let meta = meta.ok_or_else(S3Error::internal)?;
            let wanted = headers
                .get("x-amz-object-attributes")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let asked = |name: &str| wanted.split(',').any(|w| w.trim() == name);
            let mut x = Xml::new("GetObjectAttributesResponse");
            if asked("etag") {
                x.elem("ETag", meta.etag.trim_matches('"'));
            }
            if asked("storageclass") {
                x.elem("StorageClass", "STANDARD");
            }
            if asked("objectsize") {
                x.elem("ObjectSize", &meta.size.to_string());
            }
            x.finish("GetObjectAttributesResponse")
        }
    };
    Ok(Reply::xml(doc))
}

/// One page of a listing. `max-keys=0` gets an empty page of an existing bucket, as from S3
/// (the store would read 0 as its default page size).
async fn list_page(
    objects: &dyn ObjectStore,
    bucket: &str,
    req: &ListRequest<'_>,
) -> Result<Listing, S3Error> {
    if req.max_keys == 0 {
        require_bucket(objects, bucket).await?;
        return Ok(Listing::default());
    }
    objects
        .list(bucket, req)
        .await
        .map_err(|e| S3Error::from_store(e, bucket, None))
}

/// `ListObjectVersions` on a bucket where versioning was never enabled: each object is its
/// only version, `null` (prefix, key-marker and max-keys as for listings).
async fn null_versions(
    objects: &dyn ObjectStore,
    bucket: &str,
    t: &Target,
    owner: &str,
) -> Result<Vec<u8>, S3Error> {
    let prefix = t.param("prefix").unwrap_or_default();
    let marker = t.param("key-marker").filter(|m| !m.is_empty());
    let max_keys = parse_max_keys(t)?;
    let listing = list_page(
        objects,
        bucket,
        &ListRequest {
            prefix,
            delimiter: None,
            start_after: marker,
            max_keys,
        },
    )
    .await?;
    let mut x = Xml::new("ListVersionsResult");
    x.elem("Name", bucket)
        .elem("Prefix", prefix)
        .elem("KeyMarker", marker.unwrap_or_default())
        .elem("VersionIdMarker", "")
        .elem("MaxKeys", &max_keys.to_string())
        .elem(
            "IsTruncated",
            if listing.truncated { "true" } else { "false" },
        );
    if listing.truncated {
        if let Some(last) = listing.last_entry() {
            x.elem("NextKeyMarker", last)
                .elem("NextVersionIdMarker", "null");
        }
    }
    for o in &listing.objects {
        x.open("Version")
            .elem("Key", &o.key)
            .elem("VersionId", "null")
            .elem("IsLatest", "true")
            .elem("LastModified", &iso_time(o.last_modified))
            .elem("ETag", &o.etag)
            .elem("Size", &o.size.to_string())
            .elem("StorageClass", "STANDARD")
            .open("Owner")
            .elem("ID", owner)
            .close("Owner")
            .close("Version");
    }
    Ok(x.finish("ListVersionsResult"))
}

async fn require_bucket(objects: &dyn ObjectStore, bucket: &str) -> Result<(), S3Error> {
    match objects.bucket_exists(bucket).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(S3Error::no_such_bucket(bucket)),
        Err(e) => Err(S3Error::from_store(e, bucket, None)),
    }
}

async fn list_buckets(state: &AppState, objects: &dyn ObjectStore) -> Result<Reply, S3Error> {
    let names = objects
        .list_buckets()
        .await
        .map_err(|e| S3Error::from_store(e, "", None))?;
    let mut x = Xml::new("ListAllMyBucketsResult");
    x.open("Owner")
        .elem("ID", &canonical_id(&state.management_account_id))
        .elem("DisplayName", "billtrail")
        .close("Owner");
    x.open("Buckets");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for name in names {
        let created = objects
            .bucket_created(&name)
            .await
            .ok()
            .flatten()
            .unwrap_or(now);
        x.open("Bucket")
            .elem("Name", &name)
            .elem("CreationDate", &iso_time(created))
            .elem("BucketRegion", REGION)
            .close("Bucket");
    }
    x.close("Buckets");
    Ok(Reply::xml(x.finish("ListAllMyBucketsResult")))
}

async fn create_bucket(
    objects: &dyn ObjectStore,
    bucket: &str,
    body: &[u8],
) -> Result<Reply, S3Error> {
    if !body.is_empty()
        && !std::str::from_utf8(body).is_ok_and(|b| b.contains("CreateBucketConfiguration"))
    {
        return Err(S3Error::new(
            "MalformedXML",
            400,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        ));
    }
    if let Err(e) = billtrail_objects::validate_bucket_name(bucket) {
        return Err(
            S3Error::new("InvalidBucketName", 400, e.to_string()).with("BucketName", bucket)
        );
    }
    if RESERVED_BUCKET_NAMES.contains(&bucket) {
        return Err(S3Error::new(
            "BucketAlreadyExists",
            409,
            "The requested bucket name is not available. The bucket namespace is shared by all \
             users of the system. Please select a different name and try again.",
        )
        .with("BucketName", bucket));
    }
    // AWS answers a re-create in us-east-1 with 200 for legacy reasons; saying so helps more.
    match objects.create_bucket(bucket).await {
        Ok(()) => {
            Ok(Reply::new(StatusCode::OK, Vec::new()).header("location", &format!("/{bucket}")))
        }
        Err(ObjectError::InvalidBucketName(m)) => {
            Err(S3Error::new("InvalidBucketName", 400, m).with("BucketName", bucket))
        }
        Err(e) => Err(S3Error::from_store(e, bucket, None)),
    }
}

fn parse_max_keys(t: &Target) -> Result<usize, S3Error> {
    match t.param("max-keys") {
        None => Ok(billtrail_objects::MAX_KEYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| usize::try_from(n.min(billtrail_objects::MAX_KEYS as i64)).unwrap_or(0))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    v,
                )
            }),
    }
}

fn continuation_token(after: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn read_continuation_token(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                token,
            )
        })
}

async fn list_objects(
    state: &AppState,
    objects: &dyn ObjectStore,
    bucket: &str,
    t: &Target,
    v2: bool,
) -> Result<Reply, S3Error> {
    let url = match t.param("encoding-type") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("url") => true,
        Some(v) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                v,
            ))
        }
    };
    let enc = |s: &str| -> String {
        if url {
            utf8_percent_encode(s, URL_ENCODE).to_string()
        } else {
            s.to_string()
        }
    };
    let prefix = t.param("prefix").unwrap_or_default();
    let delimiter = t.param("delimiter").filter(|d| !d.is_empty());
    let max_keys = parse_max_keys(t)?;
    let token = match t.param("continuation-token").filter(|_| v2) {
        Some(tok) => Some(read_continuation_token(tok)?),
        None => None,
    };
    let start_after = if v2 {
        token
            .clone()
            .or_else(|| t.param("start-after").map(str::to_string))
    } else {
        t.param("marker").map(str::to_string)
    };
    let start_after = start_after.filter(|s| !s.is_empty());
    let listing = list_page(
        objects,
        bucket,
        &ListRequest {
            prefix,
            delimiter,
            start_after: start_after.as_deref(),
            max_keys,
        },
    )
    .await?;
    let owner = canonical_id(&state.management_account_id);
    let fetch_owner = !v2 || t.param("fetch-owner") == Some("true");

    let mut x = Xml::new("ListBucketResult");
    x.elem("Name", bucket).elem("Prefix", &enc(prefix));
    if v2 {
        if let Some(tok) = t.param("continuation-token") {
            x.elem("ContinuationToken", tok);
        }
        if let Some(s) = t.param("start-after") {
            x.elem("StartAfter", &enc(s));
        }
        x.elem(
            "KeyCount",
            &(listing.objects.len() + listing.common_prefixes.len()).to_string(),
        );
    } else {
        x.elem("Marker", &enc(t.param("marker").unwrap_or_default()));
    }
    x.elem("MaxKeys", &max_keys.to_string());
    if let Some(d) = delimiter {
        x.elem("Delimiter", &enc(d));
    }
    x.elem(
        "IsTruncated",
        if listing.truncated { "true" } else { "false" },
    );
    if listing.truncated {
        if let Some(last) = listing.last_entry() {
            if v2 {
                x.elem("NextContinuationToken", &continuation_token(last));
            } else if delimiter.is_some() {
                // Without a delimiter S3 sends no NextMarker: the last key is the marker.
                x.elem("NextMarker", &enc(last));
            }
        }
    }
    if url {
        x.elem("EncodingType", "url");
    }
    for o in &listing.objects {
        contents(
            &mut x,
            o,
            &enc(&o.key),
            fetch_owner.then_some(owner.as_str()),
        );
    }
    for p in &listing.common_prefixes {
        x.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(Reply::xml(x.finish("ListBucketResult")))
}

fn contents(x: &mut Xml, o: &ObjectMeta, key: &str, owner: Option<&str>) {
    x.open("Contents")
        .elem("Key", key)
        .elem("LastModified", &iso_time(o.last_modified))
        .elem("ETag", &o.etag)
        .elem("Size", &o.size.to_string());
    if let Some(id) = owner {
        x.open("Owner")
            .elem("ID", id)
            .elem("DisplayName", "billtrail")
            .close("Owner");
    }
    x.elem("StorageClass", "STANDARD").close("Contents");
}

/// A single `bytes=` range of an object of `size` bytes, as `(first, last)` inclusive.
/// `Ok(None)`: no range, or one S3 ignores (several ranges, bad syntax): the whole object.
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = || {
        S3Error::new(
            "InvalidRange",
            416,
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", value)
        .with("ActualObjectSize", size.to_string())
    };
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(a), Ok(b)) if a <= b => {
            if a >= size {
                return Err(unsatisfiable());
            }
            (a, b.min(size.saturating_sub(1)))
        }
        (Ok(a), Err(_)) if last.is_empty() => {
            if a >= size {
                return Err(unsatisfiable());
            }
            (a, size - 1)
        }
        (Err(_), Ok(n)) if first.is_empty() => {
            if n == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            (size.saturating_sub(n), size - 1)
        }
        _ => return Ok(None),
    };
    Ok(Some(range))
}

/// The headers of an object's `GetObject`/`HeadObject` reply, user metadata included.
fn object_reply(status: StatusCode, meta: &ObjectMeta, body: Bytes) -> Reply {
    let mut r = Reply::new(status, body)
        .header("etag", &meta.etag)
        .header("last-modified", &http_time(meta.last_modified))
        .header("accept-ranges", "bytes")
        .header("content-type", "application/octet-stream");
    for (name, value) in &meta.metadata {
        // Names and values were checked when written; one that is not a header is left out.
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()),
            HeaderValue::from_str(value),
        ) {
            r.headers.append(n, v);
        }
    }
    r
}

async fn get_object(
    objects: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Reply, S3Error> {
    if head {
        let meta = objects
            .head(bucket, key)
            .await
            .map_err(|e| S3Error::from_store(e, bucket, Some(key)))?;
        // No body: Content-Length says what GET would send.
        return Ok(match parse_range(headers, meta.size)? {
            Some((a, b)) => object_reply(StatusCode::PARTIAL_CONTENT, &meta, Bytes::new())
                .header("content-range", &format!("bytes {a}-{b}/{}", meta.size))
                .header("content-length", &(b - a + 1).to_string()),
            None => object_reply(StatusCode::OK, &meta, Bytes::new())
                .header("content-length", &meta.size.to_string()),
        });
    }
    let object = objects
        .get(bucket, key)
        .await
        .map_err(|e| S3Error::from_store(e, bucket, Some(key)))?;
    let size = object.body.len() as u64;
    Ok(match parse_range(headers, size)? {
        Some((a, b)) => {
            // parse_range keeps a <= b < size.
            let part = usize::try_from(a)
                .ok()
                .zip(usize::try_from(b).ok())
                .filter(|(a, b)| a <= b && *b < object.body.len())
                .map(|(a, b)| object.body.slice(a..=b))
                .unwrap_or_default();
            object_reply(StatusCode::PARTIAL_CONTENT, &object.meta, part)
                .header("content-range", &format!("bytes {a}-{b}/{size}"))
        }
        None => object_reply(StatusCode::OK, &object.meta, object.body.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str, query: &str) -> Target {
        parse_target(path, query).expect("parses")
    }

    #[test]
    fn routes_follow_s3() {
        let get = Method::GET;
        assert_eq!(route(&get, &target("/", "")), Op::ListBuckets);
        assert_eq!(route(&get, &target("/b", "")), Op::ListObjects);
        assert_eq!(route(&get, &target("/b/", "")), Op::ListObjects);
        assert_eq!(
            route(&get, &target("/b", "list-type=2&prefix=")),
            Op::ListObjectsV2
        );
        assert_eq!(
            route(&get, &target("/b", "location")),
            Op::GetBucketLocation
        );
        assert_eq!(
            route(&get, &target("/b", "acl")),
            Op::Subresource(&BUCKET_SUBRESOURCES[1])
        );
        assert_eq!(route(&get, &target("/b", "acl")).name(), "GetBucketAcl");
        assert_eq!(route(&Method::HEAD, &target("/b", "")), Op::HeadBucket);
        assert_eq!(route(&Method::PUT, &target("/b", "")), Op::CreateBucket);
        assert_eq!(route(&get, &target("/b/a/k", "")), Op::GetObject);
        assert_eq!(route(&Method::HEAD, &target("/b/a/k", "")), Op::HeadObject);
        assert_eq!(
            route(&Method::PUT, &target("/b/a/k", "")),
            Op::Refused("PutObject")
        );
        assert_eq!(
            route(&Method::DELETE, &target("/b/a/k", "")),
            Op::Refused("DeleteObject")
        );
        assert_eq!(
            route(&Method::PATCH, &target("/b/k", "")),
            Op::MethodNotAllowed
        );
    }

    #[test]
    fn paths_and_queries_are_decoded() {
        let t = target("/b/a%20b/c%2Bd+e", "prefix=x%2Fy+z&delimiter=%2F&location");
        assert_eq!(t.bucket.as_deref(), Some("b"));
        assert_eq!(
            t.key.as_deref(),
            Some("a b/c+d+e"),
            "'+' in a path is a plus"
        );
        assert_eq!(
            t.param("prefix"),
            Some("x/y z"),
            "'+' in a query is a space"
        );
        assert_eq!(t.param("delimiter"), Some("/"));
        assert!(t.has("location"));
        assert!(parse_target("/b/%FF", "").is_none(), "not UTF-8");
    }

    #[test]
    fn ranges() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::RANGE, HeaderValue::from_str(v).expect("value"));
            m
        };
        assert_eq!(parse_range(&HeaderMap::new(), 10).ok().flatten(), None);
        assert_eq!(
            parse_range(&h("bytes=0-3"), 10).ok().flatten(),
            Some((0, 3))
        );
        assert_eq!(parse_range(&h("bytes=5-"), 10).ok().flatten(), Some((5, 9)));
        assert_eq!(parse_range(&h("bytes=-3"), 10).ok().flatten(), Some((7, 9)));
        assert_eq!(
            parse_range(&h("bytes=8-100"), 10).ok().flatten(),
            Some((8, 9))
        );
        assert_eq!(parse_range(&h("bytes=0-1,3-4"), 10).ok().flatten(), None);
        assert_eq!(parse_range(&h("items=0-1"), 10).ok().flatten(), None);
        assert_eq!(parse_range(&h("bytes=3-1"), 10).ok().flatten(), None);
        let e = parse_range(&h("bytes=10-"), 10).expect_err("unsatisfiable");
        assert_eq!((e.code, e.status), ("InvalidRange", 416));
        assert!(parse_range(&h("bytes=-0"), 10).is_err());
    }

    #[test]
    fn xml_is_escaped() {
        let mut x = Xml::new("R");
        x.elem("Key", "a<b>&\"c'\u{1}");
        let text = String::from_utf8(x.finish("R")).expect("utf8");
        assert!(
            text.contains("<Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;</Key>"),
            "{text}"
        );
    }

    #[test]
    fn times_are_formatted_as_s3_does() {
        assert_eq!(iso_time(1_700_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(http_time(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    /// Whatever arrives, parsing and routing answer (no panic) and keys stay keys.
    #[test]
    fn odd_requests_are_answered() {
        let paths = [
            "",
            "/",
            "//",
            "///",
            "/b//",
            "/%",
            "/%2",
            "/%zz",
            "/b/%",
            "/b/%00",
            "/b/%2F%2E%2E",
            "/..",
            "/../..",
            "/b/../../x",
            "/\u{e9}",
            "/b/\u{1F600}",
            "/b?x",
            "/b/k#frag",
        ];
        let queries = [
            "",
            "&",
            "=",
            "&&=&",
            "%",
            "prefix=%",
            "max-keys=-1",
            "max-keys=99999999999999999999",
            "list-type=3",
            "list-type=2&continuation-token=%%%",
            "location&acl",
            "a=b=c",
            "encoding-type=URL",
            "x=%F0%9F%98%80",
        ];
        let methods = [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::DELETE,
        ];
        for p in paths {
            for q in queries {
                if let Some(t) = parse_target(p, q) {
                    for m in &methods {
                        let _ = route(m, &t);
                    }
                    let _ = parse_max_keys(&t);
                    if let Some(tok) = t.param("continuation-token") {
                        let _ = read_continuation_token(tok);
                    }
                }
            }
        }
        let mut h = HeaderMap::new();
        for r in [
            "bytes=",
            "bytes=-",
            "bytes=--1",
            "bytes=1-2-3",
            "bytes=18446744073709551615-",
            "bytes=-18446744073709551615",
            "bytes=0-18446744073709551615",
            "bytes= 1 - 2 ",
        ] {
            h.insert(header::RANGE, HeaderValue::from_str(r).expect("value"));
            for size in [0, 1, 10, u64::MAX] {
                if let Ok(Some((a, b))) = parse_range(&h, size) {
                    assert!(a <= b && b < size, "{r} of {size}: {a}-{b}");
                }
            }
        }
    }

    #[test]
    fn continuation_tokens_round_trip() {
        let t = continuation_token("AWSLogs/ü/x");
        assert_eq!(
            read_continuation_token(&t).ok().as_deref(),
            Some("AWSLogs/ü/x")
        );
        assert!(read_continuation_token("!!!").is_err());
    }
}
