//! AWS Signature Version 4: parse a claim, verify it, and sign for our CLI.
//!
//! The server side is two calls with a key lookup between them:
//!
//! ```no_run
//! # use billtrail_auth::{sigv4, SecretKey};
//! # fn lookup(_: &str) -> Option<SecretKey> { None }
//! # fn handle(parts: &sigv4::RequestParts<'_>, now: time::OffsetDateTime) -> Result<(), sigv4::SigV4Error> {
//! let claim = sigv4::parse(parts)?;
//! let secret = lookup(&claim.access_key_id).expect("unknown keys are the caller's business");
//! sigv4::verify(parts, &claim, &secret, now)?;
//! # Ok(()) }
//! ```
//!
//! The verifier canonicalizes requests itself (see the note at the top of
//! `verify.rs`); the signer delegates to the `aws-sigv4` crate. The two meet
//! in the tests, where every request `aws-sigv4` signs must verify.
//!
//! # What the caller must supply
//!
//! [`RequestParts`] must carry a `host` header. Over HTTP/2 the authority
//! arrives as the `:authority` pseudo-header, which `http::HeaderMap` does not
//! hold: copy it into `host` before calling [`parse`].

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod canonical;
mod error;
mod parse;
mod sign;
mod verify;

pub use canonical::{canonical_request, string_to_sign, CanonicalUri, UriEncoding};
pub use error::{SigV4Error, WireProtocol, SIGNATURE_MISMATCH_MESSAGE};
pub use parse::parse;
pub use sign::{sign, Signer};
pub use verify::{verify, verify_memoized, verify_with, SigningKeys, VerifyOptions};

/// The only signing algorithm this crate accepts (SigV4A is not supported).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of a SigV4 credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// Payload hash a client may send in `x-amz-content-sha256` to leave the body
/// unsigned. Accepted for S3 only (see [`VerifyOptions::allow_unsigned_payload`]).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Longest lifetime AWS allows a presigned URL: 7 days, in seconds.
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// The parts of an HTTP request that SigV4 covers.
///
/// Everything here is as received, untrusted, and borrowed: building one costs
/// nothing. Header names may be any case (`http::HeaderMap` lowercases them).
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The HTTP method, e.g. `"POST"`.
    pub method: &'a str,
    /// The raw path as received, still percent-encoded, e.g. `"/"` or
    /// `"/bucket/key%20x"`.
    pub path: &'a str,
    /// The raw query string without the `?`; `""` when there is none.
    pub query: &'a str,
    /// All request headers; must include `host` (see the module docs).
    pub headers: &'a http::HeaderMap,
    /// The whole request body.
    pub body: &'a [u8],
}

/// What a request claims about its signature, parsed from the `Authorization`
/// header or from presigned-URL query parameters by [`parse`].
///
/// A `Claim` is only a claim: nothing in it is trusted until [`verify`] says
/// so. It can only be built by [`parse`], so its fields are always
/// well-formed (for example `host` is always among `signed_headers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// `yyyymmdd` from the credential scope.
    pub date: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope (e.g. `"cloudtrail"`, `"s3"`).
    pub service: String,
    /// Lowercase header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The request timestamp, `yyyymmddThhmmssZ`: the `X-Amz-Date` header or
    /// query parameter, or the HTTP `Date` header converted to that form.
    pub amz_date: String,
    /// `X-Amz-Security-Token` (header or query), for temporary credentials.
    pub security_token: Option<String>,
    /// `true` when the claim came from query parameters (a presigned URL).
    pub presigned: bool,
    /// `X-Amz-Expires` in seconds, for presigned URLs.
    pub expires: Option<u64>,
    /// The 32 signature bytes the client sent.
    signature: [u8; 32],
}

impl Claim {
    /// The credential scope: `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{SCOPE_TERMINATOR}",
            self.date, self.region, self.service
        )
    }

    /// The signature the client sent, as lowercase hex (for logs and debug
    /// output; it is not a secret, it travels in the request).
    pub fn signature_hex(&self) -> String {
        hex::encode(self.signature)
    }

    pub(crate) fn signature(&self) -> &[u8; 32] {
        &self.signature
    }
}
