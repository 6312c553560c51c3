//! Trails: `CreateTrail`, `UpdateTrail`, `DeleteTrail`, `DescribeTrails`, `GetTrail`,
//! `ListTrails`, `GetTrailStatus`, `StartLogging`, `StopLogging`.
//!
//! AWS's rules, as enforced here:
//! - A trail lives in its home region (the region the call was signed for). A multi-region
//!   trail is also seen, as a shadow trail, in every other region: `DescribeTrails` lists it
//!   there, and reads accept its ARN. Changes (`UpdateTrail`, `DeleteTrail`, `StartLogging`,
//!   `StopLogging`, `PutEventSelectors`) must be made in the home region, else
//!   `InvalidHomeRegionException`.
//! - Names: 3 to 128 ASCII letters, digits, `.`, `_`, `-`, starting and ending with a letter or
//!   digit, no two of `._-` in a row, not an IP address; unique among the trails a region sees.
//! - At most 5 trails per region, counting multi-region trails in every region.
//! - The bucket must exist; it is checked in the object store before the handler runs (see
//!   [`crate::OpSpec::bucket_member`]).
//! - Organization trails only from the organization's management account; they log every
//!   account of the organization, and its members see them (read-only).
//! - A new trail does not log until `StartLogging`. Logging is marked in the record log itself
//!   (see [`billtrail_trail::LoggingPeriod`]), so delivery knows exactly which records a
//!   trail logged.
//!
//! Not supported, and refused rather than silently ignored: KMS encryption (`KmsKeyId`) and
//! CloudWatch Logs delivery; billtrail has neither.

use billtrail_protocol::ApiError;
use billtrail_trail::{
    parse_trail_arn, trail_arn, LoggingPeriod, Selectors, Tag, Trail, TrailCursor, TrailStatus,
    TRAIL_CURSOR_KIND, TRAIL_KIND, TRAIL_STATUS_KIND,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::organizations::{Member, Organization, ORGANIZATION_KIND, ORG_ACCOUNT_KIND};
use crate::{Context, Empty, Service};

/// The most trails a region sees, per account.
pub(super) const MAX_TRAILS_PER_REGION: usize = 5;
/// The most tags a trail has.
pub(super) const MAX_TAGS: usize = 50;

pub(super) const TRAIL_RESOURCE: &str = "AWS::CloudTrail::Trail";

/// An error of CloudTrail's model, with the status the model gives it.
pub(super) fn ct_error(code: &'static str, message: impl Into<String>) -> ApiError {
    Service::CloudTrail.model().error(code, message)
}

fn not_found(cx: &Context<'_>, arn: &str) -> ApiError {
    ct_error(
        "TrailNotFoundException",
        format!("Unknown trail: {arn} for the user: {}", cx.account_id()),
    )
}

fn wrong_home(trail: &Trail, region: &str) -> ApiError {
    ct_error(
        "InvalidHomeRegionException",
        format!(
            "The home region of trail {} is {}; this operation must be called there, not in {region}.",
            trail.arn, trail.home_region
        ),
    )
}

/// Checks a trail name against AWS's rules, with AWS's messages where they are known.
pub(super) fn validate_trail_name(name: &str) -> Result<(), ApiError> {
    let bad = |m: String| Err(ct_error("InvalidTrailNameException", m));
    let len = name.chars().count();
    if name.is_empty() {
        return bad("Trail name cannot be blank!".into());
    }
    if len < 3 {
        return bad(format!(
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {len} characters."
        ));
    }
    if len > 128 {
        return bad(format!(
            "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {len} characters."
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) {
        return bad("Trail name must starts with a letter or number.".into());
    }
    if !alnum(name.chars().last()) {
        return bad("Trail name must ends with a letter or number.".into());
    }
    let separator = |c: char| matches!(c, '.' | '_' | '-');
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || separator(c))
    {
        return bad("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).".into());
    }
    if name
        .as_bytes()
        .windows(2)
        .any(|w| w.iter().all(|b| separator(char::from(*b))))
    {
        return bad("Trail name must not have adjacent periods, underscores or dashes.".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("Trail name must not be formatted as an IP address.".into());
    }
    Ok(())
}

/// What a lookup is for: reads see shadow trails and organization trails; changes need the
/// trail's home region and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

/// Every trail of the installation (all accounts).
fn all_trails(cx: &mut Context<'_>) -> Result<Vec<Trail>, ApiError> {
    Ok(cx
        .scan_in::<Trail>("", TRAIL_KIND)?
        .into_iter()
        .map(|(_, t)| t)
        .collect())
}

/// The caller's organization id, if its account is a member of one.
fn caller_organization(cx: &mut Context<'_>) -> Result<Option<String>, ApiError> {
    let account = cx.account_id();
    Ok(cx
        .get_in::<Member>("", ORG_ACCOUNT_KIND, account)?
        .map(|m| m.organization_id))
}

/// Whether the caller sees `trail` at all (its own, or its organization's), in its region.
fn visible(cx: &Context<'_>, org: Option<&str>, trail: &Trail) -> bool {
    let own = trail.account_id == cx.account_id();
    let organization =
        trail.is_organization_trail && org.is_some() && trail.organization_id.as_deref() == org;
    (own || organization) && trail.visible_in(cx.region)
}

/// Finds the trail a `Name`/`TrailName` member names: a trail name (of the caller's trails in
/// this region) or a trail ARN.
pub(super) fn find_trail(
    cx: &mut Context<'_>,
    name_or_arn: &str,
    access: Access,
) -> Result<Trail, ApiError> {
    if name_or_arn.starts_with("arn:") {
        let Some(parsed) = parse_trail_arn(name_or_arn) else {
            return Err(ct_error(
                "CloudTrailARNInvalidException",
                format!("{name_or_arn} is not a valid trail ARN: the format is arn:aws:cloudtrail:<region>:<account>:trail/<name>."),
            ));
        };
        validate_trail_name(parsed.name)?;
        let org = caller_organization(cx)?;
        let trail = cx
            .get_in::<Trail>("", TRAIL_KIND, name_or_arn)?
            .filter(|t| visible(cx, org.as_deref(), t))
            .ok_or_else(|| not_found(cx, name_or_arn))?;
        if access == Access::Write {
            if trail.account_id != cx.account_id() {
                return Err(ct_error(
                    "NotOrganizationMasterAccountException",
                    format!(
                        "Only the management account of the organization can change organization trail {}.",
                        trail.arn
                    ),
                ));
            }
            if trail.home_region != cx.region {
                return Err(wrong_home(&trail, cx.region));
            }
        }
        return Ok(trail);
    }
    validate_trail_name(name_or_arn)?;
    let arn = trail_arn(cx.region, cx.account_id(), name_or_arn);
    if let Some(t) = cx.get_in::<Trail>("", TRAIL_KIND, &arn)? {
        return Ok(t);
    }
    if access == Access::Write {
        // The shadow of a multi-region trail is seen here, but changed only at home.
        let account = cx.account_id();
        let region = cx.region;
        if let Some(shadow) = all_trails(cx)?
            .into_iter()
            .find(|t| t.account_id == account && t.name == name_or_arn && t.visible_in(region))
        {
            return Err(wrong_home(&shadow, region));
        }
    }
    Err(not_found(cx, &arn))
}

pub(super) fn save(cx: &mut Context<'_>, trail: &Trail) -> Result<(), ApiError> {
    cx.put_in("", TRAIL_KIND, &trail.arn, trail)
}

/// `Some(value)` for a non-empty string: AWS reads an empty string as "none".
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

fn check_bucket(cx: &Context<'_>, bucket: &str) -> Result<(), ApiError> {
    if let Err(e) = billtrail_objects::validate_bucket_name(bucket) {
        return Err(ct_error(
            "InvalidS3BucketNameException",
            format!(
                "Invalid bucket name: {}",
                e.to_string().trim_start_matches("invalid bucket name: ")
            ),
        ));
    }
    if !cx.bucket_exists(bucket)? {
        return Err(ct_error(
            "S3BucketDoesNotExistException",
            format!("S3 bucket {bucket} does not exist!"),
        ));
    }
    Ok(())
}

fn check_prefix(prefix: &str) -> Result<(), ApiError> {
    if prefix.chars().count() > 200 {
        return Err(ct_error(
            "InvalidS3PrefixException",
            "The S3 key prefix must be at most 200 characters long.",
        ));
    }
    billtrail_objects::validate_key(&format!("{prefix}/AWSLogs")).map_err(|_| {
        ct_error(
            "InvalidS3PrefixException",
            format!(
                "Invalid S3 key prefix {prefix:?}: it must not begin or end with '/', hold '//', '.' or '..' segments, or control characters."
            ),
        )
    })
}

fn check_topic(topic: &str) -> Result<(), ApiError> {
    let name_ok = |n: &str| {
        (1..=256).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let ok = match topic.strip_prefix("arn:aws:sns:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.split(':').collect();
            matches!(parts.as_slice(), [region, account, name]
                if !region.is_empty() && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit()) && name_ok(name))
        }
        None => name_ok(topic),
    };
    if ok && topic.len() <= 256 {
        Ok(())
    } else {
        Err(ct_error(
            "InvalidSnsTopicNameException",
            format!("Invalid SNS topic name or ARN: {topic}"),
        ))
    }
}

fn refuse_kms_and_cloudwatch(
    kms: Option<&str>,
    log_group: Option<&str>,
    role: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(k) = kms {
        return Err(ct_error(
            "KmsKeyNotFoundException",
            format!("KMS key {k} was not found: billtrail has no KMS keys, and does not encrypt log files with KMS."),
        ));
    }
    if log_group.is_some() || role.is_some() {
        return Err(ct_error(
            "CloudWatchLogsDeliveryUnavailableException",
            "billtrail does not deliver events to CloudWatch Logs.",
        ));
    }
    Ok(())
}

/// The organization an organization trail of the caller would log: the caller must be its
/// management account, and it must have all features.
fn organization_for_trail(cx: &mut Context<'_>) -> Result<String, ApiError> {
    let not_in_use = || {
        ct_error(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization in AWS Organizations.",
        )
    };
    let org_id = caller_organization(cx)?.ok_or_else(not_in_use)?;
    let org: Organization = cx
        .get_in("", ORGANIZATION_KIND, &org_id)?
        .ok_or_else(not_in_use)?;
    if org.master_account_id != cx.account_id() {
        return Err(ct_error(
            "NotOrganizationMasterAccountException",
            "Only the management account of the organization can create or change an organization trail.",
        ));
    }
    if org.feature_set != "ALL" {
        return Err(ct_error(
            "OrganizationNotInAllFeaturesModeException",
            "The organization must have all features enabled for an organization trail.",
        ));
    }
    Ok(org_id)
}

/// Refuses a trail named `name` (multi-region or not) that would clash with, or not fit
/// beside, the caller's other trails. `exclude` is the trail being changed.
fn check_room(
    cx: &mut Context<'_>,
    name: &str,
    home: &str,
    multi_region: bool,
    exclude: Option<&str>,
) -> Result<(), ApiError> {
    let account = cx.account_id().to_string();
    let own: Vec<Trail> = all_trails(cx)?
        .into_iter()
        .filter(|t| t.account_id == account && Some(t.arn.as_str()) != exclude)
        .collect();
    // The regions the new trail is seen in, among those where the account has trails.
    let mut regions: Vec<&str> = vec![home];
    if multi_region {
        regions.extend(own.iter().map(|t| t.home_region.as_str()));
    }
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let seen: Vec<&Trail> = own.iter().filter(|t| t.visible_in(region)).collect();
        if seen.iter().any(|t| t.name == name) {
            return Err(ct_error(
                "TrailAlreadyExistsException",
                format!("Trail {name} already exists for customer: {account}"),
            ));
        }
        if seen.len() >= MAX_TRAILS_PER_REGION {
            return Err(ct_error(
                "MaximumNumberOfTrailsExceededException",
                format!("User: {account} already has {MAX_TRAILS_PER_REGION} trails in {region}."),
            ));
        }
    }
    Ok(())
}

pub(super) fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    let mut keys: Vec<&str> = Vec::with_capacity(tags.len());
    for t in tags {
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ct_error(
                "InvalidTagParameterException",
                format!(
                    "Tag key {} is reserved: keys must not begin with aws:.",
                    t.key
                ),
            ));
        }
        if keys.contains(&t.key.as_str()) {
            return Err(ct_error(
                "InvalidTagParameterException",
                format!("Tag key {} appears more than once.", t.key),
            ));
        }
        keys.push(&t.key);
    }
    Ok(())
}

pub(super) fn too_many_tags() -> ApiError {
    ct_error(
        "TagsLimitExceededException",
        format!("A trail can have at most {MAX_TAGS} tags."),
    )
}

/// The settings `CreateTrail` and `UpdateTrail` answer with.
fn settings(trail: &Trail) -> Value {
    trail_shape(trail, false)
}

/// A trail in botocore's `Trail` shape (`describe`), or the Create/Update answer.
fn trail_shape(trail: &Trail, describe: bool) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(trail.name));
    m.insert("S3BucketName".into(), json!(trail.s3_bucket_name));
    if let Some(p) = &trail.s3_key_prefix {
        m.insert("S3KeyPrefix".into(), json!(p));
    }
    if let Some(t) = &trail.sns_topic_name {
        m.insert("SnsTopicName".into(), json!(t));
        m.insert("SnsTopicARN".into(), json!(trail.sns_topic_arn()));
    }
    m.insert(
        "IncludeGlobalServiceEvents".into(),
        json!(trail.include_global_service_events),
    );
    m.insert(
        "IsMultiRegionTrail".into(),
        json!(trail.is_multi_region_trail),
    );
    if describe {
        m.insert("HomeRegion".into(), json!(trail.home_region));
    }
    m.insert("TrailARN".into(), json!(trail.arn));
    m.insert(
        "LogFileValidationEnabled".into(),
        json!(trail.log_file_validation_enabled),
    );
    if let Some(v) = &trail.cloud_watch_logs_log_group_arn {
        m.insert("CloudWatchLogsLogGroupArn".into(), json!(v));
    }
    if let Some(v) = &trail.cloud_watch_logs_role_arn {
        m.insert("CloudWatchLogsRoleArn".into(), json!(v));
    }
    if let Some(v) = &trail.kms_key_id {
        m.insert("KmsKeyId".into(), json!(v));
    }
    if describe {
        m.insert(
            "HasCustomEventSelectors".into(),
            json!(trail.selectors != Selectors::Default),
        );
        m.insert("HasInsightSelectors".into(), json!(false));
    }
    m.insert(
        "IsOrganizationTrail".into(),
        json!(trail.is_organization_trail),
    );
    if let Some(v) = trail.recursive_logging {
        m.insert("RecursiveLogging".into(), json!(v));
    }
    Value::Object(m)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTrailInput {
    name: String,
    s3_bucket_name: String,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    include_global_service_events: Option<bool>,
    is_multi_region_trail: Option<bool>,
    enable_log_file_validation: Option<bool>,
    cloud_watch_logs_log_group_arn: Option<String>,
    cloud_watch_logs_role_arn: Option<String>,
    kms_key_id: Option<String>,
    is_organization_trail: Option<bool>,
    #[serde(default)]
    tags_list: Vec<Tag>,
    recursive_logging: Option<bool>,
}

pub(super) fn create_trail(
    cx: &mut Context<'_>,
    input: CreateTrailInput,
) -> Result<Value, ApiError> {
    validate_trail_name(&input.name)?;
    let prefix = non_empty(input.s3_key_prefix);
    if let Some(p) = &prefix {
        check_prefix(p)?;
    }
    let topic = non_empty(input.sns_topic_name);
    if let Some(t) = &topic {
        check_topic(t)?;
    }
    refuse_kms_and_cloudwatch(
        non_empty(input.kms_key_id).as_deref(),
        non_empty(input.cloud_watch_logs_log_group_arn).as_deref(),
        non_empty(input.cloud_watch_logs_role_arn).as_deref(),
    )?;
    let include_global = input.include_global_service_events.unwrap_or(true);
    let multi_region = input.is_multi_region_trail.unwrap_or(false);
    if multi_region && !include_global {
        return Err(ct_error(
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ));
    }
    let organization_id = if input.is_organization_trail.unwrap_or(false) {
        Some(organization_for_trail(cx)?)
    } else {
        None
    };
    check_tags(&input.tags_list)?;
    if input.tags_list.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let region = cx.region.to_string();
    check_room(cx, &input.name, &region, multi_region, None)?;
    check_bucket(cx, &input.s3_bucket_name)?;
    let account = cx.account_id().to_string();
    let arn = trail_arn(&region, &account, &input.name);
    let trail = Trail {
        id: uuid::Uuid::new_v4().to_string(),
        name: input.name,
        arn: arn.clone(),
        account_id: account,
        home_region: region,
        s3_bucket_name: input.s3_bucket_name,
        s3_key_prefix: prefix,
        sns_topic_name: topic,
        include_global_service_events: include_global,
        is_multi_region_trail: multi_region,
        is_organization_trail: organization_id.is_some(),
        organization_id,
        log_file_validation_enabled: input.enable_log_file_validation.unwrap_or(false),
        kms_key_id: None,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        recursive_logging: input.recursive_logging,
        is_logging: false,
        selectors: Selectors::Default,
        tags: input.tags_list,
        created: cx.now.unix_timestamp(),
        start_logging_time: None,
        stop_logging_time: None,
        logging: Vec::new(),
    };
    let cursor = TrailCursor {
        trail_id: trail.id.clone(),
        delivered: cx.last_seq()?,
        pending: None,
    };
    save(cx, &trail)?;
    cx.put_in("", TRAIL_CURSOR_KIND, &arn, &cursor)?;
    cx.put_in("", TRAIL_STATUS_KIND, &arn, &TrailStatus::default())?;
    cx.add_resource(TRAIL_RESOURCE, arn);
    Ok(settings(&trail))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTrailInput {
    name: String,
    s3_bucket_name: Option<String>,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    include_global_service_events: Option<bool>,
    is_multi_region_trail: Option<bool>,
    enable_log_file_validation: Option<bool>,
    cloud_watch_logs_log_group_arn: Option<String>,
    cloud_watch_logs_role_arn: Option<String>,
    kms_key_id: Option<String>,
    is_organization_trail: Option<bool>,
    recursive_logging: Option<bool>,
}

pub(super) fn update_trail(
    cx: &mut Context<'_>,
    input: UpdateTrailInput,
) -> Result<Value, ApiError> {
    let mut trail = find_trail(cx, &input.name, Access::Write)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    refuse_kms_and_cloudwatch(
        non_empty(input.kms_key_id).as_deref(),
        non_empty(input.cloud_watch_logs_log_group_arn).as_deref(),
        non_empty(input.cloud_watch_logs_role_arn).as_deref(),
    )?;
    if let Some(p) = input.s3_key_prefix {
        let p = non_empty(Some(p));
        if let Some(p) = &p {
            check_prefix(p)?;
        }
        trail.s3_key_prefix = p;
    }
    if let Some(t) = input.sns_topic_name {
        let t = non_empty(Some(t));
        if let Some(t) = &t {
            check_topic(t)?;
        }
        trail.sns_topic_name = t;
    }
    if let Some(g) = input.include_global_service_events {
        trail.include_global_service_events = g;
    }
    let was_multi = trail.is_multi_region_trail;
    if let Some(m) = input.is_multi_region_trail {
        trail.is_multi_region_trail = m;
    }
    if trail.is_multi_region_trail && !trail.include_global_service_events {
        return Err(ct_error(
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        ));
    }
    if trail.is_multi_region_trail && !was_multi {
        let (name, home, arn) = (
            trail.name.clone(),
            trail.home_region.clone(),
            trail.arn.clone(),
        );
        check_room(cx, &name, &home, true, Some(&arn))?;
    }
    if let Some(v) = input.enable_log_file_validation {
        trail.log_file_validation_enabled = v;
    }
    if let Some(org) = input.is_organization_trail {
        if org != trail.is_organization_trail {
            // Either way, only the management account may change it.
            let id = organization_for_trail(cx)?;
            trail.is_organization_trail = org;
            trail.organization_id = org.then_some(id);
        }
    }
    if let Some(r) = input.recursive_logging {
        trail.recursive_logging = Some(r);
    }
    if let Some(bucket) = input.s3_bucket_name {
        check_bucket(cx, &bucket)?;
        trail.s3_bucket_name = bucket;
    }
    save(cx, &trail)?;
    Ok(settings(&trail))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    name: String,
}

pub(super) fn delete_trail(cx: &mut Context<'_>, input: NameInput) -> Result<Empty, ApiError> {
    let trail = find_trail(cx, &input.name, Access::Write)?;
    let arn = trail.arn.clone();
    cx.add_resource(TRAIL_RESOURCE, arn.clone());
    cx.delete_in("", TRAIL_KIND, &arn)?;
    cx.delete_in("", TRAIL_STATUS_KIND, &arn)?;
    cx.delete_in("", TRAIL_CURSOR_KIND, &arn)?;
    // Delivered log files still waiting for a digest stay: the digest worker seals them in the
    // trail's final digest.
    Ok(Empty {})
}

pub(super) fn start_logging(cx: &mut Context<'_>, input: NameInput) -> Result<Empty, ApiError> {
    let mut trail = find_trail(cx, &input.name, Access::Write)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    if trail.is_logging {
        return Ok(Empty {});
    }
    // Periods wholly delivered are done with.
    let delivered = cx
        .get_in::<TrailCursor>("", TRAIL_CURSOR_KIND, &trail.arn)?
        .filter(|c| c.trail_id == trail.id && c.pending.is_none())
        .map(|c| c.delivered);
    if let Some(d) = delivered {
        trail.logging.retain(|p| p.until.is_none_or(|u| u > d));
    }
    // This call's own record is the first one logged: it is appended after this point.
    let after = cx.last_seq()?;
    trail.logging.push(LoggingPeriod { after, until: None });
    trail.is_logging = true;
    trail.start_logging_time = Some(cx.now.unix_timestamp());
    save(cx, &trail)?;
    Ok(Empty {})
}

pub(super) fn stop_logging(cx: &mut Context<'_>, input: NameInput) -> Result<Empty, ApiError> {
    let mut trail = find_trail(cx, &input.name, Access::Write)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    if !trail.is_logging {
        return Ok(Empty {});
    }
    // This call's own record is the last one logged: the pipeline appends it right after the
    // handler, as the next sequence number.
    let until = cx.last_seq()? + 1;
    for p in trail.logging.iter_mut().filter(|p| p.until.is_none()) {
        p.until = Some(until);
    }
    trail.is_logging = false;
    trail.stop_logging_time = Some(cx.now.unix_timestamp());
    save(cx, &trail)?;
    Ok(Empty {})
}

#[derive(Debug, Deserialize)]
pub struct DescribeTrailsInput {
    #[serde(rename = "trailNameList", default)]
    trail_name_list: Vec<String>,
    #[serde(rename = "includeShadowTrails")]
    include_shadow_trails: Option<bool>,
}

pub(super) fn describe_trails(
    cx: &mut Context<'_>,
    input: DescribeTrailsInput,
) -> Result<Value, ApiError> {
    let shadows = input.include_shadow_trails.unwrap_or(true);
    let org = caller_organization(cx)?;
    let account = cx.account_id().to_string();
    let region = cx.region.to_string();
    let trails = all_trails(cx)?;
    let seen: Vec<&Trail> = trails
        .iter()
        .filter(|t| visible(cx, org.as_deref(), t))
        .collect();
    let is_shadow = |t: &Trail| t.home_region != region || t.account_id != account;
    let mut out: Vec<&Trail> = Vec::new();
    if input.trail_name_list.is_empty() {
        out.extend(seen.iter().copied().filter(|t| shadows || !is_shadow(t)));
    } else {
        for wanted in &input.trail_name_list {
            if wanted.starts_with("arn:") {
                if parse_trail_arn(wanted).is_none() {
                    return Err(ct_error(
                        "CloudTrailARNInvalidException",
                        format!("{wanted} is not a valid trail ARN."),
                    ));
                }
                out.extend(seen.iter().copied().filter(|t| &t.arn == wanted));
            } else {
                validate_trail_name(wanted)?;
                out.extend(
                    seen.iter()
                        .copied()
                        .filter(|t| &t.name == wanted && !is_shadow(t)),
                );
            }
        }
        out.dedup_by(|a, b| a.arn == b.arn);
    }
    let list: Vec<Value> = out.into_iter().map(|t| trail_shape(t, true)).collect();
    Ok(json!({ "trailList": list }))
}

pub(super) fn get_trail(cx: &mut Context<'_>, input: NameInput) -> Result<Value, ApiError> {
    let trail = find_trail(cx, &input.name, Access::Read)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    Ok(json!({ "Trail": trail_shape(&trail, true) }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTrailsInput {
    #[allow(dead_code)]
    next_token: Option<String>,
}

/// Every trail of the account, in every region, and its organization's trails: one page (an
/// account has few trails).
pub(super) fn list_trails(
    cx: &mut Context<'_>,
    _input: ListTrailsInput,
) -> Result<Value, ApiError> {
    let org = caller_organization(cx)?;
    let account = cx.account_id().to_string();
    let trails: Vec<Value> = all_trails(cx)?
        .into_iter()
        .filter(|t| {
            t.account_id == account
                || (t.is_organization_trail
                    && org.is_some()
                    && t.organization_id.as_deref() == org.as_deref())
        })
        .map(|t| json!({ "TrailARN": t.arn, "Name": t.name, "HomeRegion": t.home_region }))
        .collect();
    Ok(json!({ "Trails": trails }))
}

/// `YYYY-MM-DDTHH:MM:SSZ`, for the status members AWS still sends as strings.
fn iso(t: Option<i64>) -> Value {
    json!(t
        .map(billtrail_trail::file::iso_seconds)
        .unwrap_or_default())
}

pub(super) fn get_trail_status(cx: &mut Context<'_>, input: NameInput) -> Result<Value, ApiError> {
    let trail = find_trail(cx, &input.name, Access::Read)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    let s: TrailStatus = cx
        .get_in("", TRAIL_STATUS_KIND, &trail.arn)?
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("IsLogging".into(), json!(trail.is_logging));
    let mut put_str = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    put_str("LatestDeliveryError", &s.latest_delivery_error);
    put_str("LatestNotificationError", &s.latest_notification_error);
    put_str("LatestDigestDeliveryError", &s.latest_digest_delivery_error);
    for (k, v) in [
        ("LatestDeliveryTime", s.latest_delivery_time),
        ("LatestNotificationTime", s.latest_notification_time),
        ("StartLoggingTime", trail.start_logging_time),
        ("StopLoggingTime", trail.stop_logging_time),
        ("LatestDigestDeliveryTime", s.latest_digest_delivery_time),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v as f64));
        }
    }
    // Documented as no longer in use, but still sent (as strings, empty when unknown).
    m.insert(
        "LatestDeliveryAttemptTime".into(),
        iso(s.latest_delivery_attempt_time),
    );
    m.insert(
        "LatestNotificationAttemptTime".into(),
        iso(s.latest_notification_attempt_time),
    );
    m.insert(
        "LatestNotificationAttemptSucceeded".into(),
        iso(s.latest_notification_attempt_succeeded),
    );
    m.insert(
        "LatestDeliveryAttemptSucceeded".into(),
        iso(s.latest_delivery_attempt_succeeded),
    );
    m.insert("TimeLoggingStarted".into(), iso(trail.start_logging_time));
    m.insert("TimeLoggingStopped".into(), iso(trail.stop_logging_time));
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), ApiError>) -> Option<(String, String)> {
        r.err().map(|e| (e.code.to_string(), e.message))
    }

    #[test]
    fn trail_names_follow_aws_rules() {
        for ok in ["abc", "My-Trail_1.x", "a1b", &"a".repeat(128), "1.2.3"] {
            assert!(validate_trail_name(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("", "blank"),
            ("ab", "too short"),
            (&"a".repeat(129) as &str, "too long"),
            ("-abc", "starts with"),
            ("abc.", "ends with"),
            ("a b", "can only contain"),
            ("my--trail", "adjacent"),
            ("my-_trail", "adjacent"),
            ("a..b", "adjacent"),
            ("192.168.5.4", "IP address"),
            ("tr\u{e4}il", "can only contain"),
        ] {
            let (c, m) = code(validate_trail_name(bad)).unwrap_or_else(|| panic!("{bad} refused"));
            assert_eq!(c, "InvalidTrailNameException", "{bad}");
            assert!(m.contains(says), "{bad}: {m}");
        }
    }

    #[test]
    fn prefixes_and_topics() {
        assert!(check_prefix("logs").is_ok());
        assert!(check_prefix("a/b/c").is_ok());
        for bad in ["/x", "x/", "a//b", "..", &"p".repeat(201)] {
            assert_eq!(
                code(check_prefix(bad)).map(|c| c.0).as_deref(),
                Some("InvalidS3PrefixException"),
                "{bad}"
            );
        }
        assert!(check_topic("my-topic_1").is_ok());
        assert!(check_topic("arn:aws:sns:us-east-1:123456789012:my-topic").is_ok());
        for bad in ["", "a b", "arn:aws:sns:us-east-1:1:t", &"t".repeat(257)] {
            assert_eq!(
                code(check_topic(bad)).map(|c| c.0).as_deref(),
                Some("InvalidSnsTopicNameException"),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_have_the_models_statuses() {
        assert_eq!(ct_error("TrailNotFoundException", "m").status, 404);
        assert_eq!(ct_error("S3BucketDoesNotExistException", "m").status, 404);
        assert_eq!(
            ct_error("MaximumNumberOfTrailsExceededException", "m").status,
            403
        );
        assert_eq!(ct_error("InvalidHomeRegionException", "m").status, 400);
        assert_eq!(ct_error("TrailAlreadyExistsException", "m").status, 400);
    }
}
