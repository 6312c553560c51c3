//! IAM roles and their trust policies.

use billtrail_auth::policy::PolicyDocument;
use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use super::state::{Role, ROLE_KIND};
use super::{already_exists, delete_conflict, no_such_entity, now_iso, page};
use crate::{Context, Empty};

/// IAM's limit on a trust policy's size.
const MAX_TRUST_POLICY: usize = 2048;

pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new("MalformedPolicyDocument", 400, message)
}

/// `Role` as IAM returns it. The trust policy is URL-encoded, as IAM sends it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleView {
    path: String,
    role_name: String,
    role_id: String,
    arn: String,
    create_date: String,
    assume_role_policy_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    max_session_duration: i64,
}

impl RoleView {
    fn of(r: &Role, account: &str) -> Self {
        RoleView {
            path: r.path.clone(),
            role_name: r.role_name.clone(),
            role_id: r.role_id.clone(),
            arn: r.arn(account),
            create_date: r.create_date.clone(),
            assume_role_policy_document: percent_encoding::utf8_percent_encode(
                &r.assume_role_policy_document,
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string(),
            description: r.description.clone(),
            max_session_duration: r.max_session_duration,
        }
    }
}

pub(crate) fn load_role(cx: &mut Context<'_>, name: &str) -> Result<Role, ApiError> {
    cx.get(ROLE_KIND, name)?
        .ok_or_else(|| no_such_entity(format!("The role with name {name} cannot be found.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRoleInput {
    path: Option<String>,
    role_name: String,
    assume_role_policy_document: String,
    description: Option<String>,
    max_session_duration: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleOutput {
    role: RoleView,
}

pub(crate) fn create_role(
    cx: &mut Context<'_>,
    input: CreateRoleInput,
) -> Result<RoleOutput, ApiError> {
    let taken = cx
        .scan::<Role>(ROLE_KIND)?
        .into_iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(&input.role_name));
    if taken {
        return Err(already_exists(format!(
            "Role with name {} already exists.",
            input.role_name
        )));
    }
    if input.assume_role_policy_document.chars().count() > MAX_TRUST_POLICY {
        return Err(ApiError::new(
            "LimitExceeded",
            409,
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"),
        ));
    }
    PolicyDocument::parse_trust(&input.assume_role_policy_document)
        .map_err(|e| malformed(e.to_string()))?;
    let role = Role {
        role_name: input.role_name.clone(),
        role_id: billtrail_auth::credentials::new_unique_id("AROA"),
        path: input.path.unwrap_or_else(|| "/".into()),
        create_date: now_iso(cx),
        assume_role_policy_document: input.assume_role_policy_document,
        max_session_duration: input.max_session_duration.unwrap_or(3600),
        description: input.description,
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
    };
    cx.put(ROLE_KIND, &role.role_name, &role)?;
    let arn = role.arn(cx.account_id());
    cx.add_resource("AWS::IAM::Role", arn);
    Ok(RoleOutput {
        role: RoleView::of(&role, cx.account_id()),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleNameInput {
    role_name: String,
}

pub(crate) fn get_role(cx: &mut Context<'_>, input: RoleNameInput) -> Result<RoleOutput, ApiError> {
    let role = load_role(cx, &input.role_name)?;
    Ok(RoleOutput {
        role: RoleView::of(&role, cx.account_id()),
    })
}

pub(crate) fn delete_role(cx: &mut Context<'_>, input: RoleNameInput) -> Result<Empty, ApiError> {
    let role = load_role(cx, &input.role_name)?;
    if !role.inline_policies.is_empty() || !role.attached_policies.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.".into(),
        ));
    }
    cx.delete(ROLE_KIND, &role.role_name)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolesInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolesOutput {
    roles: Vec<RoleView>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

pub(crate) fn list_roles(
    cx: &mut Context<'_>,
    input: ListRolesInput,
) -> Result<ListRolesOutput, ApiError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
    let account = cx.account_id();
    let roles: Vec<(String, RoleView)> = cx
        .scan::<Role>(ROLE_KIND)?
        .into_iter()
        .filter(|(_, r)| r.path.starts_with(&prefix))
        .map(|(n, r)| (n, RoleView::of(&r, account)))
        .collect();
    let (roles, marker) = page(&roles, input.marker.as_deref(), input.max_items)?;
    Ok(ListRolesOutput {
        roles,
        is_truncated: marker.is_some(),
        marker,
    })
}
