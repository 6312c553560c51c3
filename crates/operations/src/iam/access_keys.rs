//! Access keys of IAM users (and of the root user, for its own keys).
//!
//! The key (with its sealed secret) is written to the global access-key table that
//! authentication reads; the account keeps an index entry per key (`iam_user_key`, id
//! `<user>/<key id>`, with `:root` for the root user's keys) so that listing a user's keys does
//! not scan every key of every account.

use billtrail_auth::credentials::{
    new_access_key_id, new_secret_access_key, AccessKeyRecord, KeyStatus, ACCESS_KEY_KIND,
};
use billtrail_auth::principal::Identity;
use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use super::state::{UserKey, ROOT_OWNER, USER_KEY_KIND};
use super::users::load_user;
use super::{limit_exceeded, no_such_entity, now_iso, page, target_user};
use crate::{Context, Empty};

/// The most keys a user may have, as in IAM.
const MAX_KEYS: usize = 2;

fn owner_of(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or(ROOT_OWNER)
}

fn keys_of(cx: &mut Context<'_>, owner: &str) -> Result<Vec<(String, UserKey)>, ApiError> {
    let prefix = format!("{owner}/");
    Ok(cx
        .scan::<UserKey>(USER_KEY_KIND)?
        .into_iter()
        .filter(|(id, _)| id.starts_with(&prefix))
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccessKeyInput {
    user_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyView {
    user_name: String,
    access_key_id: String,
    status: KeyStatus,
    /// Returned once; the model marks it sensitive, so no record shows it.
    secret_access_key: String,
    create_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccessKeyOutput {
    access_key: AccessKeyView,
}

pub(crate) fn create_access_key(
    cx: &mut Context<'_>,
    input: CreateAccessKeyInput,
) -> Result<CreateAccessKeyOutput, ApiError> {
    let name = target_user(cx, input.user_name)?;
    let identity = match &name {
        Some(n) => {
            let u = load_user(cx, n)?;
            Identity::IamUser {
                user_name: u.user_name,
                user_id: u.user_id,
            }
        }
        None => Identity::Root,
    };
    let owner = owner_of(&name).to_string();
    if keys_of(cx, &owner)?.len() >= MAX_KEYS {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}"
        )));
    }
    let id = new_access_key_id(false);
    let secret = new_secret_access_key();
    let created = now_iso(cx);
    let record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: cx.account_id().to_string(),
        identity,
        sealed_secret: cx.env.vault.seal(secret.expose()),
        status: KeyStatus::Active,
        created: created.clone(),
        session: None,
    };
    cx.put_in("", ACCESS_KEY_KIND, &id, &record)?;
    cx.put(
        USER_KEY_KIND,
        &format!("{owner}/{id}"),
        &UserKey {
            access_key_id: id.clone(),
            create_date: created.clone(),
        },
    )?;
    Ok(CreateAccessKeyOutput {
        access_key: AccessKeyView {
            user_name: name.unwrap_or_default(),
            access_key_id: id,
            status: KeyStatus::Active,
            secret_access_key: secret.expose().to_string(),
            create_date: created,
        },
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeysInput {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<usize>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyMetadata {
    user_name: String,
    access_key_id: String,
    status: KeyStatus,
    create_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeysOutput {
    access_key_metadata: Vec<AccessKeyMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

pub(crate) fn list_access_keys(
    cx: &mut Context<'_>,
    input: ListAccessKeysInput,
) -> Result<ListAccessKeysOutput, ApiError> {
    let name = target_user(cx, input.user_name)?;
    if let Some(n) = &name {
        load_user(cx, n)?;
    }
    let owner = owner_of(&name).to_string();
    let mut items = Vec::new();
    for (id, k) in keys_of(cx, &owner)? {
        let status = cx
            .get_in::<AccessKeyRecord>("", ACCESS_KEY_KIND, &k.access_key_id)?
            .map_or(KeyStatus::Inactive, |r| r.status);
        items.push((
            id,
            AccessKeyMetadata {
                user_name: name.clone().unwrap_or_default(),
                access_key_id: k.access_key_id,
                status,
                create_date: k.create_date,
            },
        ));
    }
    let (access_key_metadata, marker) = page(&items, input.marker.as_deref(), input.max_items)?;
    Ok(ListAccessKeysOutput {
        access_key_metadata,
        is_truncated: marker.is_some(),
        marker,
    })
}

/// The caller's account's key `id` owned by the named (or calling) user.
fn owned_key(
    cx: &mut Context<'_>,
    user: Option<String>,
    id: &str,
) -> Result<(String, AccessKeyRecord), ApiError> {
    let name = target_user(cx, user)?;
    let owner = owner_of(&name).to_string();
    let index = format!("{owner}/{id}");
    let missing = || no_such_entity(format!("The Access Key with id {id} cannot be found."));
    cx.get::<UserKey>(USER_KEY_KIND, &index)?
        .ok_or_else(missing)?;
    let record: AccessKeyRecord = cx.get_in("", ACCESS_KEY_KIND, id)?.ok_or_else(missing)?;
    if record.account_id != cx.account_id() {
        return Err(missing());
    }
    Ok((index, record))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAccessKeyInput {
    user_name: Option<String>,
    access_key_id: String,
    status: KeyStatus,
}

pub(crate) fn update_access_key(
    cx: &mut Context<'_>,
    input: UpdateAccessKeyInput,
) -> Result<Empty, ApiError> {
    let (_, mut record) = owned_key(cx, input.user_name, &input.access_key_id)?;
    record.status = input.status;
    cx.put_in("", ACCESS_KEY_KIND, &input.access_key_id, &record)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAccessKeyInput {
    user_name: Option<String>,
    access_key_id: String,
}

pub(crate) fn delete_access_key(
    cx: &mut Context<'_>,
    input: DeleteAccessKeyInput,
) -> Result<Empty, ApiError> {
    let (index, _) = owned_key(cx, input.user_name, &input.access_key_id)?;
    cx.delete_in("", ACCESS_KEY_KIND, &input.access_key_id)?;
    cx.delete(USER_KEY_KIND, &index)?;
    Ok(Empty {})
}
