//! AWS Query framing, as IAM and STS speak it: form-encoded requests, XML responses and the
//! Query error document.
//!
//! A request is `POST /` with `Content-Type: application/x-www-form-urlencoded` (parameters
//! may also come in the URL's query string, as presigned GETs send them):
//!
//! ```text
//! Action=CreateUser&Version=2010-05-08&UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=billing
//! ```
//!
//! [`decode`] turns the parameters into the JSON object the operation's input shape describes
//! (`{"UserName": "alice", "Tags": [{"Key": "team", "Value": "billing"}]}`), so that
//! [`ServiceModel::validate_input`], redaction and serde handlers work on it exactly as on a
//! JSON 1.1 body. Names follow botocore's `QuerySerializer`: nested structures are
//! `A.B`, lists `Name.member.N` (or `Name.N` when flattened, with `locationName`s honoured),
//! maps `Name.entry.N.key` / `.value`, an empty list is `Name=`.
//!
//! [`encode_response`] writes the output as botocore's `QueryParser` reads it:
//!
//! ```text
//! <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//!   <CreateUserResult><User>...</User></CreateUserResult>
//!   <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
//! </CreateUserResponse>
//! ```
//!
//! and [`encode_error`] the error document
//! `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>`.
//!
//! Error codes are spelled the Query way in one place, [`wire_error`]: the model's exceptions
//! by their `error.code` (`NoSuchEntityException` is sent as `NoSuchEntity`), and the codes
//! the other layers spell the JSON 1.1 way by their Query names (`AccessDeniedException` 400
//! becomes `AccessDenied` 403, `InvalidSignatureException` becomes `SignatureDoesNotMatch`,
//! `ValidationException` becomes `ValidationError`).
//!
//! Nothing here panics, whatever the bytes: parameter names deeper than 64 segments are
//! ignored, list indexes are sorted rather than used to size anything, and text that XML
//! cannot carry is replaced.

use serde_json::{Map, Value};

use crate::model::query as codec;
use crate::{ApiError, ServiceModel};

/// The content type of Query responses and error documents, as IAM and STS send it.
pub const CONTENT_TYPE: &str = "text/xml";

/// The content type of Query request bodies (botocore adds `; charset=utf-8`).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A decoded Query request: the Action, the Version, and the parameters as a JSON object
/// shaped like the operation's input shape (so [`ServiceModel::validate_input`] and serde
/// handlers work on it unchanged).
///
/// Its `Debug` shows the action, the version and the input's member *names* only: the input
/// may hold passwords and policies, and debug output ends up in logs.
#[derive(Clone, PartialEq)]
pub struct QueryRequest {
    /// The `Action` parameter: an operation of the model.
    pub action: String,
    /// The `Version` parameter, when given (it must then be the model's `apiVersion`).
    pub version: Option<String>,
    /// The input members, typed as the validator expects: integers are numbers, booleans
    /// `true`/`false`, timestamps ISO-8601 strings (or epoch-second numbers), blobs base64
    /// strings. Parameters that address no member are dropped.
    pub input: Map<String, Value>,
}

impl std::fmt::Debug for QueryRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryRequest")
            .field("action", &self.action)
            .field("version", &self.version)
            .field("input", &self.input.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Parses an `application/x-www-form-urlencoded` body and/or a URL query string (with or
/// without its leading `?`) into a [`QueryRequest`], rebuilding nested values from the model.
///
/// * A parameter given in both places takes the body's value.
/// * No (or an empty) `Action` is `MissingAction` (400).
/// * An `Action` the model does not have, or a `Version` other than the model's, is
///   `InvalidAction` (400): `"Could not find operation Foo for version 2010-05-08"`.
/// * A value that does not convert to its member's type (`MaxItems=ten`, `Flag=yes`) is one
///   `ValidationError` listing every such value in AWS's style: `"1 validation error
///   detected: Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be of type
///   Integer"` (a `sensitive` value is not quoted).
/// * Constraints (required, length, pattern, ...) are **not** checked here: call
///   [`ServiceModel::validate_input`] next, which answers `ValidationError` for Query models.
///
/// Invalid percent-encoding or UTF-8 is decoded lossily (U+FFFD). Never panics.
pub fn decode(
    model: &ServiceModel,
    body: &[u8],
    url_query: &str,
) -> Result<QueryRequest, ApiError> {
    let url_query = url_query.strip_prefix('?').unwrap_or(url_query);
    let mut params: Vec<(String, String)> = Vec::new();
    let (mut action, mut version) = (None, None);
    for (name, value) in
        form_urlencoded::parse(url_query.as_bytes()).chain(form_urlencoded::parse(body))
    {
        match name.as_ref() {
            "Action" => action = Some(value.into_owned()),
            "Version" => version = Some(value.into_owned()),
            _ => params.push((name.into_owned(), value.into_owned())),
        }
    }
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or_else(codec::missing_action)?;
    let known_version = version.as_deref().is_none_or(|v| v == model.api_version());
    if !model.has_operation(&action) || !known_version {
        return Err(codec::invalid_action(model, &action, version.as_deref()));
    }
    let input = model.query_input(&action, params)?;
    Ok(QueryRequest {
        action,
        version,
        input,
    })
}

/// Encodes an operation's output (a JSON object shaped like the output shape, or `null` for
/// an empty one) as the Query XML response:
///
/// `<{Op}Response xmlns="{ns}"><{Op}Result>...</{Op}Result><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></{Op}Response>`
///
/// The result element is the model's `resultWrapper` and is left out when the operation has
/// no output shape. Members are written in model order under their wire names; lists as
/// `<member>` items (or repeated elements when flattened), maps as
/// `<entry><key/><value/></entry>`, timestamps as ISO 8601 with milliseconds and `Z`
/// (`2024-05-30T16:44:04.000Z`), booleans `true`/`false`; `null` members and members the
/// model does not know are left out, and text is XML-escaped.
///
/// An unknown operation, or an output whose values do not fit the model (a handler bug), is
/// [`ApiError::internal`]; [`check_output`] says what is wrong, for the log.
pub fn encode_response(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
    request_id: &str,
) -> Result<Vec<u8>, ApiError> {
    render_response(model, operation, output, request_id)
        .map(String::into_bytes)
        .map_err(|_| ApiError::internal())
}

/// Why [`encode_response`] refuses this output (unknown operation, a value of the wrong type
/// at some member), or `Ok` when it would encode it. For logs and tests; the wire only ever
/// sees [`ApiError::internal`].
pub fn check_output(model: &ServiceModel, operation: &str, output: &Value) -> Result<(), String> {
    render_response(model, operation, output, "").map(|_| ())
}

fn render_response(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
    request_id: &str,
) -> Result<String, String> {
    if !model.has_operation(operation) {
        return Err(format!("unknown operation {operation}"));
    }
    let root = format!("{operation}Response");
    let mut out = String::with_capacity(256);
    open_root(&mut out, &root, model.xml_namespace());
    if model.has_output(operation) {
        let wrapper = model
            .result_wrapper(operation)
            .map_or_else(|| format!("{operation}Result"), str::to_owned);
        out.push('<');
        out.push_str(&wrapper);
        out.push('>');
        model
            .query_output(operation, output, &mut out)
            .map_err(|e| format!("{operation}: {e}"))?;
        out.push_str("</");
        out.push_str(&wrapper);
        out.push('>');
    }
    out.push_str("<ResponseMetadata><RequestId>");
    codec::escape_into(&mut out, request_id);
    out.push_str("</RequestId></ResponseMetadata></");
    out.push_str(&root);
    out.push('>');
    Ok(out)
}

fn open_root(out: &mut String, name: &str, namespace: &str) {
    out.push('<');
    out.push_str(name);
    if !namespace.is_empty() {
        out.push_str(" xmlns=\"");
        codec::escape_into(out, namespace);
        out.push('"');
    }
    out.push('>');
}

/// The error as a Query service sends it: the code spelled the Query way and the matching
/// status (see the module docs). Take the response status from this, and the body from
/// [`encode_error`] (which applies the same spelling).
///
/// * Codes shared by every Query service, in either spelling: `AccessDenied` 403,
///   `ValidationError` 400 (also for `SerializationException`), `Throttling` 400,
///   `InvalidAction` 400, `MissingAction` 400, `SignatureDoesNotMatch` 403,
///   `IncompleteSignature` 400, `MissingAuthenticationToken` 403, `InvalidClientTokenId` 403,
///   `ExpiredToken` 400, `RequestExpired` 400, `InternalFailure` 500, `ServiceUnavailable` 503.
/// * The model's exceptions, by shape name or code: their `error.code` and declared status.
/// * Anything else is unchanged.
pub fn wire_error(model: &ServiceModel, error: &ApiError) -> ApiError {
    codec::respell(model, error.clone())
}

/// The Query error document for `error` (spelled by [`wire_error`]):
///
/// `<ErrorResponse xmlns="{ns}"><Error><Type>Sender|Receiver</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>`
///
/// `Type` is `Sender` when the caller is at fault: the model's `senderFault` for its
/// exceptions, a status below 500 for anything else. Content type [`CONTENT_TYPE`].
pub fn encode_error(model: &ServiceModel, error: &ApiError, request_id: &str) -> Vec<u8> {
    let e = wire_error(model, error);
    let kind = if codec::is_sender_fault(model, &e) {
        "Sender"
    } else {
        "Receiver"
    };
    let mut out = String::with_capacity(256);
    open_root(&mut out, "ErrorResponse", model.xml_namespace());
    out.push_str("<Error><Type>");
    out.push_str(kind);
    out.push_str("</Type><Code>");
    codec::escape_into(&mut out, &e.code);
    out.push_str("</Code><Message>");
    codec::escape_into(&mut out, &e.message);
    out.push_str("</Message></Error><RequestId>");
    codec::escape_into(&mut out, request_id);
    out.push_str("</RequestId></ErrorResponse>");
    out.into_bytes()
}

/// `AccessDenied` (403), as IAM and STS deny a call.
pub fn access_denied(message: impl Into<String>) -> ApiError {
    ApiError::new("AccessDenied", 403, message)
}

/// `ValidationError` (400), the Query services' code for a broken constraint.
pub fn validation_error(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationError", 400, message)
}
