//! `userIdentity` for each kind of principal (reference §1.3).

use billtrail_auth::principal::{Identity, Principal};
use serde_json::json;

use crate::UserIdentity;

/// The `userIdentity` element of a call made by `p`.
pub fn user_identity(p: &Principal) -> UserIdentity {
    let account = Some(p.account_id.clone());
    let session_attributes = p.session.as_ref().map(|s| {
        json!({
            "creationDate": s.creation_date,
            "mfaAuthenticated": if s.mfa_authenticated { "true" } else { "false" },
        })
    });
    match &p.identity {
        Identity::Root => UserIdentity {
            kind: Some("Root".into()),
            principal_id: Some(p.principal_id()),
            arn: Some(p.arn()),
            account_id: account,
            access_key_id: p.access_key_id.clone(),
            session_context: session_attributes.map(|a| json!({"attributes": a})),
            ..Default::default()
        },
        Identity::IamUser { user_name, .. } => UserIdentity {
            kind: Some("IAMUser".into()),
            principal_id: Some(p.principal_id()),
            arn: Some(p.arn()),
            account_id: account,
            access_key_id: p.access_key_id.clone(),
            user_name: Some(user_name.clone()),
            session_context: session_attributes.map(|a| json!({"attributes": a})),
            ..Default::default()
        },
        Identity::AssumedRole {
            role_name, role_id, ..
        } => UserIdentity {
            kind: Some("AssumedRole".into()),
            principal_id: Some(p.principal_id()),
            arn: Some(p.arn()),
            account_id: account,
            access_key_id: p.access_key_id.clone(),
            session_context: Some(json!({
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{}:role/{role_name}", p.account_id),
                    "accountId": p.account_id,
                    "userName": role_name,
                },
                "webIdFederationData": {},
                "attributes": session_attributes.unwrap_or_else(|| json!({})),
            })),
            ..Default::default()
        },
        Identity::FederatedUser {
            issuer_user_name,
            issuer_user_id,
            ..
        } => {
            let issuer = match (issuer_user_name, issuer_user_id) {
                (Some(name), Some(id)) => json!({
                    "type": "IAMUser",
                    "principalId": id,
                    "arn": format!("arn:aws:iam::{}:user/{name}", p.account_id),
                    "accountId": p.account_id,
                    "userName": name,
                }),
                _ => json!({
                    "type": "Root",
                    "principalId": p.account_id,
                    "arn": format!("arn:aws:iam::{}:root", p.account_id),
                    "accountId": p.account_id,
                }),
            };
            UserIdentity {
                kind: Some("FederatedUser".into()),
                principal_id: Some(p.principal_id()),
                arn: Some(p.arn()),
                account_id: account,
                access_key_id: p.access_key_id.clone(),
                session_context: Some(json!({
                    "sessionIssuer": issuer,
                    "webIdFederationData": {},
                    "attributes": session_attributes.unwrap_or_else(|| json!({})),
                })),
                ..Default::default()
            }
        }
        Identity::AwsService { service } => UserIdentity {
            kind: Some("AWSService".into()),
            invoked_by: Some(service.clone()),
            ..Default::default()
        },
    }
}

/// How a call by `p` looks in another account's history: an `AWSAccount`, named by the caller's
/// principal id and account.
pub fn aws_account_identity(p: &Principal) -> UserIdentity {
    UserIdentity {
        kind: Some("AWSAccount".into()),
        principal_id: Some(p.principal_id()),
        account_id: Some(p.account_id.clone()),
        ..Default::default()
    }
}
