//! Inline policies and attached AWS managed policies of users and roles.

use billtrail_auth::policy::{managed_policy, PolicyDocument};
use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use super::roles::{load_role, malformed};
use super::state::{ROLE_KIND, USER_KIND};
use super::users::load_user;
use super::{limit_exceeded, no_such_entity, page};
use crate::{Context, Empty};

/// IAM's quotas on the total size of a principal's inline policies.
const USER_INLINE_LIMIT: usize = 2048;
const ROLE_INLINE_LIMIT: usize = 10_240;
/// Managed policies attached to one user or role.
const ATTACHED_LIMIT: usize = 10;

fn check_document(text: &str) -> Result<(), ApiError> {
    PolicyDocument::parse(text)
        .map(|_| ())
        .map_err(|e| malformed(e.to_string()))
}

/// Inline policy sizes are counted without white space, as IAM counts them.
fn size_without_spaces(policies: impl Iterator<Item = impl AsRef<str>>) -> usize {
    policies
        .map(|p| p.as_ref().chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutUserPolicyInput {
    user_name: String,
    policy_name: String,
    policy_document: String,
}

pub(crate) fn put_user_policy(
    cx: &mut Context<'_>,
    input: PutUserPolicyInput,
) -> Result<Empty, ApiError> {
    let mut user = load_user(cx, &input.user_name)?;
    check_document(&input.policy_document)?;
    user.inline_policies
        .insert(input.policy_name, input.policy_document);
    let size = size_without_spaces(user.inline_policies.values());
    if size > USER_INLINE_LIMIT {
        return Err(limit_exceeded(format!(
            "Maximum policy size of {USER_INLINE_LIMIT} bytes exceeded for user {}",
            user.user_name
        )));
    }
    cx.put(USER_KIND, &user.user_name.clone(), &user)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRolePolicyInput {
    role_name: String,
    policy_name: String,
    policy_document: String,
}

pub(crate) fn put_role_policy(
    cx: &mut Context<'_>,
    input: PutRolePolicyInput,
) -> Result<Empty, ApiError> {
    let mut role = load_role(cx, &input.role_name)?;
    check_document(&input.policy_document)?;
    role.inline_policies
        .insert(input.policy_name, input.policy_document);
    if size_without_spaces(role.inline_policies.values()) > ROLE_INLINE_LIMIT {
        return Err(limit_exceeded(format!(
            "Maximum policy size of {ROLE_INLINE_LIMIT} bytes exceeded for role {}",
            role.role_name
        )));
    }
    cx.put(ROLE_KIND, &role.role_name.clone(), &role)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetUserPolicyInput {
    user_name: String,
    policy_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetUserPolicyOutput {
    user_name: String,
    policy_name: String,
    policy_document: String,
}

fn encoded(doc: &str) -> String {
    percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(crate) fn get_user_policy(
    cx: &mut Context<'_>,
    input: GetUserPolicyInput,
) -> Result<GetUserPolicyOutput, ApiError> {
    let user = load_user(cx, &input.user_name)?;
    let doc = user
        .inline_policies
        .get(&input.policy_name)
        .ok_or_else(|| {
            no_such_entity(format!(
                "The user policy with name {} cannot be found.",
                input.policy_name
            ))
        })?;
    Ok(GetUserPolicyOutput {
        policy_document: encoded(doc),
        user_name: user.user_name,
        policy_name: input.policy_name,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRolePolicyInput {
    role_name: String,
    policy_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRolePolicyOutput {
    role_name: String,
    policy_name: String,
    policy_document: String,
}

pub(crate) fn get_role_policy(
    cx: &mut Context<'_>,
    input: GetRolePolicyInput,
) -> Result<GetRolePolicyOutput, ApiError> {
    let role = load_role(cx, &input.role_name)?;
    let doc = role
        .inline_policies
        .get(&input.policy_name)
        .ok_or_else(|| {
            no_such_entity(format!(
                "The role policy with name {} cannot be found.",
                input.policy_name
            ))
        })?;
    Ok(GetRolePolicyOutput {
        policy_document: encoded(doc),
        role_name: role.role_name,
        policy_name: input.policy_name,
    })
}

fn attachable(arn: &str) -> Result<(), ApiError> {
    managed_policy(arn)
        .map(|_| ())
        .ok_or_else(|| no_such_entity(format!("Policy {arn} does not exist or is not attachable.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachUserPolicyInput {
    user_name: String,
    policy_arn: String,
}

pub(crate) fn attach_user_policy(
    cx: &mut Context<'_>,
    input: AttachUserPolicyInput,
) -> Result<Empty, ApiError> {
    let mut user = load_user(cx, &input.user_name)?;
    attachable(&input.policy_arn)?;
    if !user.attached_policies.contains(&input.policy_arn) {
        if user.attached_policies.len() >= ATTACHED_LIMIT {
            return Err(limit_exceeded(format!(
                "Cannot exceed quota for PoliciesPerUser: {ATTACHED_LIMIT}"
            )));
        }
        user.attached_policies.push(input.policy_arn);
    }
    cx.put(USER_KIND, &user.user_name.clone(), &user)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachRolePolicyInput {
    role_name: String,
    policy_arn: String,
}

pub(crate) fn attach_role_policy(
    cx: &mut Context<'_>,
    input: AttachRolePolicyInput,
) -> Result<Empty, ApiError> {
    let mut role = load_role(cx, &input.role_name)?;
    attachable(&input.policy_arn)?;
    if !role.attached_policies.contains(&input.policy_arn) {
        if role.attached_policies.len() >= ATTACHED_LIMIT {
            return Err(limit_exceeded(format!(
                "Cannot exceed quota for PoliciesPerRole: {ATTACHED_LIMIT}"
            )));
        }
        role.attached_policies.push(input.policy_arn);
    }
    cx.put(ROLE_KIND, &role.role_name.clone(), &role)?;
    Ok(Empty {})
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    policy_name: String,
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedUserPoliciesInput {
    user_name: String,
    marker: Option<String>,
    max_items: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedRolePoliciesInput {
    role_name: String,
    marker: Option<String>,
    max_items: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedOutput {
    attached_policies: Vec<AttachedPolicy>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

fn list_attached(
    arns: &[String],
    marker: Option<&str>,
    max: Option<usize>,
) -> Result<ListAttachedOutput, ApiError> {
    let items: Vec<(String, AttachedPolicy)> = arns
        .iter()
        .map(|arn| {
            let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
            (
                arn.clone(),
                AttachedPolicy {
                    policy_name: name,
                    policy_arn: arn.clone(),
                },
            )
        })
        .collect();
    let (attached_policies, marker) = page(&items, marker, max)?;
    Ok(ListAttachedOutput {
        attached_policies,
        is_truncated: marker.is_some(),
        marker,
    })
}

pub(crate) fn list_attached_user_policies(
    cx: &mut Context<'_>,
    input: ListAttachedUserPoliciesInput,
) -> Result<ListAttachedOutput, ApiError> {
    let user = load_user(cx, &input.user_name)?;
    list_attached(
        &user.attached_policies,
        input.marker.as_deref(),
        input.max_items,
    )
}

pub(crate) fn list_attached_role_policies(
    cx: &mut Context<'_>,
    input: ListAttachedRolePoliciesInput,
) -> Result<ListAttachedOutput, ApiError> {
    let role = load_role(cx, &input.role_name)?;
    list_attached(
        &role.attached_policies,
        input.marker.as_deref(),
        input.max_items,
    )
}
