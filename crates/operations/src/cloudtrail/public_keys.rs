//! `ListPublicKeys`: the public keys that verify digest files, in the region the call was
//! signed for (CloudTrail signs digests with a key unique to the region).
//!
//! The keys themselves are `billtrail-digest`'s: RSA 2048, returned as base64 DER PKCS#1
//! `RSAPublicKey` (what `aws cloudtrail validate-logs` loads), fingerprinted by the lowercase
//! hex MD5 of that DER. A key appears from the moment the digest worker first needs it (when a
//! trail of the region logs with validation on); the handler only reads.

use billtrail_protocol::json11::{parse_timestamp, timestamp_value};
use billtrail_protocol::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{Context, Service};

fn ct_error(code: &'static str, message: impl Into<String>) -> ApiError {
    Service::CloudTrail.model().error(code, message)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPublicKeysInput {
    #[serde(default)]
    start_time: Option<Value>,
    #[serde(default)]
    end_time: Option<Value>,
    #[serde(default)]
    next_token: Option<String>,
}

/// The region's keys whose validity overlaps `[StartTime, EndTime]`; both default to now, which
/// gives the keys valid now. There is never a next page: `NextToken` is "reserved for future
/// use", so any token sent is refused.
pub(super) fn list_public_keys(
    cx: &mut Context<'_>,
    input: ListPublicKeysInput,
) -> Result<Value, ApiError> {
    if input.next_token.is_some() {
        return Err(ct_error("InvalidTokenException", "Invalid token."));
    }
    let time = |v: &Option<Value>, what: &str| -> Result<OffsetDateTime, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(cx.now),
            Some(v) => parse_timestamp(v).ok_or_else(|| {
                ct_error(
                    "InvalidTimeRangeException",
                    format!("{what} is not a valid timestamp."),
                )
            }),
        }
    };
    let start = time(&input.start_time, "StartTime")?;
    let end = time(&input.end_time, "EndTime")?;
    if start > end {
        return Err(ct_error(
            "InvalidTimeRangeException",
            "Start time must be before end time.",
        ));
    }
    // Whole seconds, widened: a key valid at any instant of the range is in it.
    let end_secs = end.unix_timestamp() + i64::from(end.nanosecond() > 0);
    let keys =
        billtrail_digest::public_keys(cx.read_side(), cx.region, start.unix_timestamp(), end_secs)
            .map_err(|e| {
                tracing::error!(error = %e, "reading digest signing keys failed");
                ApiError::internal()
            })?;
    let list: Vec<Value> = keys
        .into_iter()
        .map(|k| {
            json!({
                "Value": k.value,
                "ValidityStartTime": unix_value(k.validity_start),
                "ValidityEndTime": unix_value(k.validity_end),
                "Fingerprint": k.fingerprint,
            })
        })
        .collect();
    Ok(json!({ "PublicKeyList": list }))
}

fn unix_value(secs: i64) -> Value {
    timestamp_value(OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}
