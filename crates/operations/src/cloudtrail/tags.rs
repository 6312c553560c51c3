//! `AddTags`, `RemoveTags`, `ListTags` on trails.
//!
//! Resources are named by ARN, and only in their home region (AWS: a multi-region trail is
//! tagged from its home region). Event data stores, dashboards and channels do not exist in
//! billtrail: their ARNs are refused as an unsupported resource type.

use billtrail_protocol::ApiError;
use billtrail_trail::{parse_trail_arn, Tag, Trail, TRAIL_KIND};
use serde::Deserialize;
use serde_json::{json, Value};

use super::trails::{check_tags, ct_error, save, too_many_tags, MAX_TAGS, TRAIL_RESOURCE};
use crate::{Context, Empty};

/// The caller's trail named by `arn`, in the current region.
fn tagged_trail(cx: &mut Context<'_>, arn: &str) -> Result<Trail, ApiError> {
    let Some(parsed) = parse_trail_arn(arn) else {
        let other = ["eventdatastore/", "channel/", "dashboard/"]
            .iter()
            .any(|k| arn.starts_with("arn:aws:cloudtrail:") && arn.contains(k));
        return Err(if other {
            ct_error(
                "ResourceTypeNotSupportedException",
                format!("billtrail has trails only; {arn} is not a trail."),
            )
        } else {
            ct_error(
                "CloudTrailARNInvalidException",
                format!("{arn} is not a valid trail ARN: the format is arn:aws:cloudtrail:<region>:<account>:trail/<name>."),
            )
        });
    };
    if parsed.region != cx.region {
        return Err(ct_error(
            "CloudTrailARNInvalidException",
            format!(
                "Region in ARN is wrong, you can only access resources in region {}.",
                cx.region
            ),
        ));
    }
    let account = cx.account_id();
    cx.get_in::<Trail>("", TRAIL_KIND, arn)?
        .filter(|t| t.account_id == account)
        .ok_or_else(|| {
            ct_error(
                "ResourceNotFoundException",
                format!("Resource not found: {arn}"),
            )
        })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsInput {
    resource_id: String,
    tags_list: Vec<Tag>,
}

pub(super) fn add_tags(cx: &mut Context<'_>, input: TagsInput) -> Result<Empty, ApiError> {
    let mut trail = tagged_trail(cx, &input.resource_id)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    check_tags(&input.tags_list)?;
    for tag in input.tags_list {
        match trail.tags.iter_mut().find(|t| t.key == tag.key) {
            Some(t) => t.value = tag.value,
            None => trail.tags.push(tag),
        }
    }
    if trail.tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    save(cx, &trail)?;
    Ok(Empty {})
}

pub(super) fn remove_tags(cx: &mut Context<'_>, input: TagsInput) -> Result<Empty, ApiError> {
    let mut trail = tagged_trail(cx, &input.resource_id)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    trail
        .tags
        .retain(|t| !input.tags_list.iter().any(|r| r.key == t.key));
    save(cx, &trail)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    resource_id_list: Vec<String>,
    #[allow(dead_code)]
    next_token: Option<String>,
}

/// The most resources one `ListTags` names.
const MAX_LISTED: usize = 20;

pub(super) fn list_tags(cx: &mut Context<'_>, input: ListTagsInput) -> Result<Value, ApiError> {
    if input.resource_id_list.len() > MAX_LISTED {
        return Err(ct_error(
            "InvalidParameterException",
            format!("ListTags takes at most {MAX_LISTED} resources."),
        ));
    }
    let mut list = Vec::with_capacity(input.resource_id_list.len());
    for arn in &input.resource_id_list {
        let trail = tagged_trail(cx, arn)?;
        list.push(json!({ "ResourceId": trail.arn, "TagsList": trail.tags }));
    }
    Ok(json!({ "ResourceTagList": list }))
}
