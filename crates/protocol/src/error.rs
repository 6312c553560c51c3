//! [`ApiError`]: everything the wire can say when a call fails, and its one mapping to the wire.

use std::borrow::Cow;

/// One error type for everything the wire can say: an AWS error code, a message for the caller
/// and the HTTP status. It is turned into a response body in exactly one place,
/// [`ApiError::to_json_body`].
///
/// Status choices follow the Coral-based AWS JSON 1.1 services we emulate (CloudTrail,
/// Organizations): client errors are 400, including `AccessDeniedException` and
/// `ThrottlingException`; missing resources are 404 only where the service model says so;
/// server faults are 500. Clients key on the `__type` code, not on the status (botocore reads
/// `__type`), so the code is what must be exact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The AWS error code, sent as `__type`, e.g. `ValidationException`.
    pub code: Cow<'static, str>,
    /// The human-readable message, sent as `message`.
    pub message: String,
    /// The HTTP status code.
    pub status: u16,
}

/// The message of every [`ApiError::internal`]: AWS's documented text for `InternalFailure`.
pub const INTERNAL_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

impl ApiError {
    /// Any error code with any status.
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
            status,
        }
    }

    /// `ValidationException` (400): the input broke a constraint of the model.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// `SerializationException` (400): the body is not JSON, or a value has the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    /// `UnknownOperationException` (400): the target names no operation we serve.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", 400, message)
    }

    /// `AccessDeniedException` with status **400**, as the Coral JSON 1.1 services (CloudTrail,
    /// Organizations) answer; the billing models declare the same status.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDeniedException", 400, message)
    }

    /// `ThrottlingException` (400): the request rate is too high.
    pub fn throttling(message: impl Into<String>) -> Self {
        Self::new("ThrottlingException", 400, message)
    }

    /// `InternalFailure` (500) with AWS's generic message and no detail. Log the cause; never
    /// send it.
    pub fn internal() -> Self {
        Self::new("InternalFailure", 500, INTERNAL_FAILURE_MESSAGE)
    }

    /// A "not found" error (404) under the given code, e.g. `TrailNotFoundException`.
    pub fn not_found(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(code, 404, message)
    }

    /// Whether the caller is at fault (a 4xx status).
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }

    /// The status as an [`http::StatusCode`]; an out-of-range status becomes 500.
    pub fn http_status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The AWS JSON 1.1 error body: `{"__type":"<code>","message":"..."}`.
    pub fn to_json_body(&self) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), self.code.as_ref().into());
        body.insert("message".into(), self.message.as_str().into());
        crate::json11::encode(&serde_json::Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_is_type_and_message() {
        let e = ApiError::validation("bad \"x\"");
        let v: serde_json::Value = serde_json::from_slice(&e.to_json_body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"__type": "ValidationException", "message": "bad \"x\""})
        );
        assert_eq!(e.status, 400);
        assert_eq!(e.to_string(), "ValidationException: bad \"x\"");
    }

    #[test]
    fn constructors_pick_code_and_status() {
        assert_eq!(ApiError::serialization("m").code, "SerializationException");
        assert_eq!(
            ApiError::unknown_operation("m").code,
            "UnknownOperationException"
        );
        let denied = ApiError::access_denied("m");
        assert_eq!(
            (denied.code.as_ref(), denied.status),
            ("AccessDeniedException", 400)
        );
        let internal = ApiError::internal();
        assert_eq!(
            (internal.code.as_ref(), internal.status),
            ("InternalFailure", 500)
        );
        assert_eq!(internal.message, INTERNAL_FAILURE_MESSAGE);
        assert!(!internal.is_client_error());
        let nf = ApiError::not_found("TrailNotFoundException", "Unknown trail");
        assert_eq!(nf.http_status(), http::StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::new("X", 1000, "m").http_status(),
            http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
