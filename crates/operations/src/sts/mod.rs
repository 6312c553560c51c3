//! `sts.amazonaws.com`: who am I, and temporary credentials.
//!
//! Temporary credentials are access keys like any other (`ASIA…`, in the global access-key
//! table), with a session: a sealed session token that SigV4 requests must carry in
//! `X-Amz-Security-Token`, an expiry after which authentication refuses them (`ExpiredToken`),
//! and the session policy that bounds them.
//!
//! - `AssumeRole`: the role's trust policy must allow the caller. When it trusts the caller's
//!   whole account (`arn:aws:iam::<acct>:root`), the caller's own policies must also allow
//!   `sts:AssumeRole` on the role, as in AWS. Root cannot assume roles.
//! - `GetFederationToken`: for IAM users and root; the session's permissions are the issuer's
//!   intersected with the session policy (none without one).
//! - `GetSessionToken`: for IAM users and root; same identity, optionally MFA-authenticated.

use base64::Engine as _;
use billtrail_auth::credentials::{
    new_access_key_id, new_secret_access_key, AccessKeyRecord, KeyStatus, TemporarySession,
    ACCESS_KEY_KIND,
};
use billtrail_auth::policy::{trust_allows, Decision, PolicyDocument, TrustMatch};
use billtrail_auth::principal::Identity;
use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use crate::authorize::{decide, permissions};
use crate::iam::state::{Role, User, ROLE_KIND, USER_KIND};
use crate::{op, Context, OpSpec};

pub(crate) const OPERATIONS: &[OpSpec] = &[
    op!(Sts, "GetCallerIdentity", read_only: true, action: "sts:GetCallerIdentity", get_caller_identity),
    op!(Sts, "AssumeRole", read_only: false, action: "sts:AssumeRole", assume_role),
    op!(Sts, "GetFederationToken", read_only: false, action: "sts:GetFederationToken", get_federation_token),
    op!(Sts, "GetSessionToken", read_only: false, action: "sts:GetSessionToken", get_session_token),
];

fn access_denied(message: impl Into<String>) -> ApiError {
    ApiError::new("AccessDenied", 403, message)
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new("MalformedPolicyDocument", 400, message)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    user_id: String,
    account: String,
    arn: String,
}

/// Always allowed, as in AWS: even a principal denied everything may ask who it is.
fn get_caller_identity(cx: &mut Context<'_>, _: crate::Empty) -> Result<CallerIdentity, ApiError> {
    Ok(CallerIdentity {
        user_id: cx.caller.principal_id(),
        account: cx.account_id().to_string(),
        arn: cx.caller.arn(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Credentials {
    access_key_id: String,
    /// Sensitive in the model: never in a record.
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// Issues temporary credentials for `identity` in `account`.
fn issue(
    cx: &mut Context<'_>,
    account: &str,
    identity: Identity,
    duration: i64,
    mfa: bool,
    policy: Option<String>,
) -> Result<Credentials, ApiError> {
    let id = new_access_key_id(true);
    let secret = new_secret_access_key();
    let mut token_bytes = [0u8; 48];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut token_bytes);
    let token = format!(
        "FwoGZXIvYXdzE{}",
        base64::engine::general_purpose::STANDARD.encode(token_bytes)
    );
    let now = cx.now.unix_timestamp();
    let creation_date = billtrail_audit::format_time(now);
    let expires = now + duration;
    let record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: account.to_string(),
        identity,
        sealed_secret: cx.env.vault.seal(secret.expose()),
        status: KeyStatus::Active,
        created: creation_date.clone(),
        session: Some(TemporarySession {
            sealed_token: cx.env.vault.seal(&token),
            expires,
            creation_date,
            mfa_authenticated: mfa,
            policy,
        }),
    };
    cx.put_in("", ACCESS_KEY_KIND, &id, &record)?;
    Ok(Credentials {
        access_key_id: id,
        secret_access_key: secret.expose().to_string(),
        session_token: token,
        expiration: billtrail_audit::format_time(expires),
    })
}

/// A session policy, checked: it must parse and fit the packed-size limit.
fn session_policy(text: Option<String>) -> Result<Option<String>, ApiError> {
    match text {
        None => Ok(None),
        Some(t) => {
            PolicyDocument::parse(&t).map_err(|e| malformed(e.to_string()))?;
            if t.len() > 2048 {
                return Err(ApiError::new(
                    "PackedPolicyTooLarge",
                    400,
                    "Packed policy consumes more than 100 percent of the allotted space.",
                ));
            }
            Ok(Some(t))
        }
    }
}

/// MFA is claimed with a serial number and a six-digit code. billtrail has no MFA devices to
/// check the code against, so a well-formed pair marks the session MFA-authenticated.
fn mfa(serial: &Option<String>, code: &Option<String>) -> Result<bool, ApiError> {
    match (serial, code) {
        (None, None) => Ok(false),
        (Some(_), Some(c)) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) => Ok(true),
        _ => Err(access_denied(
            "MultiFactorAuthentication failed, invalid MFA one time pass code.",
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleInput {
    role_arn: String,
    role_session_name: String,
    policy: Option<String>,
    duration_seconds: Option<i64>,
    serial_number: Option<String>,
    token_code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    assumed_role_id: String,
    arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleOutput {
    credentials: Credentials,
    assumed_role_user: AssumedRoleUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<u32>,
}

/// `arn:aws:iam::<account>:role[/path/]<name>` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

fn assume_role(cx: &mut Context<'_>, input: AssumeRoleInput) -> Result<AssumeRoleOutput, ApiError> {
    let caller = cx.caller.clone();
    let not_authorized = || {
        access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            caller.arn(),
            input.role_arn
        ))
    };
    if caller.is_root() {
        return Err(access_denied("Roles may not be assumed by root accounts."));
    }
    let (account, name) = parse_role_arn(&input.role_arn).ok_or_else(|| {
        ApiError::new(
            "ValidationError",
            400,
            format!("{} is invalid", input.role_arn),
        )
    })?;
    let role: Role = cx
        .get_in(account, ROLE_KIND, name)?
        .ok_or_else(not_authorized)?;
    let trust = PolicyDocument::parse_trust(&role.assume_role_policy_document)
        .map_err(|_| not_authorized())?;
    let arn = caller.arn();
    match trust_allows(&trust, &arn, &caller.account_id, &[]) {
        TrustMatch::No => return Err(not_authorized()),
        TrustMatch::Principal => {}
        TrustMatch::Account => {
            // The trust delegates to the caller's account: its own policies decide.
            let perms = permissions(cx, &caller)?;
            if decide(&perms, &caller, "sts:AssumeRole", &input.role_arn) != Decision::Allow {
                return Err(not_authorized());
            }
        }
    }
    let duration = input.duration_seconds.unwrap_or(3600);
    if duration > role.max_session_duration {
        return Err(ApiError::new(
            "ValidationError",
            400,
            format!(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({}).",
                role.max_session_duration
            ),
        ));
    }
    let policy = session_policy(input.policy)?;
    let packed = policy.as_ref().map(|p| (p.len() * 100 / 2048) as u32);
    let mfa = mfa(&input.serial_number, &input.token_code)?;
    let identity = Identity::AssumedRole {
        role_name: role.role_name.clone(),
        role_id: role.role_id.clone(),
        session_name: input.role_session_name.clone(),
        source_account_id: (caller.account_id != account).then(|| caller.account_id.clone()),
    };
    let credentials = issue(cx, account, identity, duration, mfa, policy)?;
    cx.add_resource("AWS::IAM::Role", input.role_arn.clone());
    // A role of another account: that account's history shows the call too.
    cx.also_record_in(account);
    Ok(AssumeRoleOutput {
        credentials,
        assumed_role_user: AssumedRoleUser {
            assumed_role_id: format!("{}:{}", role.role_id, input.role_session_name),
            arn: format!(
                "arn:aws:sts::{account}:assumed-role/{}/{}",
                role.role_name, input.role_session_name
            ),
        },
        packed_policy_size: packed,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFederationTokenInput {
    name: String,
    policy: Option<String>,
    duration_seconds: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FederatedUser {
    federated_user_id: String,
    arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFederationTokenOutput {
    credentials: Credentials,
    federated_user: FederatedUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<u32>,
}

/// The IAM user behind the caller, for the two calls only long-term identities may make.
fn long_term_issuer(cx: &mut Context<'_>, call: &str) -> Result<Option<User>, ApiError> {
    match cx.caller.identity.clone() {
        Identity::Root => Ok(None),
        Identity::IamUser { user_name, .. } if cx.caller.session.is_none() => {
            let user: User = cx
                .get(USER_KIND, &user_name)?
                .ok_or_else(|| access_denied("The user no longer exists."))?;
            Ok(Some(user))
        }
        _ => Err(access_denied(format!(
            "Cannot call {call} with session credentials"
        ))),
    }
}

fn get_federation_token(
    cx: &mut Context<'_>,
    input: GetFederationTokenInput,
) -> Result<GetFederationTokenOutput, ApiError> {
    let issuer = long_term_issuer(cx, "GetFederationToken")?;
    let max = if issuer.is_none() { 3600 } else { 129_600 };
    let duration = input.duration_seconds.unwrap_or(43_200).min(max);
    let policy = session_policy(input.policy)?;
    let packed = policy.as_ref().map(|p| (p.len() * 100 / 2048) as u32);
    let account = cx.account_id().to_string();
    let identity = Identity::FederatedUser {
        name: input.name.clone(),
        issuer_user_name: issuer.as_ref().map(|u| u.user_name.clone()),
        issuer_user_id: issuer.as_ref().map(|u| u.user_id.clone()),
    };
    let credentials = issue(cx, &account, identity, duration, false, policy)?;
    Ok(GetFederationTokenOutput {
        credentials,
        federated_user: FederatedUser {
            federated_user_id: format!("{account}:{}", input.name),
            arn: format!("arn:aws:sts::{account}:federated-user/{}", input.name),
        },
        packed_policy_size: packed,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenInput {
    duration_seconds: Option<i64>,
    serial_number: Option<String>,
    token_code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenOutput {
    credentials: Credentials,
}

fn get_session_token(
    cx: &mut Context<'_>,
    input: GetSessionTokenInput,
) -> Result<GetSessionTokenOutput, ApiError> {
    let issuer = long_term_issuer(cx, "GetSessionToken")?;
    let max = if issuer.is_none() { 3600 } else { 129_600 };
    let duration = input.duration_seconds.unwrap_or(43_200).min(max);
    let mfa = mfa(&input.serial_number, &input.token_code)?;
    let account = cx.account_id().to_string();
    let identity = cx.caller.identity.clone();
    let credentials = issue(cx, &account, identity, duration, mfa, None)?;
    Ok(GetSessionTokenOutput { credentials })
}

#[cfg(test)]
mod tests {
    use super::parse_role_arn;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"),
            Some(("123456789012", "OrganizationAccountAccessRole"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/path/to/R"),
            Some(("123456789012", "R"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::1234:role/R"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:user/R"), None);
    }
}
