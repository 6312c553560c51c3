//! The operations: what each API call does to account state, and the pipeline that runs it.
//!
//! Every operation is one entry in a service's `OPERATIONS` table ([`OpSpec`]): its name, its
//! read-only flag, its IAM action, and its handler. A handler is a plain function from a typed
//! input to a typed output over a [`Context`]:
//!
//! ```ignore
//! pub fn set_contact_address(cx: &mut Context<'_>, input: SetContactAddressInput) -> Result<Empty, ApiError>
//! ```
//!
//! Adding an operation is one model entry (`models/<service>/…/service-2.json`, which the AWS
//! CLI and the server's validation both read) plus one table entry and its handler. Everything
//! else is done once, by [`dispatch`], for every operation alike: input validation against the
//! model, authorization, running the handler (writes inside a store transaction, reads on a
//! reader), capturing the CloudTrail record, and committing record and change together.
//!
//! What this crate is not: it knows no HTTP and no SigV4. It is given an authenticated
//! [`Principal`](billtrail_auth::principal::Principal) and a decoded request.

mod authorize;
pub mod billing_console;
pub mod cloudtrail;
mod context;
mod dispatch;
pub mod iam;
pub mod organizations;
mod service;
pub mod sts;

/// For the server's S3 API, which is served outside [`dispatch`].
pub use authorize::identity_allows;
pub use context::{Context, Env};
pub use dispatch::{dispatch, Request};
pub use service::{all_operations, find, OpSpec, Protocol, Service};

use billtrail_protocol::ApiError;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};

/// The input or output of an operation that has no members.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Empty {}

/// An input read into its handler's type ([`decode`]), erased so that every table entry has the
/// same shape.
pub(crate) type Input = Box<dyn std::any::Any + Send>;

/// The erased form every input reader is stored as.
pub(crate) type Decoder = fn(Map<String, Value>) -> Result<Input, ApiError>;

/// The erased form every handler is stored as.
pub(crate) type Handler = fn(&mut Context<'_>, Input) -> Result<Value, ApiError>;

/// Reads an input that has passed model validation into the type `handler` takes. Kept apart
/// from running the handler so that it happens on the request's thread, not in the store's
/// transaction, which one thread runs for every call.
pub(crate) fn decode<I: DeserializeOwned + Send + 'static, O>(
    _handler: fn(&mut Context<'_>, I) -> Result<O, ApiError>,
    input: Map<String, Value>,
) -> Result<Input, ApiError> {
    let input: I = serde_json::from_value(Value::Object(input))
        .map_err(|e| ApiError::serialization(format!("Could not read the request: {e}")))?;
    Ok(Box::new(input))
}

/// Runs a typed handler on an input [`decode`]d for it.
pub(crate) fn typed<I: 'static, O: Serialize>(
    cx: &mut Context<'_>,
    input: Input,
    handler: fn(&mut Context<'_>, I) -> Result<O, ApiError>,
) -> Result<Value, ApiError> {
    let Ok(input) = input.downcast::<I>() else {
        tracing::error!("an operation was given another operation's input");
        return Err(ApiError::internal());
    };
    let output = handler(cx, *input)?;
    serde_json::to_value(output).map_err(|e| {
        tracing::error!(error = %e, "could not encode an operation's output");
        ApiError::internal()
    })
}

/// Declares a table entry: `op!(Service, "Name", read_only, "iam:Action", module::handler)`,
/// optionally with `bucket: "Member"` before the handler (see [`OpSpec::bucket_member`]).
macro_rules! op {
    ($service:ident, $name:literal, read_only: $ro:literal, action: $action:literal, $handler:path) => {
        $crate::OpSpec {
            service: $crate::Service::$service,
            name: $name,
            read_only: $ro,
            action: $action,
            bucket_member: None,
            decode: |input| $crate::decode($handler, input),
            handler: |cx, input| $crate::typed(cx, input, $handler),
        }
    };
    ($service:ident, $name:literal, read_only: $ro:literal, action: $action:literal, bucket: $member:literal, $handler:path) => {
        $crate::OpSpec {
            service: $crate::Service::$service,
            name: $name,
            read_only: $ro,
            action: $action,
            bucket_member: Some($member),
            decode: |input| $crate::decode($handler, input),
            handler: |cx, input| $crate::typed(cx, input, $handler),
        }
    };
}
pub(crate) use op;
