//! IAM policy evaluation: may this principal perform this action on this resource?
//!
//! # Job
//!
//! This module parses IAM policy documents and evaluates requests against them,
//! as IAM does for identity-based policies, session policies and role trust
//! policies:
//!
//! * [`PolicyDocument::parse`] / [`parse_trust`](PolicyDocument::parse_trust)
//!   turn JSON text into a validated document, or into a [`PolicyError`]
//!   carrying the `MalformedPolicyDocument` message IAM would give.
//! * [`evaluate`] answers for a principal's identity-based policies (inline and
//!   attached managed policies together); [`evaluate_with_session`] adds the
//!   session policies of a federated user or of a role session created with a
//!   `Policy`/`PolicyArns`; [`evaluate_detailed`] says which policy type
//!   decided, for the `AccessDenied` message ([`Outcome::denied_message`]).
//! * [`trust_allows`] checks a role's trust policy for `sts:AssumeRole`.
//! * [`managed_policy`] serves the AWS managed policies billtrail ships, and
//!   [`actions`] maps each billing operation to the IAM action that governs it.
//!
//! # Invariants
//!
//! * Pure: no I/O, no clock, no globals other than the embedded managed
//!   policies (parsed once). Everything a condition may test (`aws:username`,
//!   `aws:CurrentTime`, `aws:SourceIp`, `aws:MultiFactorAuthPresent`, …) comes
//!   from the request context the caller passes.
//! * Never panics on input: any text may be handed to the parsers (a test
//!   feeds them 10,000 random and mutated documents). The module denies
//!   `unwrap`, `expect`, `panic!` and slice indexing outside tests, and the
//!   wildcard matcher is iterative.
//! * Fails closed: an explicit `Deny` in any policy wins; without an `Allow`
//!   the answer is [`Decision::ImplicitDeny`]; a policy variable or a condition
//!   value that cannot be resolved makes its element match nothing (so an
//!   `Allow` with it does not apply); operators IAM does not know are refused
//!   at parse time, as IAM refuses them.
//! * IAM's matching rules: actions case-insensitively, resources and condition
//!   values case-sensitively (unless the operator says otherwise), `*` and `?`
//!   wildcards, policy variables (`${aws:username}`, `${*}`, defaults) in
//!   `Resource` and in string and ARN conditions of `2012-10-17` documents.
//!
//! # What it is not
//!
//! * No resource-based policies other than role trust policies (no bucket or
//!   key policies), no service control or resource control policies, no
//!   permissions boundaries, no VPC endpoint policies. The authorizer that
//!   calls this module layers account rules (root, the IAM-access-to-billing
//!   preference, root-only operations) on top.
//! * It does not look anything up: the caller collects a principal's inline
//!   and attached policies, the role's trust policy, the session policies, and
//!   checks that principals named in a trust policy exist.
//! * It does not enforce size quotas: [`PolicyDocument::len`] gives the size
//!   IAM counts, and [`limits`] the quotas, for the IAM and STS operations to
//!   apply (they answer `LimitExceeded`/`PackedPolicyTooLarge`, not
//!   `MalformedPolicyDocument`).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod actions;
mod condition;
mod document;
mod glob;
mod managed;
mod trust;

pub use actions::{billing_action, billing_operation, billing_operations, BillingOperation};
pub use document::{
    non_whitespace_len, valid_policy_characters, DocumentKind, PolicyDocument, PolicyError,
    PolicyVersion,
};
pub use managed::{
    managed_policies, managed_policy, managed_policy_arns, managed_policy_info, ManagedPolicy,
};
pub use trust::{trust_allows, trust_allows_action, TrustMatch};

use document::Effect;

/// IAM's size quotas for policy documents, in the characters IAM counts
/// (whitespace excluded, see [`PolicyDocument::len`]) unless noted.
pub mod limits {
    /// All inline policies of one IAM user together.
    pub const USER_INLINE_POLICIES: usize = 2_048;
    /// All inline policies of one IAM group together.
    pub const GROUP_INLINE_POLICIES: usize = 5_120;
    /// All inline policies of one IAM role together.
    pub const ROLE_INLINE_POLICIES: usize = 10_240;
    /// One customer managed policy.
    pub const MANAGED_POLICY: usize = 6_144;
    /// A role trust policy (`AssumeRolePolicySizeQuota`; AWS lets an account
    /// raise it to 4,096).
    pub const TRUST_POLICY: usize = 2_048;
    /// The plaintext of the inline session policy passed to `AssumeRole` or
    /// `GetFederationToken` (STS counts every character, whitespace included).
    pub const SESSION_POLICY: usize = 2_048;
    /// Managed session policies (`PolicyArns`) per STS call.
    pub const SESSION_POLICY_ARNS: usize = 10;
}

/// What is being asked.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The IAM action, e.g. `aws-portal:ViewBilling`.
    pub action: &'a str,
    /// The resource ARN, or `"*"` when the action has no resource type.
    pub resource: &'a str,
    /// Condition context keys and values (`aws:username`, `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:MultiFactorAuthPresent`, `aws:SourceIp`,
    /// `aws:CurrentTime`, …). A key listed several times is multivalued.
    pub context: &'a [(&'a str, &'a str)],
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A statement with `"Effect": "Deny"` applies.
    ExplicitDeny,
    /// No statement allows the request.
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// The policy types this module evaluates, as IAM names them in
/// `AccessDenied` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Identity,
    Session,
}

impl PolicyType {
    /// `identity-based` / `session`.
    pub fn name(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based",
            PolicyType::Session => "session",
        }
    }

    /// The name with its indefinite article: `an identity-based` / `a session`.
    fn with_article(self) -> &'static str {
        match self {
            PolicyType::Identity => "an identity-based",
            PolicyType::Session => "a session",
        }
    }
}

/// A decision and the policy type that made it: the type with the explicit
/// deny, or the first type that did not allow. `None` for [`Decision::Allow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    pub policy_type: Option<PolicyType>,
}

impl Outcome {
    /// The reason clause of IAM's `AccessDenied` message: `because no
    /// identity-based policy allows the <action> action`, or `with an explicit
    /// deny in a session policy`. `None` when allowed.
    pub fn reason(&self, action: &str) -> Option<String> {
        let kind = self.policy_type.unwrap_or(PolicyType::Identity);
        match self.decision {
            Decision::Allow => None,
            Decision::ExplicitDeny => Some(format!(
                "with an explicit deny in {} policy",
                kind.with_article()
            )),
            Decision::ImplicitDeny => Some(format!(
                "because no {} policy allows the {action} action",
                kind.name()
            )),
        }
    }

    /// IAM's whole message: `User: <arn> is not authorized to perform:
    /// <action> on resource: <resource> <reason>`. `None` when allowed.
    pub fn denied_message(&self, principal_arn: &str, request: &Request<'_>) -> Option<String> {
        let reason = self.reason(request.action)?;
        Some(format!(
            "User: {principal_arn} is not authorized to perform: {} on resource: {} {reason}",
            request.action, request.resource
        ))
    }
}

/// What one policy type says.
#[derive(Debug, Clone, Copy, Default)]
struct Layer {
    allowed: bool,
    denied: bool,
}

fn layer(policies: &[&PolicyDocument], req: &Request<'_>) -> Layer {
    let action_lc = req.action.to_lowercase();
    let mut out = Layer::default();
    for policy in policies {
        let vars = policy.version() == PolicyVersion::V2012;
        for statement in &policy.statements {
            // Once allowed, only a deny can change the answer.
            if out.allowed && statement.effect == Effect::Allow {
                continue;
            }
            if statement.applies(&action_lc, req, vars) {
                match statement.effect {
                    Effect::Deny => {
                        out.denied = true;
                        return out;
                    }
                    Effect::Allow => out.allowed = true,
                }
            }
        }
    }
    out
}

/// Evaluates identity-based policies (a principal's inline and attached
/// managed policies, together): an explicit deny in any of them wins; else an
/// allow in any of them allows; else the request is implicitly denied.
pub fn evaluate(policies: &[&PolicyDocument], req: &Request<'_>) -> Decision {
    evaluate_detailed(policies, None, req).decision
}

/// Evaluates a session that carries session policies (a federated user from
/// `GetFederationToken`, a role session created with `Policy`/`PolicyArns`).
///
/// The result is an allow only when the identity-based policies allow *and*
/// the session policies allow, with no explicit deny in either. The session
/// policies are one policy type, as in IAM: an inline session policy and
/// managed session policies (`PolicyArns`) are combined like a principal's
/// identity policies, so an allow in any of them counts. An empty `session`
/// allows nothing — AWS's rule for a federated user created without session
/// policies; call [`evaluate`] for sessions that were given none.
pub fn evaluate_with_session(
    identity: &[&PolicyDocument],
    session: &[&PolicyDocument],
    req: &Request<'_>,
) -> Decision {
    evaluate_detailed(identity, Some(session), req).decision
}

/// [`evaluate`] (`session: None`) or [`evaluate_with_session`]
/// (`session: Some`), with the policy type that decided.
pub fn evaluate_detailed(
    identity: &[&PolicyDocument],
    session: Option<&[&PolicyDocument]>,
    req: &Request<'_>,
) -> Outcome {
    let id = layer(identity, req);
    let deny = |t| Outcome {
        decision: Decision::ExplicitDeny,
        policy_type: Some(t),
    };
    let implicit = |t| Outcome {
        decision: Decision::ImplicitDeny,
        policy_type: Some(t),
    };
    if id.denied {
        return deny(PolicyType::Identity);
    }
    let sess = session.map(|s| layer(s, req));
    if sess.is_some_and(|s| s.denied) {
        return deny(PolicyType::Session);
    }
    if !id.allowed {
        return implicit(PolicyType::Identity);
    }
    if sess.is_some_and(|s| !s.allowed) {
        return implicit(PolicyType::Session);
    }
    Outcome {
        decision: Decision::Allow,
        policy_type: None,
    }
}
