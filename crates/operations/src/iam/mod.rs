//! `iam.amazonaws.com`: users, access keys, login profiles, roles and their policies.
//!
//! Shapes are botocore's `iam` (2010-05-08), served over the AWS Query protocol. Secrets (secret
//! access keys, passwords) are returned once, by the call that creates them, and stored only
//! sealed (keys) or hashed (passwords).

mod access_keys;
mod policies;
mod roles;
pub mod state;
mod users;

use billtrail_protocol::ApiError;

use crate::{op, Context, OpSpec};

pub(crate) const OPERATIONS: &[OpSpec] = &[
    op!(Iam, "CreateUser", read_only: false, action: "iam:CreateUser", users::create_user),
    op!(Iam, "GetUser", read_only: true, action: "iam:GetUser", users::get_user),
    op!(Iam, "ListUsers", read_only: true, action: "iam:ListUsers", users::list_users),
    op!(Iam, "DeleteUser", read_only: false, action: "iam:DeleteUser", users::delete_user),
    op!(Iam, "CreateLoginProfile", read_only: false, action: "iam:CreateLoginProfile", users::create_login_profile),
    op!(Iam, "CreateAccessKey", read_only: false, action: "iam:CreateAccessKey", access_keys::create_access_key),
    op!(Iam, "ListAccessKeys", read_only: true, action: "iam:ListAccessKeys", access_keys::list_access_keys),
    op!(Iam, "UpdateAccessKey", read_only: false, action: "iam:UpdateAccessKey", access_keys::update_access_key),
    op!(Iam, "DeleteAccessKey", read_only: false, action: "iam:DeleteAccessKey", access_keys::delete_access_key),
    op!(Iam, "CreateRole", read_only: false, action: "iam:CreateRole", roles::create_role),
    op!(Iam, "GetRole", read_only: true, action: "iam:GetRole", roles::get_role),
    op!(Iam, "ListRoles", read_only: true, action: "iam:ListRoles", roles::list_roles),
    op!(Iam, "DeleteRole", read_only: false, action: "iam:DeleteRole", roles::delete_role),
    op!(Iam, "PutUserPolicy", read_only: false, action: "iam:PutUserPolicy", policies::put_user_policy),
    op!(Iam, "GetUserPolicy", read_only: true, action: "iam:GetUserPolicy", policies::get_user_policy),
    op!(Iam, "PutRolePolicy", read_only: false, action: "iam:PutRolePolicy", policies::put_role_policy),
    op!(Iam, "GetRolePolicy", read_only: true, action: "iam:GetRolePolicy", policies::get_role_policy),
    op!(Iam, "AttachUserPolicy", read_only: false, action: "iam:AttachUserPolicy", policies::attach_user_policy),
    op!(Iam, "AttachRolePolicy", read_only: false, action: "iam:AttachRolePolicy", policies::attach_role_policy),
    op!(Iam, "ListAttachedUserPolicies", read_only: true, action: "iam:ListAttachedUserPolicies", policies::list_attached_user_policies),
    op!(Iam, "ListAttachedRolePolicies", read_only: true, action: "iam:ListAttachedRolePolicies", policies::list_attached_role_policies),
];

pub(crate) fn no_such_entity(message: String) -> ApiError {
    ApiError::new("NoSuchEntity", 404, message)
}

pub(crate) fn already_exists(message: String) -> ApiError {
    ApiError::new("EntityAlreadyExists", 409, message)
}

pub(crate) fn delete_conflict(message: String) -> ApiError {
    ApiError::new("DeleteConflict", 409, message)
}

pub(crate) fn limit_exceeded(message: String) -> ApiError {
    ApiError::new("LimitExceeded", 409, message)
}

pub(crate) fn invalid_input(message: String) -> ApiError {
    ApiError::new("InvalidInput", 400, message)
}

pub(crate) fn now_iso(cx: &Context<'_>) -> String {
    billtrail_audit::format_time(cx.now.unix_timestamp())
}

/// The user a call names, or the calling IAM user when it names none (IAM's rule for
/// `GetUser`, `CreateAccessKey`, `ListAccessKeys`, …). Root naming no user acts on its own keys.
pub(crate) fn target_user(
    cx: &Context<'_>,
    named: Option<String>,
) -> Result<Option<String>, ApiError> {
    use billtrail_auth::principal::Identity;
    match named {
        Some(n) => Ok(Some(n)),
        None => match &cx.caller.identity {
            Identity::IamUser { user_name, .. } => Ok(Some(user_name.clone())),
            Identity::Root => Ok(None),
            _ => Err(ApiError::new(
                "ValidationError",
                400,
                "Must specify userName when calling with non-User credentials",
            )),
        },
    }
}

/// A `Marker`/`MaxItems` page over items ordered by name. The marker is the last name handed out.
pub(crate) fn page<T: Clone>(
    items: &[(String, T)],
    marker: Option<&str>,
    max_items: Option<usize>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match marker {
        None => 0,
        Some(m) => items
            .iter()
            .position(|(name, _)| name == m)
            .map(|i| i + 1)
            .ok_or_else(|| invalid_input("Invalid Marker.".into()))?,
    };
    let max = max_items.unwrap_or(100).clamp(1, 1000);
    let chunk: Vec<(String, T)> = items.iter().skip(start).take(max).cloned().collect();
    let next = (start + chunk.len() < items.len())
        .then(|| chunk.last().map(|(n, _)| n.clone()))
        .flatten();
    Ok((chunk.into_iter().map(|(_, t)| t).collect(), next))
}
