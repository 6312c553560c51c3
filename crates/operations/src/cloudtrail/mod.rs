//! `cloudtrail.amazonaws.com`: event history (`LookupEvents`), and later trails.

use billtrail_protocol::ApiError;
use billtrail_query::Scope;
use serde_json::{Map, Value};

use crate::{op, Context, OpSpec};

pub(crate) const OPERATIONS: &[OpSpec] = &[op!(
    CloudTrail,
    "LookupEvents",
    read_only: true,
    action: "cloudtrail:LookupEvents",
    lookup_events
)];

/// `LookupEvents` over the caller's account and the region the call was signed for.
fn lookup_events(cx: &mut Context<'_>, input: Map<String, Value>) -> Result<Value, ApiError> {
    let scope = Scope {
        account_id: cx.account_id(),
        region: cx.region,
        now: cx.now.unix_timestamp(),
        retention: cx.env.retention_seconds,
    };
    billtrail_query::lookup(cx.read_side(), &input, &scope, &cx.env.token_key)
}
