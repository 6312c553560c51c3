//! Whether a principal may call an operation: IAM's identity-based evaluation, and the seed's
//! IAM-access-to-billing gate in front of it.
//!
//! In order:
//! 1. The root user and billtrail's own services may do anything in their own account.
//! 2. A billing operation called by anyone else (IAM user, role session, federated user) is
//!    denied while the account's IAM access preference is off, whatever the policies say.
//! 3. The identity's policies (inline and attached; a role session's role's; a federated user's
//!    issuing user's) are evaluated, intersected with the session policy if there is one. An
//!    explicit Deny wins; without an Allow the call is denied.

use billtrail_auth::policy::{self, managed_policy, Decision, PolicyDocument};
use billtrail_auth::principal::{Identity, Principal};
use billtrail_protocol::ApiError;

use crate::billing_console::IamAccessPreference;
use crate::iam::state::{Role, User, ROLE_KIND, USER_KIND};
use crate::{Context, OpSpec};

/// The policies that bound what a principal may do.
pub(crate) enum Permissions {
    /// Root and AWS services: everything in their own account.
    Unrestricted,
    Policies {
        identity: Vec<PolicyDocument>,
        /// Every session policy must allow too.
        session: Vec<PolicyDocument>,
    },
}

fn parse_all(texts: impl IntoIterator<Item = String>, out: &mut Vec<PolicyDocument>) {
    for text in texts {
        match PolicyDocument::parse(&text) {
            Ok(p) => out.push(p),
            // Stored documents were validated when they were put; one that no longer parses
            // grants nothing.
            Err(e) => tracing::warn!(error = %e, "a stored policy does not parse"),
        }
    }
}

fn attached(arns: &[String], out: &mut Vec<PolicyDocument>) {
    out.extend(arns.iter().filter_map(|a| managed_policy(a)).cloned());
}

/// Gathers a principal's policies from its account's state.
pub(crate) fn permissions(cx: &mut Context<'_>, p: &Principal) -> Result<Permissions, ApiError> {
    let mut identity = Vec::new();
    let mut session = Vec::new();
    if let Some(text) = p.session.as_ref().and_then(|s| s.policy.clone()) {
        parse_all([text], &mut session);
    }
    match &p.identity {
        Identity::Root | Identity::AwsService { .. } => {
            if session.is_empty() {
                return Ok(Permissions::Unrestricted);
            }
            // Root's federated sessions are bounded by their session policy alone.
            identity.push(allow_all());
        }
        Identity::IamUser { user_name, .. } => {
            if let Some(u) = cx.get_in::<User>(&p.account_id, USER_KIND, user_name)? {
                parse_all(u.inline_policies.into_values(), &mut identity);
                attached(&u.attached_policies, &mut identity);
            }
        }
        Identity::AssumedRole { role_name, .. } => {
            if let Some(r) = cx.get_in::<Role>(&p.account_id, ROLE_KIND, role_name)? {
                parse_all(r.inline_policies.into_values(), &mut identity);
                attached(&r.attached_policies, &mut identity);
            }
        }
        Identity::FederatedUser {
            issuer_user_name, ..
        } => match issuer_user_name {
            Some(name) => {
                if let Some(u) = cx.get_in::<User>(&p.account_id, USER_KIND, name)? {
                    parse_all(u.inline_policies.into_values(), &mut identity);
                    attached(&u.attached_policies, &mut identity);
                }
            }
            None => identity.push(allow_all()),
        },
    }
    // A federation token issued without a policy has no permissions, as in AWS.
    if matches!(p.identity, Identity::FederatedUser { .. }) && session.is_empty() {
        identity.clear();
    }
    Ok(Permissions::Policies { identity, session })
}

fn allow_all() -> PolicyDocument {
    // A constant document: it parses.
    PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap_or_else(|_| unreachable!())
}

/// The condition keys billtrail knows about a principal.
fn context_keys(p: &Principal) -> Vec<(&'static str, String)> {
    let mut keys = vec![
        ("aws:PrincipalAccount", p.account_id.clone()),
        ("aws:PrincipalArn", p.arn()),
        ("aws:userid", p.principal_id()),
        (
            "aws:MultiFactorAuthPresent",
            p.session
                .as_ref()
                .is_some_and(|s| s.mfa_authenticated)
                .to_string(),
        ),
    ];
    if let Identity::IamUser { user_name, .. } = &p.identity {
        keys.push(("aws:username", user_name.clone()));
    }
    keys
}

/// Evaluates `action` on `resource` for `p`.
pub(crate) fn decide(perms: &Permissions, p: &Principal, action: &str, resource: &str) -> Decision {
    match perms {
        Permissions::Unrestricted => Decision::Allow,
        Permissions::Policies { identity, session } => {
            let keys = context_keys(p);
            let context: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let req = policy::Request {
                action,
                resource,
                context: &context,
            };
            let identity: Vec<&PolicyDocument> = identity.iter().collect();
            if session.is_empty() {
                policy::evaluate(&identity, &req)
            } else {
                let session: Vec<&PolicyDocument> = session.iter().collect();
                policy::evaluate_with_session(&identity, &session, &req)
            }
        }
    }
}

pub(crate) fn denied(
    op: &OpSpec,
    p: &Principal,
    action: &str,
    resource: &str,
    why: &str,
) -> ApiError {
    let message = format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        p.arn()
    );
    op.service.access_denied(message.trim_end().to_string())
}

/// Actions AWS allows every authenticated principal, whatever its policies.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

pub(crate) fn authorize(cx: &mut Context<'_>, p: &Principal, op: &OpSpec) -> Result<(), ApiError> {
    if ALWAYS_ALLOWED.contains(&op.action) {
        return Ok(());
    }
    if matches!(p.identity, Identity::Root | Identity::AwsService { .. })
        && p.session.as_ref().and_then(|s| s.policy.as_ref()).is_none()
    {
        return Ok(());
    }
    if op.service.is_billing() {
        let pref: IamAccessPreference = cx
            .get_in(
                &p.account_id,
                IamAccessPreference::KIND,
                IamAccessPreference::ID,
            )?
            .unwrap_or_default();
        if !pref.enabled {
            return Err(denied(
                op,
                p,
                op.action,
                "*",
                "because IAM user and role access to billing information is not activated for this account",
            ));
        }
    }
    let perms = permissions(cx, p)?;
    match decide(&perms, p, op.action, "*") {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny => Err(denied(
            op,
            p,
            op.action,
            "*",
            "with an explicit deny in an identity-based policy",
        )),
        Decision::ImplicitDeny => Err(denied(
            op,
            p,
            op.action,
            "*",
            "because no identity-based policy allows the action",
        )),
    }
}

/// Whether `p`'s policies allow `action` on `resource` (an ARN), for calls served outside
/// [`crate::dispatch`]: the server's S3 API. The same evaluation as for operations, without the
/// billing gate: root and AWS services may do anything, everyone else what their identity and
/// session policies allow.
pub fn identity_allows(
    env: &crate::Env,
    p: &Principal,
    action: &str,
    resource: &str,
) -> Result<Decision, ApiError> {
    let mut state = crate::context::ReadOnly(env.store.read().as_ref());
    let mut cx = Context::new(env, p, "us-east-1", &mut state);
    let perms = permissions(&mut cx, p)?;
    Ok(decide(&perms, p, action, resource))
}
