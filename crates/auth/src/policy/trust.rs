//! Role trust policies: may this caller assume the role?

use super::document::{
    is_account_id, Effect, PolicyDocument, PrincipalKind, Principals, Statement,
};
use super::Request;

/// How a trust policy matched the caller of `sts:AssumeRole`.
///
/// The caller of [`trust_allows`] combines it with the caller's own identity
/// policies as IAM does:
///
/// * [`TrustMatch::Principal`]: the trust policy names the caller itself (its
///   user ARN, the role of its role session, its session ARN, or the service
///   or identity provider). For a caller **in the role's account** that is
///   enough: no identity policy needs to allow `sts:AssumeRole` (an explicit
///   deny in one still wins).
/// * [`TrustMatch::Account`]: the trust policy names the caller's account
///   (`"123456789012"` or `arn:aws:iam::123456789012:root`), or everyone
///   (`"*"`). That delegates the decision to the account: the caller's own
///   identity policies must also allow `sts:AssumeRole` on the role.
/// * [`TrustMatch::No`]: no statement allows the caller, or one denies it.
///
/// A caller from **another account** always needs both sides: the trust
/// policy (either match) *and* its own identity policies allowing
/// `sts:AssumeRole` on the role ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMatch {
    Principal,
    Account,
    No,
}

/// Does `trust` let the principal `caller_arn` (of account `caller_account`)
/// call `sts:AssumeRole`? See [`TrustMatch`] for what the answer obliges the
/// caller to check next.
///
/// `caller_arn` is the caller's identity ARN: `arn:aws:iam::…:user/…`,
/// `arn:aws:iam::…:root`, `arn:aws:sts::…:assumed-role/<role>/<session>`,
/// `arn:aws:sts::…:federated-user/…`, or a service principal such as
/// `ec2.amazonaws.com`. `context` holds the condition keys of the request
/// (`aws:PrincipalArn`, `aws:MultiFactorAuthPresent`, `sts:ExternalId`, …);
/// nothing is derived implicitly.
pub fn trust_allows(
    trust: &PolicyDocument,
    caller_arn: &str,
    caller_account: &str,
    context: &[(&str, &str)],
) -> TrustMatch {
    trust_allows_action(trust, "sts:AssumeRole", caller_arn, caller_account, context)
}

/// As [`trust_allows`], for another STS action named in trust policies
/// (`sts:TagSession`, `sts:SetSourceIdentity`, `sts:AssumeRoleWithSAML`, …).
pub fn trust_allows_action(
    trust: &PolicyDocument,
    action: &str,
    caller_arn: &str,
    caller_account: &str,
    context: &[(&str, &str)],
) -> TrustMatch {
    let request = Request {
        action,
        resource: "*",
        context,
    };
    let action_lc = action.to_lowercase();
    let vars = trust.version() == super::PolicyVersion::V2012;
    let caller = Caller::new(caller_arn, caller_account);

    let mut best = TrustMatch::No;
    for statement in &trust.statements {
        if !statement.applies(&action_lc, &request, vars) {
            continue;
        }
        let Some(matched) = principal_match(statement, &caller) else {
            continue;
        };
        match statement.effect {
            Effect::Deny => return TrustMatch::No,
            Effect::Allow => {
                if best != TrustMatch::Principal {
                    best = matched;
                }
            }
        }
    }
    best
}

/// The caller, with the role behind a role session worked out.
struct Caller<'a> {
    arn: &'a str,
    account: &'a str,
    /// For `arn:aws:sts::<acct>:assumed-role/<role>/<session>`: `<role>`.
    session_role: Option<&'a str>,
}

impl<'a> Caller<'a> {
    fn new(arn: &'a str, account: &'a str) -> Caller<'a> {
        let session_role = arn
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(":sts::"))
            .and_then(|(_, rest)| rest.split_once(':'))
            .filter(|(acct, _)| *acct == account)
            .and_then(|(_, resource)| resource.strip_prefix("assumed-role/"))
            .and_then(|rest| rest.split_once('/'))
            .map(|(role, _)| role);
        Caller {
            arn,
            account,
            session_role,
        }
    }

    /// How one listed principal value matches this caller.
    fn matches(&self, kind: PrincipalKind, value: &str) -> Option<TrustMatch> {
        match kind {
            PrincipalKind::Aws => self.matches_aws(value),
            PrincipalKind::Service | PrincipalKind::Federated => {
                (value == self.arn).then_some(TrustMatch::Principal)
            }
            PrincipalKind::CanonicalUser => None,
        }
    }

    fn matches_aws(&self, value: &str) -> Option<TrustMatch> {
        if value == "*" {
            return Some(TrustMatch::Account);
        }
        if value == self.arn {
            return Some(TrustMatch::Principal);
        }
        if let Some(account) = named_account(value) {
            if account != self.account {
                return None;
            }
            // The account's root user is named by its account, too.
            let is_root = self.arn.starts_with("arn:") && self.arn.ends_with(":root");
            return Some(if is_root {
                TrustMatch::Principal
            } else {
                TrustMatch::Account
            });
        }
        // A role ARN (with any path) names every session of that role.
        let role = self.session_role?;
        let (_, rest) = value.strip_prefix("arn:")?.split_once(":iam::")?;
        let (account, resource) = rest.split_once(':')?;
        let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
        (account == self.account && name == role).then_some(TrustMatch::Principal)
    }
}

/// The account a principal value names as a whole: `"123456789012"` or
/// `arn:<partition>:iam::123456789012:root`.
fn named_account(value: &str) -> Option<&str> {
    if is_account_id(value) {
        return Some(value);
    }
    let (_, rest) = value.strip_prefix("arn:")?.split_once(":iam::")?;
    rest.strip_suffix(":root").filter(|a| is_account_id(a))
}

/// How the statement's `Principal`/`NotPrincipal` matches the caller, if at all.
fn principal_match(statement: &Statement, caller: &Caller<'_>) -> Option<TrustMatch> {
    let (not, principals) = statement.principal.as_ref()?;
    let listed = |caller: &Caller<'_>| match principals {
        Principals::Any => Some(TrustMatch::Account),
        Principals::Listed(list) => list.iter().fold(None, |best, (kind, value)| {
            match (best, caller.matches(*kind, value)) {
                (Some(TrustMatch::Principal), _) | (_, Some(TrustMatch::Principal)) => {
                    Some(TrustMatch::Principal)
                }
                (Some(b), _) => Some(b),
                (None, m) => m,
            }
        }),
    };
    if *not {
        // NotPrincipal: applies to everyone except the callers it names
        // exactly ("*" names everyone; an account names only its root user).
        let excluded = *principals == Principals::Any
            || matches!(principals, Principals::Listed(list) if list.iter().any(|(k, v)| *k == PrincipalKind::Aws && v == "*"))
            || listed(caller) == Some(TrustMatch::Principal);
        (!excluded).then_some(TrustMatch::Account)
    } else {
        listed(caller)
    }
}
