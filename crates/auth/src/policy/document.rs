//! Parsing and validating policy documents.
//!
//! Validation runs in the order IAM's own validator appears to (the order the
//! `moto` and LocalStack emulators reproduce), so a document with several
//! faults is rejected with the message AWS would give first: JSON and element
//! syntax, then version, legacy parsing, SID rules, actions, resources,
//! resource formats, action vendors, and finally the trust-policy rules.

use serde_json::{Map, Value};

use super::condition::{parse_date, Condition, OperatorName};
use super::glob::{self, Tok};
use super::Request;

/// A policy document IAM would refuse, with the message of its
/// `MalformedPolicyDocument` error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    message: String,
}

impl PolicyError {
    /// The AWS error code IAM and STS answer with.
    pub const CODE: &'static str = "MalformedPolicyDocument";

    fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
        }
    }

    /// The AWS error code: always `MalformedPolicyDocument`.
    pub fn code(&self) -> &'static str {
        Self::CODE
    }

    /// The message, worded as IAM words it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The messages IAM gives, in one place.
pub(crate) mod msg {
    pub const SYNTAX: &str = "Syntax errors in policy.";
    pub const VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
    pub const LEGACY: &str = "The policy failed legacy parsing";
    pub const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
    pub const SID_ALNUM: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
    pub const ACTIONS: &str = "Policy statement must contain actions.";
    pub const RESOURCES: &str = "Policy statement must contain resources.";
    pub const NO_PRINCIPAL: &str = "Policy document should not specify a principal.";
    pub const VENDOR: &str =
        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    pub const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
    pub const VENDOR_WILDCARD: &str =
        "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards";
    pub const RESOURCE_VENDOR: &str =
        "Resource vendor must be fully qualified and cannot contain regexes.";
    pub const TRUST_RESOURCE: &str = "Has prohibited field Resource";
    pub const TRUST_PRINCIPAL: &str = "Missing required field Principal";
    pub const TRUST_ACTIONS: &str = "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity";
}

/// The `Version` element. A document without one is `2008-10-17`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// `2008-10-17`: no policy variables (`${…}` is plain text).
    V2008,
    /// `2012-10-17`: the current language, with policy variables.
    V2012,
}

impl PolicyVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersion::V2008 => "2008-10-17",
            PolicyVersion::V2012 => "2012-10-17",
        }
    }
}

/// What a document was parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// An identity-based policy (inline, managed, or session policy).
    Identity,
    /// A role trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// One entry of `Action` or `Resource`, kept with its compiled form when it
/// has wildcards and no policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// As written (actions: lowercased, since action matching ignores case).
    pub(crate) text: String,
    /// `None` for a literal; `Some` when the pattern has wildcards only.
    compiled: Option<Vec<Tok>>,
    /// Has policy variables that must be expanded per request.
    has_vars: bool,
}

impl Pattern {
    fn new(text: String, vars: bool) -> Pattern {
        let has_vars = vars && text.contains("${");
        let compiled = if glob::is_literal(&text, vars) || has_vars {
            None
        } else {
            glob::compile(&text, None, true, false)
        };
        Pattern {
            text,
            compiled,
            has_vars,
        }
    }

    /// `text` as chars, lowercased already when matching actions.
    fn matches(&self, text: &str, chars: &[char], context: &[(&str, &str)]) -> bool {
        if self.has_vars {
            return glob::compile(&self.text, Some(context), true, false)
                .is_some_and(|p| glob::matches(&p, chars));
        }
        match &self.compiled {
            Some(tokens) => glob::matches(tokens, chars),
            None => self.text == text,
        }
    }
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternSet {
    pub(crate) not: bool,
    pub(crate) items: Vec<Pattern>,
}

impl PatternSet {
    fn matches(&self, text: &str, context: &[(&str, &str)]) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let any = self.items.iter().any(|p| p.matches(text, &chars, context));
        any != self.not
    }
}

/// The principal kinds IAM accepts in a trust policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principals {
    /// `"*"`.
    Any,
    Listed(Vec<(PrincipalKind, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// `(is NotPrincipal, principals)`.
    pub(crate) principal: Option<(bool, Principals)>,
    pub(crate) action: PatternSet,
    /// `None` in trust policies.
    pub(crate) resource: Option<PatternSet>,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// Does the statement apply to the request (action, resource, conditions)?
    /// `action_lc` is the request's action lowercased.
    pub(crate) fn applies(&self, action_lc: &str, req: &Request<'_>, vars: bool) -> bool {
        self.action.matches(action_lc, req.context)
            && self
                .resource
                .as_ref()
                .is_none_or(|r| r.matches(req.resource, req.context))
            && self.conditions.iter().all(|c| c.holds(req.context, vars))
    }
}

/// A parsed, validated IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    version: PolicyVersion,
    id: Option<String>,
    kind: DocumentKind,
    pub(crate) statements: Vec<Statement>,
    text: String,
}

impl PolicyDocument {
    /// Parses an identity-based policy: a user/role/group inline policy or a
    /// session policy. Accepts `Version` `2012-10-17` and `2008-10-17` (or
    /// none, which means `2008-10-17`); `Principal` is not allowed and every
    /// statement needs `Resource` or `NotResource`.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        parse(text, DocumentKind::Identity, false)
    }

    /// As [`parse`](Self::parse), but also requires `Version` `2012-10-17`, as
    /// IAM does for managed policies (`CreatePolicy`, `CreatePolicyVersion`).
    pub fn parse_managed(text: &str) -> Result<PolicyDocument, PolicyError> {
        parse(text, DocumentKind::Identity, true)
    }

    /// Parses a role trust policy: every statement needs `Principal`, none may
    /// have `Resource`, and actions must be `sts:` actions.
    pub fn parse_trust(text: &str) -> Result<PolicyDocument, PolicyError> {
        parse(text, DocumentKind::Trust, false)
    }

    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// The `Id` element, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The document as it was given, for `GetUserPolicy` and friends.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The size IAM counts against its quotas: characters, not counting
    /// whitespace. Compare with the constants in [`limits`](super::limits).
    pub fn len(&self) -> usize {
        non_whitespace_len(&self.text)
    }

    /// A parsed document always has at least one statement.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The `AWS` principal values of a trust policy, as written (`"*"`, account
    /// ids, ARNs), so that the caller can check that named users and roles
    /// exist, as IAM does ("Invalid principal in policy").
    pub fn aws_principals(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .filter_map(|s| match &s.principal {
                Some((_, Principals::Listed(list))) => Some(list),
                _ => None,
            })
            .flatten()
            .filter(|(kind, _)| *kind == PrincipalKind::Aws)
            .map(|(_, value)| value.as_str())
    }
}

/// Characters that count against IAM's size quotas: all but whitespace.
pub fn non_whitespace_len(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// Whether `text` uses only the characters IAM accepts in a policy document
/// parameter: tab, line feed, carriage return and U+0020–U+00FF. (IAM rejects
/// others with a `ValidationError` before looking at the JSON.)
pub fn valid_policy_characters(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
}

const TOP_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];
const IAM_RESOURCE_PATHS: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// A statement after the syntax pass: typed, but not yet checked against the
/// semantic rules.
struct RawStatement<'v> {
    sid: Option<&'v str>,
    effect: &'v str,
    principal: Option<(bool, Principals)>,
    action: Option<(bool, Vec<String>)>,
    resource: Option<(bool, Vec<String>)>,
    conditions: Vec<Condition>,
}

fn syntax() -> PolicyError {
    PolicyError::new(msg::SYNTAX)
}

fn parse(
    text: &str,
    kind: DocumentKind,
    require_2012: bool,
) -> Result<PolicyDocument, PolicyError> {
    // 1. Syntax: JSON, elements, types.
    let value: Value = serde_json::from_str(text).map_err(|_| syntax())?;
    let top = value.as_object().ok_or_else(syntax)?;
    if top.keys().any(|k| !TOP_ELEMENTS.contains(&k.as_str())) {
        return Err(syntax());
    }
    let version = match top.get("Version") {
        None => PolicyVersion::V2008,
        Some(Value::String(v)) if v == "2012-10-17" => PolicyVersion::V2012,
        Some(Value::String(v)) if v == "2008-10-17" => PolicyVersion::V2008,
        Some(_) => return Err(syntax()),
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(syntax()),
    };
    let raw_statements: Vec<&Map<String, Value>> = match top.get("Statement") {
        Some(Value::Object(one)) => vec![one],
        Some(Value::Array(many)) if !many.is_empty() => many
            .iter()
            .map(Value::as_object)
            .collect::<Option<_>>()
            .ok_or_else(syntax)?,
        _ => return Err(syntax()),
    };
    let raw: Vec<RawStatement<'_>> = raw_statements
        .iter()
        .map(|s| statement_syntax(s))
        .collect::<Result<_, _>>()?;

    // 2. Principals belong to trust (resource-based) policies only.
    if kind == DocumentKind::Identity && raw.iter().any(|s| s.principal.is_some()) {
        return Err(PolicyError::new(msg::NO_PRINCIPAL));
    }

    // 3. Version, where the caller requires the current language.
    if require_2012 && version != PolicyVersion::V2012 {
        return Err(PolicyError::new(msg::VERSION));
    }

    // 4. Legacy parsing: exact-case effects and parseable dates.
    for s in &raw {
        if s.effect != "Allow" && s.effect != "Deny" {
            return Err(PolicyError::new(msg::LEGACY));
        }
        for c in &s.conditions {
            let dates_ok = !c.name.op.is_date()
                || c.values
                    .iter()
                    .all(|v| v.contains("${") || parse_date(v).is_some());
            if !dates_ok {
                return Err(PolicyError::new(msg::LEGACY));
            }
        }
    }

    // 5. Statement ids.
    let mut seen: Vec<&str> = Vec::new();
    for sid in raw.iter().filter_map(|s| s.sid).filter(|s| !s.is_empty()) {
        if seen.contains(&sid) {
            return Err(PolicyError::new(msg::SID_UNIQUE));
        }
        seen.push(sid);
    }
    if seen
        .iter()
        .any(|sid| !sid.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(PolicyError::new(msg::SID_ALNUM));
    }

    // 6. Every statement acts on something.
    if raw
        .iter()
        .any(|s| s.action.as_ref().is_none_or(|(_, a)| a.is_empty()))
    {
        return Err(PolicyError::new(msg::ACTIONS));
    }

    // 7. Resources (identity) / principals and no resources (trust).
    match kind {
        DocumentKind::Identity => {
            if raw
                .iter()
                .any(|s| s.resource.as_ref().is_none_or(|(_, r)| r.is_empty()))
            {
                return Err(PolicyError::new(msg::RESOURCES));
            }
            for s in &raw {
                for r in s.resource.iter().flat_map(|(_, r)| r) {
                    check_resource(r)?;
                }
            }
        }
        DocumentKind::Trust => {
            if raw.iter().any(|s| s.resource.is_some()) {
                return Err(PolicyError::new(msg::TRUST_RESOURCE));
            }
            if raw.iter().any(|s| s.principal.is_none()) {
                return Err(PolicyError::new(msg::TRUST_PRINCIPAL));
            }
        }
    }

    // 8. Action vendors, then condition-key vendors.
    for s in &raw {
        for a in s.action.iter().flat_map(|(_, a)| a) {
            check_action(a)?;
        }
    }
    for s in &raw {
        if s.conditions.iter().any(|c| !has_vendor(&c.key)) {
            return Err(PolicyError::new(msg::VENDOR));
        }
    }

    // 9. Trust policies: STS actions and well-formed principals.
    if kind == DocumentKind::Trust {
        for s in &raw {
            if let Some((false, actions)) = &s.action {
                if actions.iter().any(|a| !is_sts_action(a)) {
                    return Err(PolicyError::new(msg::TRUST_ACTIONS));
                }
            }
            if let Some((_, Principals::Listed(list))) = &s.principal {
                for (kind, value) in list {
                    check_principal(*kind, value)?;
                }
            }
        }
    }

    let vars = version == PolicyVersion::V2012;
    let statements = raw
        .into_iter()
        .map(|s| Statement {
            sid: s.sid.map(str::to_owned),
            effect: if s.effect == "Deny" {
                Effect::Deny
            } else {
                Effect::Allow
            },
            principal: s.principal,
            action: s
                .action
                .map(|(not, items)| PatternSet {
                    not,
                    items: items
                        .into_iter()
                        .map(|a| Pattern::new(a.to_lowercase(), false))
                        .collect(),
                })
                .unwrap_or(PatternSet {
                    not: false,
                    items: Vec::new(),
                }),
            resource: s.resource.map(|(not, items)| PatternSet {
                not,
                items: items.into_iter().map(|r| Pattern::new(r, vars)).collect(),
            }),
            conditions: s.conditions,
        })
        .collect();

    Ok(PolicyDocument {
        version,
        id,
        kind,
        statements,
        text: text.to_owned(),
    })
}

fn statement_syntax(s: &Map<String, Value>) -> Result<RawStatement<'_>, PolicyError> {
    if s.keys().any(|k| !STATEMENT_ELEMENTS.contains(&k.as_str())) {
        return Err(syntax());
    }
    let exclusive = |a: &str, b: &str| s.contains_key(a) && s.contains_key(b);
    if exclusive("Action", "NotAction")
        || exclusive("Resource", "NotResource")
        || exclusive("Principal", "NotPrincipal")
    {
        return Err(syntax());
    }
    let effect = match s.get("Effect") {
        Some(Value::String(e))
            if e.eq_ignore_ascii_case("Allow") || e.eq_ignore_ascii_case("Deny") =>
        {
            e.as_str()
        }
        _ => return Err(syntax()),
    };
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.as_str()),
        Some(_) => return Err(syntax()),
    };
    let pair = |name: &str, not_name: &str| -> Result<Option<(bool, Vec<String>)>, PolicyError> {
        match (s.get(name), s.get(not_name)) {
            (Some(v), _) => string_or_list(v)
                .map(|l| Some((false, l)))
                .ok_or_else(syntax),
            (None, Some(v)) => string_or_list(v)
                .map(|l| Some((true, l)))
                .ok_or_else(syntax),
            (None, None) => Ok(None),
        }
    };
    let action = pair("Action", "NotAction")?;
    let resource = pair("Resource", "NotResource")?;
    let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), _) => Some((false, principals(p).ok_or_else(syntax)?)),
        (None, Some(p)) => Some((true, principals(p).ok_or_else(syntax)?)),
        (None, None) => None,
    };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(blocks)) => conditions(blocks)?,
        Some(_) => return Err(syntax()),
    };
    Ok(RawStatement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn string_or_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// Condition values may be strings, numbers or booleans, alone or in a list.
fn condition_values(v: &Value) -> Option<Vec<String>> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn conditions(blocks: &Map<String, Value>) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (operator, block) in blocks {
        let block = block.as_object().ok_or_else(syntax)?;
        let name = match OperatorName::parse(operator) {
            Some(name) => name,
            // IAM tolerates an unknown operator only with nothing under it.
            None if block.is_empty() => continue,
            None => return Err(syntax()),
        };
        for (key, values) in block {
            out.push(Condition {
                name,
                key: key.clone(),
                values: condition_values(values).ok_or_else(syntax)?,
            });
        }
    }
    Ok(out)
}

fn principals(v: &Value) -> Option<Principals> {
    match v {
        Value::String(s) if s == "*" => Some(Principals::Any),
        Value::Object(map) if !map.is_empty() => {
            let mut out = Vec::new();
            for (kind, values) in map {
                let kind = match kind.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "Federated" => PrincipalKind::Federated,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    _ => return None,
                };
                out.extend(string_or_list(values)?.into_iter().map(|v| (kind, v)));
            }
            Some(Principals::Listed(out))
        }
        _ => None,
    }
}

fn has_vendor(name: &str) -> bool {
    name.split_once(':')
        .is_some_and(|(vendor, _)| !vendor.is_empty())
}

fn check_action(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (None, _) => return Err(PolicyError::new(msg::VENDOR)),
        (Some(_), Some(_)) => return Err(PolicyError::new(msg::ONE_COLON)),
        (Some(_), None) => {}
    }
    if vendor.is_empty() {
        return Err(PolicyError::new(msg::VENDOR));
    }
    if vendor.contains(['*', '?']) {
        return Err(PolicyError::new(msg::VENDOR_WILDCARD));
    }
    if !vendor
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(PolicyError::new(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}

fn check_resource(resource: &str) -> Result<(), PolicyError> {
    if resource == "*" {
        return Ok(());
    }
    let arn_format = || {
        PolicyError::new(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ))
    };
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    if parts.len() < 2 || part(0) != "arn" {
        return Err(arn_format());
    }
    let partition = part(1);
    if partition != "*" && !PARTITIONS.contains(&partition) && !partition.contains("${") {
        let field = |i: usize| match part(i) {
            "" if parts.len() <= i => "*",
            other => other,
        };
        return Err(PolicyError::new(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{}:{}:{}:{}\".",
            field(2),
            field(3),
            field(4),
            field(5),
        )));
    }
    if parts.len() < 3 || part(2).is_empty() {
        return Err(PolicyError::new(msg::RESOURCE_VENDOR));
    }
    if parts.len() < 6 {
        // IAM's legacy parser takes a short ARN (`arn:aws:ec2:*`) as a
        // prefix pattern, but not one with an empty field (`arn:aws:s3::x`).
        return if resource.contains("::") {
            Err(PolicyError::new(msg::LEGACY))
        } else {
            Ok(())
        };
    }
    let (service, region, id) = (part(2), part(3), part(5));
    match service {
        "iam" if !region.is_empty() => Err(PolicyError::new(format!(
            "IAM resource {resource} cannot contain region information."
        ))),
        "iam"
            if !(id == "*"
                || id == "root"
                || IAM_RESOURCE_PATHS.iter().any(|p| id.starts_with(p))) =>
        {
            Err(PolicyError::new(format!(
                "IAM resource path must either be \"*\", root, or start with {}.",
                IAM_RESOURCE_PATHS.join(", ")
            )))
        }
        "s3" if !region.is_empty() && !id.starts_with("accesspoint/") => Err(PolicyError::new(
            format!("Resource {resource} can not contain region information."),
        )),
        _ => Ok(()),
    }
}

fn is_sts_action(action: &str) -> bool {
    action
        .split_once(':')
        .is_some_and(|(vendor, _)| vendor.eq_ignore_ascii_case("sts"))
}

fn invalid_principal(kind: PrincipalKind, value: &str) -> PolicyError {
    PolicyError::new(format!(
        "Invalid principal in policy: \"{}\":\"{value}\"",
        kind.name()
    ))
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The forms IAM accepts for principals in a trust policy (it also checks that
/// named users and roles exist; that is the caller's job, see
/// [`PolicyDocument::aws_principals`]).
fn check_principal(kind: PrincipalKind, value: &str) -> Result<(), PolicyError> {
    let ok = match kind {
        PrincipalKind::Aws => value == "*" || is_account_id(value) || is_principal_arn(value),
        PrincipalKind::Service => !value.is_empty() && !value.contains(['*', '?']),
        PrincipalKind::Federated => !value.is_empty(),
        PrincipalKind::CanonicalUser => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_principal(kind, value))
    }
}

/// `arn:<partition>:iam::<account>:root|user/…|role/…` or
/// `arn:<partition>:sts::<account>:assumed-role/…|federated-user/…`, without
/// wildcards.
fn is_principal_arn(value: &str) -> bool {
    if value.contains(['*', '?']) {
        return false;
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    if *arn != "arn"
        || !PARTITIONS.contains(partition)
        || !region.is_empty()
        || !is_account_id(account)
    {
        return false;
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
    };
    match *service {
        "iam" => *resource == "root" || named("user/") || named("role/"),
        "sts" => named("assumed-role/") || named("federated-user/"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        PolicyDocument::parse(text)
            .unwrap_err()
            .message()
            .to_owned()
    }

    fn trust_err(text: &str) -> String {
        PolicyDocument::parse_trust(text)
            .unwrap_err()
            .message()
            .to_owned()
    }

    fn stmt(body: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":{body}}}"#)
    }

    #[test]
    fn resources_must_be_arns() {
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}"#,
        ));
        assert_eq!(e, r#"Resource bucket must be in ARN format or "*"."#);
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:foo:s3:::b"}"#,
        ));
        assert_eq!(
            e,
            r#"Partition "foo" is not valid for resource "arn:foo:s3:::b"."#
        );
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws"}"#,
        ));
        assert_eq!(e, msg::RESOURCE_VENDOR);
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam:us-east-1:123456789012:user/x"}"#,
        ));
        assert!(e.starts_with("IAM resource arn:aws:iam:us-east-1"), "{e}");
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:bogus/x"}"#,
        ));
        assert!(e.starts_with("IAM resource path must either be"), "{e}");
        PolicyDocument::parse(&stmt(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":["arn:aws:iam::*:user/${aws:username}","arn:aws:iam::123456789012:root"]}"#,
        ))
        .unwrap();
    }

    #[test]
    fn vendors() {
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"*:Get*","Resource":"*"}"#,
        ));
        assert_eq!(e, msg::VENDOR_WILDCARD);
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"s_3:Get","Resource":"*"}"#,
        ));
        assert_eq!(e, "Vendor s_3 is not valid");
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":":Get","Resource":"*"}"#,
        ));
        assert_eq!(e, msg::VENDOR);
        let e = err(&stmt(
            r#"{"Effect":"Allow","Action":"s3:Get","Resource":"*","Condition":{"StringEquals":{"username":"x"}}}"#,
        ));
        assert_eq!(e, msg::VENDOR);
    }

    #[test]
    fn principal_forms() {
        let ok = |p: &str| {
            PolicyDocument::parse_trust(&stmt(&format!(
                r#"{{"Effect":"Allow","Principal":{p},"Action":"sts:AssumeRole"}}"#
            )))
            .map(|_| ())
            .map_err(|e| e.message().to_owned())
        };
        ok(r#""*""#).unwrap();
        ok(r#"{"AWS":"*"}"#).unwrap();
        ok(r#"{"AWS":"123456789012"}"#).unwrap();
        ok(r#"{"AWS":["arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:user/a/b"]}"#)
            .unwrap();
        ok(r#"{"AWS":"arn:aws:sts::123456789012:assumed-role/r/s"}"#).unwrap();
        ok(r#"{"Service":"ec2.amazonaws.com","Federated":"arn:aws:iam::123456789012:saml-provider/x"}"#)
            .unwrap();
        assert_eq!(
            ok(r#"{"AWS":"arn:aws:iam::123456789012:user/*"}"#).unwrap_err(),
            r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*""#
        );
        assert_eq!(
            ok(r#"{"AWS":"12345"}"#).unwrap_err(),
            r#"Invalid principal in policy: "AWS":"12345""#
        );
        assert_eq!(ok(r#""someone""#).unwrap_err(), msg::SYNTAX);
        assert_eq!(ok(r#"{"Bogus":"x"}"#).unwrap_err(), msg::SYNTAX);
        assert_eq!(ok(r#"{}"#).unwrap_err(), msg::SYNTAX);
    }

    #[test]
    fn trust_rules() {
        let e = trust_err(&stmt(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#));
        assert_eq!(e, msg::TRUST_PRINCIPAL);
        let e = trust_err(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}"#,
        ));
        assert_eq!(e, msg::TRUST_RESOURCE);
        let e = trust_err(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}"#,
        ));
        assert_eq!(e, msg::TRUST_ACTIONS);
    }

    #[test]
    fn sizes_and_characters() {
        let doc = PolicyDocument::parse(
            "{ \"Statement\" : { \"Effect\":\"Allow\", \"Action\":\"*\", \"Resource\":\"*\" } }",
        )
        .unwrap();
        assert_eq!(doc.len(), non_whitespace_len(doc.text()));
        assert_eq!(
            doc.len(),
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.len()
        );
        assert_eq!(doc.version(), PolicyVersion::V2008);
        assert!(valid_policy_characters("{\t\"é\"\r\n}"));
        assert!(!valid_policy_characters("€"));
    }
}
