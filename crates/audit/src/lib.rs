//! Audit capture: turning one API call into one CloudTrail record.
//!
//! [`capture`] takes what is known about a finished call (who, when, from where, what was asked,
//! what was answered or which error) and builds the record in CloudTrail's exact format
//! (eventVersion 1.11, `../shared/reference/cloudtrail.md` §1), plus the columns the store
//! indexes for `LookupEvents`. Field order follows CloudTrail's own records, since some parsers
//! and many people read them in that order.
//!
//! A record can also be built in two steps: [`Capture::prepare`] before the call runs (all but
//! the outcome, serialized), then [`Prepared::finish`] with the outcome. [`capture`] is the two
//! steps at once, so both ways write the same bytes.
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
pub use record::{Resource, TlsDetails, UserIdentity};

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

/// What a record says about one call (or one service event) that is known before it runs:
/// everything but its outcome and the resources it touched.
#[derive(Debug, Clone)]
pub struct Capture<'a> {
    pub principal: &'a Principal,
    pub origin: &'a Origin,
    pub call: CallInfo<'a>,
    /// `None` when the request could not be read at all.
    pub request_parameters: Option<Value>,
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
    /// A capture with no details or shared id, at the current time.
    pub fn new(
        principal: &'a Principal,
        origin: &'a Origin,
        call: CallInfo<'a>,
        request_parameters: Option<Value>,
    ) -> Self {
        Capture {
            principal,
            origin,
            call,
            request_parameters,
            service_event_details: None,
            shared_event_id: None,
            user_identity: None,
            now: OffsetDateTime::now_utc(),
        }
    }

    /// Builds and serializes every part of the record the outcome does not decide (identity,
    /// times, IDs, the request's parameters: most of a record's work). Then
    /// [`Prepared::finish`] adds the outcome.
    pub fn prepare(self) -> Prepared {
        let Capture {
            principal,
            origin,
            call,
            request_parameters,
            service_event_details,
            shared_event_id,
            user_identity: identity_override,
            now,
        } = self;
        let event_time = now.unix_timestamp();
        let event_id = uuid::Uuid::now_v7().to_string();
        let identity = identity_override.unwrap_or_else(|| user_identity(principal));
        let head = record::Head {
            event_version: "1.11",
            user_identity: &identity,
            event_time: &format_time(event_time),
            event_source: call.event_source,
            event_name: call.event_name,
            aws_region: call.region,
            source_ip_address: &origin.source_ip,
            user_agent: origin.user_agent.as_deref().map(cut),
        };
        let params = request_parameters
            .map(|mut p| {
                scrub_in_place(&mut p);
                p
            })
            .unwrap_or(Value::Null);
        let ids = record::Ids {
            request_id: (!call.request_id.is_empty()).then_some(call.request_id),
            event_id: &event_id,
            read_only: call.read_only,
        };
        let tail = record::Tail {
            event_type: origin.event_type.as_str(),
            management_event: true,
            recipient_account_id: call.recipient_account_id,
            shared_event_id: shared_event_id.as_deref(),
            service_event_details: service_event_details.as_ref(),
            event_category: "Management",
            tls_details: origin.tls.as_ref(),
        };
        let parts = record::Parts::new(&head, &params, &ids, &tail);
        Prepared {
            parts,
            event: NewEvent {
                account_id: call.recipient_account_id.to_string(),
                region: call.region.to_string(),
                event_time,
                event_id,
                event_name: call.event_name.to_string(),
                event_source: call.event_source.to_string(),
                read_only: call.read_only,
                username: principal.lookup_username(),
                access_key_id: principal.access_key_id.clone(),
                resources: Vec::new(),
                management: true,
                record: String::new(),
            },
        }
    }
}

/// A record with everything but its outcome already built (see [`Capture::prepare`]).
///
/// Calls that change state build their record inside the store's transaction, on the one thread
/// that writes; preparing it beforehand, on the request's thread, leaves that thread only the
/// outcome to add.
#[derive(Debug, Clone)]
pub struct Prepared {
    parts: record::Parts,
    event: NewEvent,
}

impl Prepared {
    /// The record of the call, now that its outcome and the resources it touched are known.
    pub fn finish(self, outcome: Outcome<'_>, resources: Vec<Resource>) -> NewEvent {
        let Prepared { parts, mut event } = self;
        let read_only = event.read_only;
        let (error, response) = match outcome {
            Outcome::Success { response } => {
                // A read's answer is never recorded (it may be large, and it is not a change).
                let response = response.filter(|_| !read_only).map(|mut r| {
                    scrub_in_place(&mut r);
                    r
                });
                (None, response)
            }
            Outcome::Failure { code, message } => (Some((cut(code), cut(message))), None),
        };
        event.record = parts.finish(error, response.as_ref().unwrap_or(&Value::Null), &resources);
        event.resources = resources
            .into_iter()
            .map(|r| (r.resource_type, r.arn))
            .collect();
        event
    }

    /// The request's parameters as the record holds them (secrets hidden).
    pub fn request_parameters(&self) -> Value {
        self.parts.request_parameters()
    }
}

/// Builds the record of one call and the row that stores it.
pub fn capture(c: Capture<'_>, outcome: Outcome<'_>, resources: Vec<Resource>) -> NewEvent {
    c.prepare().finish(outcome, resources)
}

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
fn cut(s: &str) -> &str {
    const MAX: usize = 1024;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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

    /// Every field a record may have, in CloudTrail's order.
    const FIELD_ORDER: [&str; 23] = [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "requestID",
        "eventID",
        "readOnly",
        "resources",
        "eventType",
        "managementEvent",
        "recipientAccountId",
        "sharedEventID",
        "serviceEventDetails",
        "eventCategory",
        "tlsDetails",
    ];

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
        );
        c.now = at;
        let ev = capture(c, Outcome::Success { response: None }, Vec::new());
        let r: serde_json::Map<String, Value> = serde_json::from_str(&ev.record).expect("json");
        let absent = [
            "errorCode",
            "errorMessage",
            "resources",
            "sharedEventID",
            "serviceEventDetails",
            "tlsDetails",
        ];
        assert_eq!(
            r.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            FIELD_ORDER
                .iter()
                .copied()
                .filter(|f| !absent.contains(f))
                .collect::<Vec<_>>()
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

    /// With every optional field present, each is where CloudTrail puts it, once, and the parts
    /// join into one valid JSON object with the values given.
    #[test]
    fn every_field_in_order_when_all_are_present() {
        let p = Principal::root("111122223333", Some("AKIAEXAMPLE".into()));
        let mut o = origin();
        o.tls = Some(TlsDetails {
            tls_version: "TLSv1.3".into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
            client_provided_host_header: "localhost".into(),
        });
        let mut c = Capture::new(&p, &o, call(false), Some(json!({"a": "}\",\"x\":{"})));
        c.shared_event_id = Some("shared".into());
        c.service_event_details = Some(json!({"k": [1, 2]}));
        let prepared = c.prepare();
        assert_eq!(prepared.request_parameters(), json!({"a": "}\",\"x\":{"}));
        let ev = prepared.finish(
            Outcome::Failure {
                code: "AccessDenied",
                message: "no \"quotes\" please",
            },
            vec![Resource {
                arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
                account_id: "111122223333".into(),
                resource_type: Some("AWS::CloudTrail::Trail".into()),
            }],
        );
        let r: serde_json::Map<String, Value> = serde_json::from_str(&ev.record).expect("json");
        assert_eq!(
            r.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            FIELD_ORDER
        );
        assert_eq!(r["errorMessage"], "no \"quotes\" please");
        assert_eq!(r["requestParameters"], json!({"a": "}\",\"x\":{"}));
        assert_eq!(r["resources"][0]["type"], "AWS::CloudTrail::Trail");
        assert_eq!(r["serviceEventDetails"], json!({"k": [1, 2]}));
        assert_eq!(r["tlsDetails"]["tlsVersion"], "TLSv1.3");
        assert_eq!(r["eventID"], ev.event_id.as_str());
        assert_eq!(
            ev.resources,
            [(
                Some("AWS::CloudTrail::Trail".to_string()),
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".to_string()
            )]
        );
        // Compact, like CloudTrail's own: re-serializing changes nothing.
        assert_eq!(serde_json::to_string(&r).expect("json"), ev.record);
    }

    #[test]
    fn failure_carries_error_and_null_response() {
        let p = Principal::root("111122223333", None);
        let o = origin();
        let ev = capture(
            Capture::new(&p, &o, call(false), None),
            Outcome::Failure {
                code: "ValidationException",
                message: "bad",
            },
            Vec::new(),
        );
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
        let ev = capture(
            Capture::new(
                &p,
                &o,
                call(true),
                Some(json!({"nested": [{"Password": "hunter2"}], "newPassword": "x"})),
            ),
            Outcome::Success {
                response: Some(json!({"a": 1})),
            },
            Vec::new(),
        );
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
        let ev = capture(
            Capture::new(&p, &o, call(true), None),
            Outcome::Success { response: None },
            Vec::new(),
        );
        let r: Value = serde_json::from_str(&ev.record).expect("json");
        let ua = r["userAgent"].as_str().expect("ua");
        assert!(ua.len() <= 1024 && ua.len() >= 1022);
    }
}
