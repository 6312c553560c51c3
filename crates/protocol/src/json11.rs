//! AWS JSON 1.1 framing: `X-Amz-Target`, request bodies, response bodies and timestamps.
//!
//! A request is `POST /` with `Content-Type: application/x-amz-json-1.1`,
//! `X-Amz-Target: <targetPrefix>.<Operation>` and a JSON object body (`{}` when the input is
//! empty). Timestamps travel as epoch seconds (a JSON number, fraction allowed); we also accept
//! ISO-8601 strings on input.

use serde_json::{Map, Value};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::ApiError;

/// The content type of AWS JSON 1.1 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The deepest JSON nesting a request body may have (objects and arrays both count; the body
/// object itself is level 1). AWS inputs need far less; the bound keeps parsing and every later
/// recursive walk off the end of the stack.
pub const MAX_DEPTH: usize = 64;

/// How much of an untrusted target is quoted back in an error message.
const MAX_QUOTED_TARGET: usize = 128;

/// Splits an `X-Amz-Target` value `"<prefix>.<Operation>"` at the **last** `.`: prefixes such
/// as `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101` contain dots, operation names
/// do not. Both parts must be non-empty and the operation must be ASCII alphanumeric;
/// otherwise `UnknownOperationException`.
pub fn split_target(target: &str) -> Result<(&str, &str), ApiError> {
    match target.rsplit_once('.') {
        Some((prefix, operation))
            if !prefix.is_empty()
                && !operation.is_empty()
                && operation.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok((prefix, operation))
        }
        _ => Err(ApiError::unknown_operation(format!(
            "Unrecognized operation target: '{}'",
            target.chars().take(MAX_QUOTED_TARGET).collect::<String>()
        ))),
    }
}

/// Parses a request body into a JSON object.
///
/// * An empty (or all-whitespace) body is `{}`.
/// * Invalid UTF-8, invalid JSON, nesting deeper than [`MAX_DEPTH`], or a JSON value that is
///   not an object is a `SerializationException`.
///
/// Never panics, whatever the bytes.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(|b| is_json_whitespace(*b)) {
        return Ok(Map::new());
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::serialization("The request body is not valid UTF-8."))?;
    if nesting_depth(text.as_bytes()) > MAX_DEPTH {
        return Err(ApiError::serialization(format!(
            "The request body nests JSON deeper than {MAX_DEPTH} levels."
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::serialization(format!("Could not parse the request body as JSON: {e}"))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Array(_) => Err(ApiError::serialization(
            "Start of list found where not expected",
        )),
        other => Err(ApiError::serialization(format!(
            "{} can not be converted to Structure",
            token_name(&other)
        ))),
    }
}

/// The maximum depth of `{`/`[` nesting outside string literals. It does not check that the
/// text is JSON; it only has to be right for text that is, and finite for anything.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The name AWS's JSON deserializer gives a value's token in error messages
/// (`"STRING_VALUE can not be converted to Integer"`).
pub(crate) fn token_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// Serializes a response (or error) body. A `serde_json::Value` always serializes.
pub fn encode(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Reads a timestamp member: a JSON number of epoch seconds (a fraction is allowed) or an
/// ISO-8601 string (`2024-05-30T16:44:04Z`, with an offset or fraction; without an offset it is
/// taken as UTC). `None` for anything else, including out-of-range numbers. Numbers are read
/// to the microsecond, the precision a double has for current epoch seconds.
pub fn parse_timestamp(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() {
                return None;
            }
            // `time` rejects years outside ±9999 anyway; this keeps the casts meaningful.
            if secs.abs() > 1e15 {
                return None;
            }
            // A double near today's epoch is only good to ~0.25 µs: round the fraction to
            // whole microseconds so `1454022144.869` is .869000 s, not .868999958 s.
            let whole = secs.floor();
            let micros = ((secs - whole) * 1e6).round() as i128;
            let nanos = whole as i128 * 1_000_000_000 + micros * 1_000;
            OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
        }
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
            .ok()
            .or_else(|| {
                PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
                    .ok()
                    .map(PrimitiveDateTime::assume_utc)
            }),
        _ => None,
    }
}

/// A timestamp as it goes on the JSON 1.1 wire: epoch seconds with millisecond precision,
/// always with a fraction part (`1424476529.0`), as CloudTrail answers.
pub fn timestamp_value(t: OffsetDateTime) -> Value {
    let millis = t.unix_timestamp_nanos() / 1_000_000;
    let secs = millis as f64 / 1000.0;
    serde_json::Number::from_f64(secs).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_target_uses_last_dot() {
        assert_eq!(
            split_target("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents")
                .unwrap(),
            (
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
                "LookupEvents"
            )
        );
        assert_eq!(
            split_target("AWSBillingConsoleService.GetAddresses").unwrap(),
            ("AWSBillingConsoleService", "GetAddresses")
        );
    }

    #[test]
    fn split_target_rejects_malformed() {
        for bad in [
            "",
            "NoDot",
            ".Op",
            "Prefix.",
            "Prefix.Op-x",
            "a.b c",
            "a.Öp",
        ] {
            let e = split_target(bad).unwrap_err();
            assert_eq!(e.code, "UnknownOperationException", "{bad:?}");
            assert_eq!(e.status, 400);
        }
        let long = "x".repeat(10_000);
        assert!(split_target(&long).unwrap_err().message.len() < 200);
    }

    #[test]
    fn empty_body_is_empty_object() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert!(parse_body(b" \r\n\t").unwrap().is_empty());
        assert!(parse_body(b"{}").unwrap().is_empty());
    }

    #[test]
    fn body_errors_are_serialization_exceptions() {
        let cases: [(&[u8], &str); 7] = [
            (b"\xff\xfe{}", "not valid UTF-8"),
            (b"{", "Could not parse"),
            (b"{\"a\":1,}", "Could not parse"),
            (b"[]", "Start of list found where not expected"),
            (b"\"s\"", "STRING_VALUE can not be converted to Structure"),
            (b"12", "NUMBER_VALUE can not be converted to Structure"),
            (b"null", "NULL_VALUE can not be converted to Structure"),
        ];
        for (body, needle) in cases {
            let e = parse_body(body).unwrap_err();
            assert_eq!(e.code, "SerializationException");
            assert!(e.message.contains(needle), "{:?}: {}", body, e.message);
        }
    }

    #[test]
    fn nesting_is_bounded_at_max_depth() {
        let nest = |n: usize| {
            let mut s = String::from("{\"a\":");
            s.push_str(&"[".repeat(n - 1));
            s.push_str(&"]".repeat(n - 1));
            s.push('}');
            s
        };
        assert!(parse_body(nest(MAX_DEPTH).as_bytes()).is_ok());
        let e = parse_body(nest(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert!(e.message.contains("deeper than 64"));
        // Far deeper than serde_json's own limit or the stack: rejected by the pre-scan.
        let deep = "[".repeat(1_000_000);
        assert_eq!(
            parse_body(deep.as_bytes()).unwrap_err().code,
            "SerializationException"
        );
        // Brackets inside strings do not count.
        let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));
        assert!(parse_body(quoted.as_bytes()).is_ok());
    }

    #[test]
    fn timestamps_from_numbers_and_strings() {
        let t = parse_timestamp(&json!(1424476529)).unwrap();
        assert_eq!(t.unix_timestamp(), 1424476529);
        let t = parse_timestamp(&json!(1454022144.869)).unwrap();
        assert_eq!(t.unix_timestamp_nanos() / 1_000_000, 1454022144869);
        for s in [
            "2015-02-20T23:55:29Z",
            "2015-02-20T23:55:29.000Z",
            "2015-02-20T23:55:29+00:00",
            "2015-02-20T23:55:29",
        ] {
            assert_eq!(
                parse_timestamp(&json!(s)).map(|t| t.unix_timestamp()),
                Some(1424476529),
                "{s}"
            );
        }
        for bad in [
            json!("yesterday"),
            json!(true),
            json!(1e300),
            json!(-1e20),
            json!([1]),
        ] {
            assert_eq!(parse_timestamp(&bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_encode_as_epoch_seconds() {
        let t = OffsetDateTime::from_unix_timestamp(1424476529).unwrap();
        assert_eq!(encode(&timestamp_value(t)), b"1424476529.0");
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_454_022_144_869_000_000).unwrap();
        assert_eq!(timestamp_value(t), json!(1454022144.869));
    }
}
