//! The AWS wire, as pure functions: AWS JSON 1.1 and AWS Query decoding and encoding, the one
//! AWS error shape, and validation and redaction driven by botocore-format service models.
//!
//! # Job
//!
//! * [`json11`] splits an `X-Amz-Target` header and turns a request body into a JSON object
//!   (or a `SerializationException`), and encodes responses and timestamps.
//! * [`query`] does the same for AWS Query (IAM, STS): it rebuilds a form-encoded request
//!   into the JSON object a JSON 1.1 body would be, so validation, redaction and handlers do
//!   not care which protocol a call came in on, and writes the XML responses and error
//!   documents that botocore's `QueryParser` reads back.
//! * [`model::ServiceModel`] reads a botocore `service-2.json` and checks a request against an
//!   operation's input shape the way AWS does: wrong JSON types are a
//!   `SerializationException`, broken constraints (required, length, range, enum, pattern) are
//!   one `ValidationException` (`ValidationError` for Query models) whose message lists every
//!   violation in AWS's words. It also
//!   hides `sensitive` values ([`model::ServiceModel::redact`]) before anything is recorded.
//! * [`ApiError`] is the only error this crate returns and the one place where an error becomes
//!   an HTTP status, an AWS error code and a JSON body ([`query::encode_error`] is the Query
//!   twin, with [`query::wire_error`] spelling codes the Query way).
//! * [`billingconsole_model`], [`cloudtrail_model`], [`iam_model`] and [`sts_model`] are the
//!   models we serve, embedded.
//!
//! # Invariants
//!
//! * Nothing here panics on untrusted input: no `unwrap`, no slice indexing, JSON nesting is
//!   bounded ([`json11::MAX_DEPTH`]) before `serde_json` sees the body. A fuzz test pushes
//!   10,000 random and malformed bodies through decoding and validation, and as many random
//!   forms through [`query::decode`].
//! * Validation messages never contain the value of a `sensitive` shape.
//! * The server's AWS error bodies are exactly `{"__type": code, "message": text}` (JSON 1.1)
//!   or the Query `<ErrorResponse>` document; an internal failure carries a fixed, generic
//!   message (details go to the log, never to the wire).
//!
//! # What it is not
//!
//! No I/O, no async, no HTTP server: it sees bytes and header values, never a socket. It does
//! not authenticate (SigV4 lives in `billtrail-auth`), does not know what an operation *does*
//! (`billtrail-operations`), and does not build CloudTrail records (`billtrail-audit`), though
//! it gives that crate [`lower_camel_keys`] and redaction.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod camel;
mod embedded;
mod error;
pub mod json11;
pub mod model;
pub mod query;

pub use camel::{lower_camel, lower_camel_keys};
pub use embedded::{
    billingconsole_model, cloudtrail_model, organizations_model, BILLINGCONSOLE_JSON,
    CLOUDTRAIL_JSON, ORGANIZATIONS_JSON,
};
pub use embedded::{iam_model, sts_model, IAM_JSON, STS_JSON};
pub use error::ApiError;
pub use model::{ModelError, ServiceModel};

/// The text that replaces a `sensitive` value in anything we record, as CloudTrail does.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
