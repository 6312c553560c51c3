//! IAM users and their console passwords.

use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use super::state::{LoginProfile, User, USER_KEY_KIND, USER_KIND};
use super::{already_exists, delete_conflict, no_such_entity, now_iso, page, target_user};
use crate::billing_console::AccountProfile;
use crate::{Context, Empty};

/// `User` as IAM returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    path: String,
    user_name: String,
    user_id: String,
    arn: String,
    create_date: String,
}

impl UserView {
    pub(crate) fn of(u: &User, account: &str) -> Self {
        UserView {
            path: u.path.clone(),
            user_name: u.user_name.clone(),
            user_id: u.user_id.clone(),
            arn: u.arn(account),
            create_date: u.create_date.clone(),
        }
    }
}

/// Reads a user of the caller's account, or `NoSuchEntity`.
pub(crate) fn load_user(cx: &mut Context<'_>, name: &str) -> Result<User, ApiError> {
    cx.get(USER_KIND, name)?
        .ok_or_else(|| no_such_entity(format!("The user with name {name} cannot be found.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateUserInput {
    path: Option<String>,
    user_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserOutput {
    user: UserView,
}

pub(crate) fn create_user(
    cx: &mut Context<'_>,
    input: CreateUserInput,
) -> Result<UserOutput, ApiError> {
    // IAM names are unique case-insensitively.
    let taken = cx
        .scan::<User>(USER_KIND)?
        .into_iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(&input.user_name));
    if taken {
        return Err(already_exists(format!(
            "User with name {} already exists.",
            input.user_name
        )));
    }
    let user = User {
        user_name: input.user_name.clone(),
        user_id: billtrail_auth::credentials::new_unique_id("AIDA"),
        path: input.path.unwrap_or_else(|| "/".into()),
        create_date: now_iso(cx),
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        login_profile: None,
    };
    cx.put(USER_KIND, &user.user_name, &user)?;
    let arn = user.arn(cx.account_id());
    cx.add_resource("AWS::IAM::User", arn);
    Ok(UserOutput {
        user: UserView::of(&user, cx.account_id()),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetUserInput {
    user_name: Option<String>,
}

pub(crate) fn get_user(cx: &mut Context<'_>, input: GetUserInput) -> Result<UserOutput, ApiError> {
    match target_user(cx, input.user_name)? {
        Some(name) => {
            let user = load_user(cx, &name)?;
            Ok(UserOutput {
                user: UserView::of(&user, cx.account_id()),
            })
        }
        None => {
            // Root asking about itself: IAM answers with the account's root "user".
            let profile: Option<AccountProfile> = cx.get(
                crate::billing_console::PROFILE_KIND,
                crate::billing_console::PROFILE_ID,
            )?;
            let account = cx.account_id();
            Ok(UserOutput {
                user: UserView {
                    path: "/".into(),
                    user_name: String::new(),
                    user_id: account.to_string(),
                    arn: format!("arn:aws:iam::{account}:root"),
                    create_date: profile.map(|p| p.created).unwrap_or_default(),
                },
            })
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersInput {
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersOutput {
    users: Vec<UserView>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

pub(crate) fn list_users(
    cx: &mut Context<'_>,
    input: ListUsersInput,
) -> Result<ListUsersOutput, ApiError> {
    let prefix = input.path_prefix.unwrap_or_else(|| "/".into());
    let account = cx.account_id();
    let users: Vec<(String, UserView)> = cx
        .scan::<User>(USER_KIND)?
        .into_iter()
        .filter(|(_, u)| u.path.starts_with(&prefix))
        .map(|(n, u)| (n, UserView::of(&u, account)))
        .collect();
    let (users, marker) = page(&users, input.marker.as_deref(), input.max_items)?;
    Ok(ListUsersOutput {
        users,
        is_truncated: marker.is_some(),
        marker,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteUserInput {
    user_name: String,
}

pub(crate) fn delete_user(cx: &mut Context<'_>, input: DeleteUserInput) -> Result<Empty, ApiError> {
    let user = load_user(cx, &input.user_name)?;
    let has_keys = cx
        .scan::<serde_json::Value>(USER_KEY_KIND)?
        .iter()
        .any(|(id, _)| id.split_once('/').map(|(u, _)| u) == Some(user.user_name.as_str()));
    if has_keys
        || !user.inline_policies.is_empty()
        || !user.attached_policies.is_empty()
        || user.login_profile.is_some()
    {
        return Err(delete_conflict(
            "Cannot delete entity, must delete access keys, login profile and policies first."
                .into(),
        ));
    }
    cx.delete(USER_KIND, &user.user_name)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoginProfileInput {
    user_name: Option<String>,
    password: Option<String>,
    password_reset_required: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoginProfileView {
    user_name: String,
    create_date: String,
    password_reset_required: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoginProfileOutput {
    login_profile: LoginProfileView,
}

/// IAM's default password policy: at least 8 characters, not the user name.
fn check_password(password: &str, user: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 || password.eq_ignore_ascii_case(user) {
        return Err(ApiError::new(
            "PasswordPolicyViolation",
            400,
            "Password should have a minimum length of 8 and must not be the user name.",
        ));
    }
    Ok(())
}

pub(crate) fn create_login_profile(
    cx: &mut Context<'_>,
    input: CreateLoginProfileInput,
) -> Result<CreateLoginProfileOutput, ApiError> {
    let name = target_user(cx, input.user_name)?.ok_or_else(|| {
        ApiError::new(
            "ValidationError",
            400,
            "Must specify userName when calling with root credentials",
        )
    })?;
    let mut user = load_user(cx, &name)?;
    if user.login_profile.is_some() {
        return Err(already_exists(format!(
            "Login Profile for user {name} already exists."
        )));
    }
    let password = input.password.ok_or_else(|| {
        ApiError::new(
            "ValidationError",
            400,
            "A password is required to create a login profile.",
        )
    })?;
    check_password(&password, &name)?;
    let profile = LoginProfile {
        password_hash: AccountProfile::hash_password(&password)?,
        create_date: now_iso(cx),
        password_reset_required: input.password_reset_required.unwrap_or(false),
    };
    let view = LoginProfileView {
        user_name: name.clone(),
        create_date: profile.create_date.clone(),
        password_reset_required: profile.password_reset_required,
    };
    user.login_profile = Some(profile);
    cx.put(USER_KIND, &name, &user)?;
    Ok(CreateLoginProfileOutput {
        login_profile: view,
    })
}
