//! The CloudTrail record's JSON, built in parts around what the call's outcome decides. Field
//! order is CloudTrail's; optional fields are omitted, not null.

use serde::Serialize;
use serde_json::Value;

/// A record's fields up to `userAgent`, in CloudTrail's order. The fields a record may have,
/// in order:
///
/// `eventVersion`, `userIdentity`, `eventTime`, `eventSource`, `eventName`, `awsRegion`,
/// `sourceIPAddress`, `userAgent`?, `errorCode`?, `errorMessage`?, `requestParameters`,
/// `responseElements`, `requestID`?, `eventID`, `readOnly`, `resources`?, `eventType`,
/// `managementEvent`, `recipientAccountId`, `sharedEventID`?, `serviceEventDetails`?,
/// `eventCategory`, `tlsDetails`?
///
/// (`?`: omitted when absent, never null). The outcome decides the error, the response and the
/// resources, so the record is serialized in parts around them: [`Parts`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Head<'a> {
    pub event_version: &'static str,
    pub user_identity: &'a UserIdentity,
    pub event_time: &'a str,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<&'a str>,
}

/// `requestID` to `readOnly`.
#[derive(Serialize)]
pub(crate) struct Ids<'a> {
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    #[serde(rename = "eventID")]
    pub event_id: &'a str,
    #[serde(rename = "readOnly")]
    pub read_only: bool,
}

/// `eventType` to the end.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tail<'a> {
    pub event_type: &'a str,
    pub management_event: bool,
    pub recipient_account_id: &'a str,
    #[serde(rename = "sharedEventID", skip_serializing_if = "Option::is_none")]
    pub shared_event_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_event_details: Option<&'a Value>,
    pub event_category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<&'a TlsDetails>,
}

/// A record serialized but for what its outcome decides: compact JSON, ready to be joined.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    /// `{` and the [`Head`] fields.
    head: String,
    /// `requestParameters`' value.
    params: String,
    /// The [`Ids`] fields, without braces.
    ids: String,
    /// The [`Tail`] fields and the closing `}`.
    tail: String,
}

/// Compact JSON of `value`. Serializing borrowed strings, booleans and JSON values into memory
/// cannot fail.
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The fields of a serialized struct without its braces.
fn fields(object: &str) -> &str {
    object
        .strip_prefix('{')
        .and_then(|o| o.strip_suffix('}'))
        .unwrap_or(object)
}

impl Parts {
    pub(crate) fn new(head: &Head<'_>, params: &Value, ids: &Ids<'_>, tail: &Tail<'_>) -> Parts {
        let mut h = json(head);
        h.pop(); // its `}`: the record goes on
        let mut t = json(tail);
        t.replace_range(..1, ""); // its `{`: it follows the record's other fields
        Parts {
            head: h,
            params: json(params),
            ids: fields(&json(ids)).to_string(),
            tail: t,
        }
    }

    /// The whole record, with the outcome's error (code and message) or response, and the
    /// resources the call touched.
    pub(crate) fn finish(
        &self,
        error: Option<(&str, &str)>,
        response: &Value,
        resources: &[Resource],
    ) -> String {
        let mut out = String::with_capacity(
            self.head.len() + self.params.len() + self.ids.len() + self.tail.len() + 256,
        );
        out.push_str(&self.head);
        if let Some((code, message)) = error {
            out.push_str(",\"errorCode\":");
            out.push_str(&json(&code));
            out.push_str(",\"errorMessage\":");
            out.push_str(&json(&message));
        }
        out.push_str(",\"requestParameters\":");
        out.push_str(&self.params);
        out.push_str(",\"responseElements\":");
        out.push_str(&json(response));
        out.push(',');
        out.push_str(&self.ids);
        if !resources.is_empty() {
            out.push_str(",\"resources\":");
            out.push_str(&json(&resources));
        }
        out.push(',');
        out.push_str(&self.tail);
        out
    }

    /// `requestParameters` as serialized.
    pub(crate) fn request_parameters(&self) -> Value {
        serde_json::from_str(&self.params).unwrap_or(Value::Null)
    }
}

/// `userIdentity`. Which fields are present depends on the identity type (reference §1.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

/// An item of `resources`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    #[serde(rename = "ARN")]
    pub arn: String,
    #[serde(rename = "accountId")]
    pub account_id: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
}

/// `tlsDetails`, present when the call came over TLS.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}
