//! IAM's stored state: users, roles, their policies, and the per-user access key index.
//!
//! State kinds (in the owning account): `iam_user` (id = user name), `iam_role` (id = role
//! name), `iam_user_key` (id = `<user>/<access key id>`). The keys themselves live in the global
//! access-key table (`billtrail_auth::credentials`), where authentication finds them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const USER_KIND: &str = "iam_user";
pub const ROLE_KIND: &str = "iam_role";
pub const USER_KEY_KIND: &str = "iam_user_key";
/// The index owner name of the root user's keys (IAM user names cannot contain ':').
pub const ROOT_OWNER: &str = ":root";

/// The role every account created by Organizations gets, assumable by the management account.
pub const ORGANIZATION_ROLE: &str = "OrganizationAccountAccessRole";
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginProfile {
    /// Argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub create_date: String,
    pub password_reset_required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub user_name: String,
    pub user_id: String,
    pub path: String,
    pub create_date: String,
    /// Inline policies by name, as JSON text.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// ARNs of attached managed policies.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    #[serde(default)]
    pub login_profile: Option<LoginProfile>,
}

impl User {
    pub fn arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:user{}{}", self.path, self.user_name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub role_name: String,
    pub role_id: String,
    pub path: String,
    pub create_date: String,
    /// The trust policy, as JSON text.
    pub assume_role_policy_document: String,
    pub max_session_duration: i64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default)]
    pub attached_policies: Vec<String>,
}

impl Role {
    pub fn arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role{}{}", self.path, self.role_name)
    }

    /// The role Organizations creates in a new member account: trusted by the management
    /// account, with administrator access.
    pub fn organization_access(management_account: &str, now: &str) -> Role {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{management_account}:root")},
                "Action": "sts:AssumeRole"
            }]
        });
        Role {
            role_name: ORGANIZATION_ROLE.into(),
            role_id: billtrail_auth::credentials::new_unique_id("AROA"),
            path: "/".into(),
            create_date: now.into(),
            assume_role_policy_document: trust.to_string(),
            max_session_duration: 3600,
            description: None,
            inline_policies: BTreeMap::new(),
            attached_policies: vec![ADMINISTRATOR_ACCESS.into()],
        }
    }
}

/// An entry of a user's access-key index (the key itself is in the global table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserKey {
    pub access_key_id: String,
    pub create_date: String,
}
