//! `cloudtrail.amazonaws.com`: event history (`LookupEvents`) and trails.
//!
//! Trails are defined here ([`trails`], [`selectors`], [`tags`]) and delivered by
//! `billtrail-trail`, whose types are the stored state. Every call is recorded on
//! `cloudtrail.amazonaws.com` in the region it was signed for, with the trail it acted on as
//! the record's resource.

mod public_keys;
mod selectors;
mod tags;
mod trails;

use billtrail_protocol::ApiError;
use billtrail_query::Scope;
use serde_json::{Map, Value};

use crate::{op, Context, OpSpec};

#[rustfmt::skip]
pub(crate) const OPERATIONS: &[OpSpec] = &[
    op!(CloudTrail, "LookupEvents", read_only: true, action: "cloudtrail:LookupEvents", lookup_events),
    op!(CloudTrail, "CreateTrail", read_only: false, action: "cloudtrail:CreateTrail", bucket: "S3BucketName", trails::create_trail),
    op!(CloudTrail, "UpdateTrail", read_only: false, action: "cloudtrail:UpdateTrail", bucket: "S3BucketName", trails::update_trail),
    op!(CloudTrail, "DeleteTrail", read_only: false, action: "cloudtrail:DeleteTrail", trails::delete_trail),
    op!(CloudTrail, "DescribeTrails", read_only: true, action: "cloudtrail:DescribeTrails", trails::describe_trails),
    op!(CloudTrail, "GetTrail", read_only: true, action: "cloudtrail:GetTrail", trails::get_trail),
    op!(CloudTrail, "ListTrails", read_only: true, action: "cloudtrail:ListTrails", trails::list_trails),
    op!(CloudTrail, "GetTrailStatus", read_only: true, action: "cloudtrail:GetTrailStatus", trails::get_trail_status),
    op!(CloudTrail, "StartLogging", read_only: false, action: "cloudtrail:StartLogging", trails::start_logging),
    op!(CloudTrail, "StopLogging", read_only: false, action: "cloudtrail:StopLogging", trails::stop_logging),
    op!(CloudTrail, "PutEventSelectors", read_only: false, action: "cloudtrail:PutEventSelectors", selectors::put_event_selectors),
    op!(CloudTrail, "GetEventSelectors", read_only: true, action: "cloudtrail:GetEventSelectors", selectors::get_event_selectors),
    op!(CloudTrail, "AddTags", read_only: false, action: "cloudtrail:AddTags", tags::add_tags),
    op!(CloudTrail, "RemoveTags", read_only: false, action: "cloudtrail:RemoveTags", tags::remove_tags),
    op!(CloudTrail, "ListTags", read_only: true, action: "cloudtrail:ListTags", tags::list_tags),
    op!(CloudTrail, "ListPublicKeys", read_only: true, action: "cloudtrail:ListPublicKeys", public_keys::list_public_keys),
];

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
