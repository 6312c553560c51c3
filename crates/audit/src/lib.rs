//! Audit capture: turning one API call into one CloudTrail record.
//!
//! [`capture`] takes what is known about a finished call (who, when, from where, what was asked,
//! what was answered or which error) and builds the record in CloudTrail's exact format
//! (eventVersion 1.11, `../shared/reference/cloudtrail.md` §1), plus the columns the store
//! indexes for `LookupEvents`. Field order follows CloudTrail's own records, since some parsers
//! and many people read them in that order.
//!
//! Invariants: `eventTime` has no fractional seconds; `eventID` is a UUID; `readOnly` is a JSON
//! boolean; `userAgent`, `errorCode` and `errorMessage` are cut at 1 KB; secrets never reach the
//! record (callers pass parameters already redacted by the protocol model, and a second pass
//! here hides well-known secret member names whatever the model says).
//!
//! What this crate is not: it does not decide whether a call is allowed, and it does not store
//! anything; it only describes.

mod identity;
mod record;

pub use identity::{aws_account_identity, user_identity};
pub use record::{Record, Resource, TlsDetails, UserIdentity};

use billtrail_auth::principal::Principal;
use billtrail_store::NewEvent;
use serde_json::Value;
use time::OffsetDateTime;

/// The value CloudTrail writes in place of a secret.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// `eventType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    AwsApiCall,
    AwsConsoleAction,
    AwsServiceEvent,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AwsApiCall => "AwsApiCall",
            EventType::AwsConsoleAction => "AwsConsoleAction",
            EventType::AwsServiceEvent => "AwsServiceEvent",
        }
    }
}

/// Where a call came from and how it arrived: known before the operation runs.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub tls: Option<TlsDetails>,
    pub event_type: EventType,
}

/// What was called.
#[derive(Debug, Clone)]
pub struct CallInfo<'a> {
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub region: &'a str,
    pub read_only: bool,
    pub request_id: &'a str,
    /// The account whose history receives the record.
    pub recipient_account_id: &'a str,
}

/// How the call ended.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    /// The operation's answer; `None` when it returns nothing worth recording.
    Success {
        response: Option<Value>,
    },
    Failure {
        code: &'a str,
        message: &'a str,
    },
}

/// Everything a record says about one call (or one service event).
#[derive(Debug, Clone)]
pub struct Capture<'a> {
    pub principal: &'a Principal,
    pub origin: &'a Origin,
    pub call: CallInfo<'a>,
    /// `None` when the request could not be read at all.
    pub request_parameters: Option<Value>,
    pub outcome: Outcome<'a>,
    pub resources: Vec<Resource>,
    /// `serviceEventDetails` of an `AwsServiceEvent`.
    pub service_event_details: Option<Value>,
    /// Set when the same action is recorded in several accounts.
    pub shared_event_id: Option<String>,
    /// Replaces the `userIdentity` built from `principal` (the other account's copy of a
    /// cross-account call shows the caller as an `AWSAccount`).
    pub user_identity: Option<UserIdentity>,
    pub now: OffsetDateTime,
}

impl<'a> Capture<'a> {
    /// A capture with no resources, details or shared id, at the current time.
    pub fn new(
        principal: &'a Principal,
        origin: &'a Origin,
        call: CallInfo<'a>,
        request_parameters: Option<Value>,
        outcome: Outcome<'a>,
    ) -> Self {
        Capture {
            principal,
            origin,
            call,
            request_parameters,
            outcome,
            resources: Vec::new(),
            service_event_details: None,
            shared_event_id: None,
            user_identity: None,
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// Builds the record of one call and the row that stores it.
pub fn capture(c: Capture<'_>) -> NewEvent {
    let Capture {
        principal,
        origin,
        call,
        request_parameters,
        outcome,
        resources,
        service_event_details,
        shared_event_id,
        user_identity: identity_override,
        now,
    } = c;
    let event_time = now.unix_timestamp();
    // A version-7 UUID (RFC 9562): unique like CloudTrail's, and ordered by time, so the store's
    // eventID index grows at its right edge instead of touching a random page per record.
    let event_id = uuid::Uuid::now_v7().to_string();
    let (error_code, error_message, response_elements) = match outcome {
        Outcome::Success { response } => {
            // CloudTrail leaves responseElements null for read-only calls.
            let response = if call.read_only {
                None
            } else {
                response.map(|mut r| {
                    scrub_in_place(&mut r);
                    r
                })
            };
            (None, None, response.unwrap_or(Value::Null))
        }
        Outcome::Failure { code, message } => (Some(cut(code)), Some(cut(message)), Value::Null),
    };
    let record = Record {
        event_version: "1.11",
        user_identity: identity_override.unwrap_or_else(|| user_identity(principal)),
        event_time: format_time(event_time),
        event_source: call.event_source.to_string(),
        event_name: call.event_name.to_string(),
        aws_region: call.region.to_string(),
        source_ip_address: origin.source_ip.clone(),
        user_agent: origin.user_agent.as_deref().map(cut),
        error_code,
        error_message,
        request_parameters: request_parameters
            .map(|mut p| {
                scrub_in_place(&mut p);
                p
            })
            .unwrap_or(Value::Null),
        response_elements,
        request_id: (!call.request_id.is_empty()).then(|| call.request_id.to_string()),
        event_id: event_id.clone(),
        read_only: call.read_only,
        resources: if resources.is_empty() {
            None
        } else {
            Some(resources.clone())
        },
        event_type: origin.event_type.as_str(),
        management_event: true,
        recipient_account_id: call.recipient_account_id.to_string(),
        shared_event_id,
        service_event_details,
        event_category: "Management",
        tls_details: origin.tls.clone(),
    };
    NewEvent {
        account_id: call.recipient_account_id.to_string(),
        region: call.region.to_string(),
        event_time,
        event_id,
        event_name: call.event_name.to_string(),
        event_source: call.event_source.to_string(),
        read_only: call.read_only,
        username: principal.lookup_username(),
        access_key_id: principal.access_key_id.clone(),
        resources: resources
            .into_iter()
            .map(|r| (r.resource_type, r.arn))
            .collect(),
        management: true,
        record: record.to_json(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only form CloudTrail (and AWS's own log readers) use.
pub fn format_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Cuts a string at 1 KB (on a character boundary), CloudTrail's limit for these fields.
fn cut(s: &str) -> String {
    const MAX: usize = 1024;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Member names that always hold secrets, whatever the operation. The protocol model's
/// `sensitive` trait is the main defence; this list is the second one, so that a model entry
/// that forgot the trait still cannot leak a password or key into a record.
const SECRET_NAMES: &[&str] = &[
    "password",
    "currentpassword",
    "newpassword",
    "oldpassword",
    "secretaccesskey",
    "sessiontoken",
    "securityanswer",
    "answer",
    "cardnumber",
    "cvv",
    "securitycode",
];

fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Replaces the values of secret-named members (at any depth) with [`HIDDEN`].
pub fn scrub(v: &Value) -> Value {
    let mut copy = v.clone();
    scrub_in_place(&mut copy);
    copy
}

/// [`scrub`] without the copy.
pub fn scrub_in_place(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) && !v.is_null() {
                    *v = Value::String(HIDDEN.into());
                } else {
                    scrub_in_place(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_in_place),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin {
            source_ip: "127.0.0.1".into(),
            user_agent: Some("aws-cli/1.0".into()),
            tls: None,
            event_type: EventType::AwsApiCall,
        }
    }

    fn call(read_only: bool) -> CallInfo<'static> {
        CallInfo {
            event_source: "billingconsole.amazonaws.com",
            event_name: "SetContactAddress",
            region: "us-east-1",
            read_only,
            request_id: "req-1",
            recipient_account_id: "111122223333",
        }
    }

    #[test]
    fn root_record_has_cloudtrail_shape_and_order() {
        let p = Principal::root("111122223333", Some("AKIAEXAMPLE".into()));
        let at = OffsetDateTime::from_unix_timestamp(1_527_698_644).expect("time");
        let o = origin();
        let mut c = Capture::new(
            &p,
            &o,
            call(false),
            Some(json!({"city": "Seattle", "districtOrCounty": null})),
            Outcome::Success { response: None },
        );
        c.now = at;
        let ev = capture(c);
        let r: serde_json::Map<String, Value> = serde_json::from_str(&ev.record).expect("json");
        let keys: Vec<&str> = r.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "requestParameters",
                "responseElements",
                "requestID",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory"
            ]
        );
        assert_eq!(r["eventTime"], "2018-05-30T16:44:04Z");
        assert_eq!(
            r["userIdentity"],
            json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE"})
        );
        assert_eq!(
            r["requestParameters"],
            json!({"city": "Seattle", "districtOrCounty": null})
        );
        assert_eq!(r["responseElements"], Value::Null);
        assert!(uuid::Uuid::parse_str(r["eventID"].as_str().expect("id")).is_ok());
        assert_eq!(ev.username.as_deref(), Some("root"));
        assert_eq!(ev.event_time, 1_527_698_644);
    }

    #[test]
    fn failure_carries_error_and_null_response() {
        let p = Principal::root("111122223333", None);
        let o = origin();
        let ev = capture(Capture::new(
            &p,
            &o,
            call(false),
            None,
            Outcome::Failure {
                code: "ValidationException",
                message: "bad",
            },
        ));
        let r: Value = serde_json::from_str(&ev.record).expect("json");
        assert_eq!(r["errorCode"], "ValidationException");
        assert_eq!(r["errorMessage"], "bad");
        assert_eq!(r["requestParameters"], Value::Null);
        assert_eq!(r["responseElements"], Value::Null);
    }

    #[test]
    fn read_only_calls_record_no_response_and_secrets_are_scrubbed() {
        let p = Principal::root("111122223333", None);
        let o = origin();
        let ev = capture(Capture::new(
            &p,
            &o,
            call(true),
            Some(json!({"nested": [{"Password": "hunter2"}], "newPassword": "x"})),
            Outcome::Success {
                response: Some(json!({"a": 1})),
            },
        ));
        assert!(!ev.record.contains("hunter2"));
        let r: Value = serde_json::from_str(&ev.record).expect("json");
        assert_eq!(r["requestParameters"]["nested"][0]["Password"], HIDDEN);
        assert_eq!(r["requestParameters"]["newPassword"], HIDDEN);
        assert_eq!(r["responseElements"], Value::Null);
    }

    #[test]
    fn long_user_agent_is_cut_at_one_kilobyte() {
        let mut o = origin();
        o.user_agent = Some("é".repeat(1000));
        let p = Principal::root("111122223333", None);
        let ev = capture(Capture::new(
            &p,
            &o,
            call(true),
            None,
            Outcome::Success { response: None },
        ));
        let r: Value = serde_json::from_str(&ev.record).expect("json");
        let ua = r["userAgent"].as_str().expect("ua");
        assert!(ua.len() <= 1024 && ua.len() >= 1022);
    }
}
