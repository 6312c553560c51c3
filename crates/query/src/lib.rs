//! Event history: what `LookupEvents` means, and how events are downloaded.
//!
//! [`lookup`] turns a `LookupEvents` request (botocore's `cloudtrail/2013-11-01` shapes) into a
//! store query, runs it, and builds the response. Its rules:
//! - an account and region see only their own events, at most 90 days old;
//! - newest first, `MaxResults` 1–50 (default 50);
//! - several lookup attributes narrow the result together (AWS honours only one; we AND them);
//! - `NextToken` is opaque and tamper-proof: an HMAC binds it to the account, region and query it
//!   came from, so it cannot be replayed against another account's events or another query.
//!
//! [`export`] writes events as CSV or JSON for downloads.
//!
//! What this crate is not: it does not authenticate, authorize or record the lookup itself; the
//! caller does, as for any other operation.

pub mod export;
mod token;

use billtrail_protocol::ApiError;
use billtrail_store::{EventFilter, EventQuery, ReadSide, StoredEvent};
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub use token::TokenKey;

/// How long event history keeps events unless configured otherwise: 90 days, as CloudTrail.
pub const RETENTION_SECONDS: i64 = 90 * 24 * 3600;
pub const DEFAULT_MAX_RESULTS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsRequest {
    #[serde(default)]
    lookup_attributes: Vec<LookupAttribute>,
    start_time: Option<Value>,
    end_time: Option<Value>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

/// Who is looking: the account and region whose history is read.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    /// Unix seconds now, for retention.
    pub now: i64,
    /// Events older than this many seconds are past retention and never returned.
    pub retention: i64,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(code, 400, message)
}

/// Parses a timestamp as botocore sends it (epoch seconds, possibly fractional) or as an ISO-8601
/// string, into whole Unix seconds.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.floor() as i64),
        Value::String(s) => {
            if let Ok(f) = s.parse::<f64>() {
                return f.is_finite().then_some(f.floor() as i64);
            }
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp())
        }
        _ => None,
    }
}

/// Builds the store query a `LookupEvents` request asks for. `input` has passed the model's
/// validation already.
pub fn plan(
    input: &Map<String, Value>,
    scope: &Scope<'_>,
    key: &TokenKey,
) -> Result<(EventQuery, usize), ApiError> {
    let req: LookupEventsRequest = serde_json::from_value(Value::Object(input.clone()))
        .map_err(|e| ApiError::serialization(format!("Invalid LookupEvents request: {e}")))?;
    let limit = match req.max_results {
        None => DEFAULT_MAX_RESULTS,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(n) => {
            return Err(invalid(
                "InvalidMaxResultsException",
                format!("MaxResults must be between 1 and 50; got {n}."),
            ))
        }
    };
    if let Some(cat) = &req.event_category {
        if cat != "insight" {
            return Err(invalid(
                "InvalidEventCategoryException",
                format!("Invalid event category: {cat}"),
            ));
        }
    }
    let mut filters = Vec::with_capacity(req.lookup_attributes.len());
    for a in &req.lookup_attributes {
        let v = a.attribute_value.clone();
        filters.push(match a.attribute_key.as_str() {
            "EventId" => EventFilter::EventId(v),
            "EventName" => EventFilter::EventName(v),
            "EventSource" => EventFilter::EventSource(v),
            "Username" => EventFilter::Username(v),
            "AccessKeyId" => EventFilter::AccessKeyId(v),
            "ResourceType" => EventFilter::ResourceType(v),
            "ResourceName" => EventFilter::ResourceName(v),
            "ReadOnly" => match v.as_str() {
                "true" => EventFilter::ReadOnly(true),
                "false" => EventFilter::ReadOnly(false),
                other => {
                    return Err(invalid(
                        "InvalidLookupAttributesException",
                        format!("The ReadOnly attribute value must be true or false; got {other}."),
                    ))
                }
            },
            other => {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    format!("Invalid attribute key: {other}"),
                ))
            }
        });
    }
    let time = |v: &Option<Value>, what: &str| -> Result<Option<i64>, ApiError> {
        match v {
            None => Ok(None),
            Some(v) => parse_timestamp(v).map(Some).ok_or_else(|| {
                invalid(
                    "InvalidTimeRangeException",
                    format!("{what} is not a valid timestamp."),
                )
            }),
        }
    };
    let start = time(&req.start_time, "StartTime")?;
    let end = time(&req.end_time, "EndTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(invalid(
                "InvalidTimeRangeException",
                "The start time of the time range must be before the end time.",
            ));
        }
    }
    let oldest = scope.now - scope.retention;
    let mut query = EventQuery {
        account_id: scope.account_id.to_string(),
        region: scope.region.to_string(),
        filters,
        start_time: Some(start.map_or(oldest, |s| s.max(oldest))),
        end_time: end,
        before: None,
        management_only: true,
        limit: limit + 1,
    };
    if let Some(t) = &req.next_token {
        query.before = Some(key.open(t, &query)?);
    }
    Ok((query, limit))
}

/// Runs a `LookupEvents` request against `read` and returns the response body.
pub fn lookup(
    read: &dyn ReadSide,
    input: &Map<String, Value>,
    scope: &Scope<'_>,
    key: &TokenKey,
) -> Result<Value, ApiError> {
    let (query, limit) = plan(input, scope, key)?;
    let insights = input.get("EventCategory").and_then(Value::as_str) == Some("insight");
    if insights {
        // billtrail produces no Insights events.
        return Ok(json!({ "Events": [] }));
    }
    let mut events = read.lookup(&query).map_err(|e| {
        // The detail stays in the server's log; the caller gets a generic internal error.
        tracing::error!(error = %e, "event lookup failed");
        ApiError::internal()
    })?;
    let more = events.len() > limit;
    events.truncate(limit);
    let mut body = Map::new();
    body.insert(
        "Events".into(),
        Value::Array(events.iter().map(event_json).collect()),
    );
    if more {
        if let Some(last) = events.last() {
            body.insert(
                "NextToken".into(),
                Value::String(key.seal(last.cursor(), &query)),
            );
        }
    }
    Ok(Value::Object(body))
}

/// One `Event` of the `LookupEvents` response.
pub fn event_json(e: &StoredEvent) -> Value {
    let ev = &e.event;
    let mut m = Map::new();
    m.insert("EventId".into(), json!(ev.event_id));
    m.insert("EventName".into(), json!(ev.event_name));
    m.insert(
        "ReadOnly".into(),
        json!(if ev.read_only { "true" } else { "false" }),
    );
    if let Some(k) = &ev.access_key_id {
        m.insert("AccessKeyId".into(), json!(k));
    }
    m.insert("EventTime".into(), json!(ev.event_time as f64));
    m.insert("EventSource".into(), json!(ev.event_source));
    if let Some(u) = &ev.username {
        m.insert("Username".into(), json!(u));
    }
    m.insert(
        "Resources".into(),
        Value::Array(
            ev.resources
                .iter()
                .map(|(ty, name)| json!({"ResourceType": ty, "ResourceName": name}))
                .collect(),
        ),
    );
    m.insert("CloudTrailEvent".into(), json!(ev.record));
    Value::Object(m)
}
