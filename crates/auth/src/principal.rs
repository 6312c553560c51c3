//! Who made a request: the principal that SigV4 authentication resolves an access key to.
//!
//! A [`Principal`] carries exactly what CloudTrail's `userIdentity` and IAM's policy evaluation
//! need: the account, the kind of identity with its names and ids, the access key used, and for
//! temporary credentials the session's creation time and MFA state.

use serde::{Deserialize, Serialize};

/// The identity behind a set of credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Identity {
    /// The account's root user.
    Root,
    /// A long-term IAM user.
    IamUser { user_name: String, user_id: String },
    /// A role session from `sts:AssumeRole`.
    AssumedRole {
        role_name: String,
        role_id: String,
        session_name: String,
        /// Who assumed the role: the account id of the caller (for cross-account sessions).
        source_account_id: Option<String>,
    },
    /// A federated session from `sts:GetFederationToken`, issued to an IAM user or root.
    FederatedUser {
        name: String,
        issuer_user_name: Option<String>,
        issuer_user_id: Option<String>,
    },
    /// An AWS service acting on its own (scheduled work such as invoice issue).
    AwsService { service: String },
}

/// Session attributes of temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// ISO-8601 (`YYYY-MM-DDTHH:MM:SSZ`) time the credentials were issued.
    pub creation_date: String,
    pub mfa_authenticated: bool,
    /// The session policy the credentials were issued with, as JSON text: the session's
    /// permissions are the intersection of the identity's policies and this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The account the identity belongs to.
    pub account_id: String,
    pub identity: Identity,
    /// The access key the request was signed with, if any.
    pub access_key_id: Option<String>,
    pub session: Option<Session>,
}

impl Principal {
    pub fn root(account_id: impl Into<String>, access_key_id: Option<String>) -> Self {
        Principal {
            account_id: account_id.into(),
            identity: Identity::Root,
            access_key_id,
            session: None,
        }
    }

    pub fn is_root(&self) -> bool {
        matches!(self.identity, Identity::Root)
    }

    /// The principal's ARN, as CloudTrail and `GetCallerIdentity` show it.
    pub fn arn(&self) -> String {
        let a = &self.account_id;
        match &self.identity {
            Identity::Root => format!("arn:aws:iam::{a}:root"),
            Identity::IamUser { user_name, .. } => format!("arn:aws:iam::{a}:user/{user_name}"),
            Identity::AssumedRole {
                role_name,
                session_name,
                ..
            } => format!("arn:aws:sts::{a}:assumed-role/{role_name}/{session_name}"),
            Identity::FederatedUser { name, .. } => {
                format!("arn:aws:sts::{a}:federated-user/{name}")
            }
            Identity::AwsService { service } => service.clone(),
        }
    }

    /// CloudTrail's `principalId`.
    pub fn principal_id(&self) -> String {
        match &self.identity {
            Identity::Root => self.account_id.clone(),
            Identity::IamUser { user_id, .. } => user_id.clone(),
            Identity::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            Identity::FederatedUser { name, .. } => format!("{}:{name}", self.account_id),
            Identity::AwsService { service } => service.clone(),
        }
    }

    /// The `Username` that event history shows and `LookupEvents` filters on.
    pub fn lookup_username(&self) -> Option<String> {
        match &self.identity {
            Identity::Root => Some("root".into()),
            Identity::IamUser { user_name, .. } => Some(user_name.clone()),
            Identity::AssumedRole { session_name, .. } => Some(session_name.clone()),
            Identity::FederatedUser { name, .. } => Some(name.clone()),
            Identity::AwsService { .. } => None,
        }
    }
}
