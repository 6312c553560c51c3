//! IAM policy evaluation through the public API: parsing and its errors,
//! wildcards, Not* elements, deny precedence, session policies, conditions,
//! trust policies and the shipped AWS managed policies.

use billtrail_auth::policy::{
    evaluate, evaluate_detailed, evaluate_with_session, limits, managed_policy,
    managed_policy_arns, managed_policy_info, trust_allows, trust_allows_action, Decision,
    PolicyDocument, PolicyError, PolicyType, PolicyVersion, Request, TrustMatch,
};

const ACCOUNT: &str = "123456789012";
const OTHER: &str = "210987654321";

fn doc(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn trust(text: &str) -> PolicyDocument {
    PolicyDocument::parse_trust(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A 2012-10-17 document with the given statement(s) (object or array text).
fn statements(body: &str) -> PolicyDocument {
    doc(&format!(r#"{{"Version":"2012-10-17","Statement":{body}}}"#))
}

fn allow(action: &str, resource: &str) -> PolicyDocument {
    statements(&format!(
        r#"{{"Effect":"Allow","Action":{action},"Resource":{resource}}}"#
    ))
}

fn ask(policies: &[&PolicyDocument], action: &str) -> Decision {
    ask_on(policies, action, "*")
}

fn ask_on(policies: &[&PolicyDocument], action: &str, resource: &str) -> Decision {
    evaluate(
        policies,
        &Request {
            action,
            resource,
            context: &[],
        },
    )
}

fn ask_ctx(policies: &[&PolicyDocument], action: &str, context: &[(&str, &str)]) -> Decision {
    evaluate(
        policies,
        &Request {
            action,
            resource: "*",
            context,
        },
    )
}

use Decision::{Allow, ExplicitDeny, ImplicitDeny};

// ---------------------------------------------------------------- wildcards

#[test]
fn action_wildcard_star_suffix() {
    let p = allow(r#""aws-portal:View*""#, r#""*""#);
    assert_eq!(ask(&[&p], "aws-portal:ViewBilling"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ViewAccount"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ViewPaymentMethods"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ModifyBilling"), ImplicitDeny);
    assert_eq!(ask(&[&p], "billing:ViewBilling"), ImplicitDeny);
}

#[test]
fn action_wildcard_everything() {
    let p = allow(r#""*""#, r#""*""#);
    for action in [
        "aws-portal:ModifyAccount",
        "iam:CreateUser",
        "tax:PutTaxRegistration",
    ] {
        assert_eq!(ask(&[&p], action), Allow, "{action}");
    }
    let service = allow(r#""tax:*""#, r#""*""#);
    assert_eq!(ask(&[&service], "tax:PutTaxRegistration"), Allow);
    assert_eq!(ask(&[&service], "taxes:PutTaxRegistration"), ImplicitDeny);
}

#[test]
fn action_wildcard_question_mark_and_inner_star() {
    let p = allow(
        r#"["aws-portal:View?illing", "aws-portal:*Payment*"]"#,
        r#""*""#,
    );
    assert_eq!(ask(&[&p], "aws-portal:ViewBilling"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ViewXBilling"), ImplicitDeny);
    assert_eq!(ask(&[&p], "aws-portal:ViewPaymentMethods"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ModifyPaymentMethods"), Allow);
}

#[test]
fn actions_ignore_case() {
    let p = allow(r#""AWS-Portal:viewbilling""#, r#""*""#);
    assert_eq!(ask(&[&p], "aws-portal:ViewBilling"), Allow);
    assert_eq!(ask(&[&p], "AWS-PORTAL:VIEWBILLING"), Allow);
}

#[test]
fn resources_are_case_sensitive_with_wildcards() {
    let p = allow(
        r#""purchase-orders:GetPurchaseOrder""#,
        r#""arn:aws:purchase-orders::123456789012:purchase-order/PO-*""#,
    );
    let arn = |id: &str| format!("arn:aws:purchase-orders::{ACCOUNT}:purchase-order/{id}");
    assert_eq!(
        ask_on(&[&p], "purchase-orders:GetPurchaseOrder", &arn("PO-1")),
        Allow
    );
    assert_eq!(
        ask_on(&[&p], "purchase-orders:GetPurchaseOrder", &arn("po-1")),
        ImplicitDeny
    );
    assert_eq!(
        ask_on(
            &[&p],
            "purchase-orders:GetPurchaseOrder",
            &format!("arn:aws:purchase-orders::{OTHER}:purchase-order/PO-1")
        ),
        ImplicitDeny
    );
    // A `*` resource pattern spans `:` and `/`.
    let any_po = allow(
        r#""purchase-orders:*""#,
        r#""arn:aws:purchase-orders::*:*""#,
    );
    assert_eq!(
        ask_on(&[&any_po], "purchase-orders:GetPurchaseOrder", &arn("a/b")),
        Allow
    );
    let prefix = allow(r#""purchase-orders:*""#, r#""arn:aws:purchase-orders*""#);
    assert_eq!(
        ask_on(&[&prefix], "purchase-orders:GetPurchaseOrder", &arn("x")),
        Allow
    );
    assert_eq!(
        PolicyDocument::parse(&with_statement(
            r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3::x"}"#
        ))
        .unwrap_err()
        .message(),
        "The policy failed legacy parsing"
    );
}

// ---------------------------------------------------------- Not* elements

#[test]
fn not_action_allows_everything_else() {
    let p = statements(
        r#"{"Effect":"Allow","NotAction":["aws-portal:Modify*","account:*"],"Resource":"*"}"#,
    );
    assert_eq!(ask(&[&p], "aws-portal:ViewBilling"), Allow);
    assert_eq!(ask(&[&p], "iam:GetUser"), Allow);
    assert_eq!(ask(&[&p], "aws-portal:ModifyBilling"), ImplicitDeny);
    assert_eq!(ask(&[&p], "account:CloseAccount"), ImplicitDeny);
}

#[test]
fn deny_with_not_action_denies_everything_else() {
    let admin = allow(r#""*""#, r#""*""#);
    let only_reads =
        statements(r#"{"Effect":"Deny","NotAction":"aws-portal:View*","Resource":"*"}"#);
    assert_eq!(ask(&[&admin, &only_reads], "aws-portal:ViewAccount"), Allow);
    assert_eq!(
        ask(&[&admin, &only_reads], "aws-portal:ModifyAccount"),
        ExplicitDeny
    );
}

#[test]
fn not_resource() {
    let p = statements(
        r#"{"Effect":"Allow","Action":"purchase-orders:*","NotResource":"arn:aws:purchase-orders::123456789012:purchase-order/secret*"}"#,
    );
    let arn = |id: &str| format!("arn:aws:purchase-orders::{ACCOUNT}:purchase-order/{id}");
    assert_eq!(
        ask_on(&[&p], "purchase-orders:GetPurchaseOrder", &arn("PO-1")),
        Allow
    );
    assert_eq!(
        ask_on(&[&p], "purchase-orders:GetPurchaseOrder", &arn("secret-1")),
        ImplicitDeny
    );
    assert_eq!(
        ask_on(&[&p], "purchase-orders:ListPurchaseOrders", "*"),
        Allow
    );
}

// ------------------------------------------------------ deny and no-allow

#[test]
fn explicit_deny_beats_allow_across_policies() {
    let admin = allow(r#""*""#, r#""*""#);
    let deny = statements(r#"{"Effect":"Deny","Action":"aws-portal:Modify*","Resource":"*"}"#);
    assert_eq!(
        ask(&[&admin, &deny], "aws-portal:ModifyBilling"),
        ExplicitDeny
    );
    assert_eq!(
        ask(&[&deny, &admin], "aws-portal:ModifyBilling"),
        ExplicitDeny
    );
    assert_eq!(ask(&[&admin, &deny], "aws-portal:ViewBilling"), Allow);
    // Within one policy too, whatever the statement order.
    let both = statements(
        r#"[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"tax:*","Resource":"*"},{"Effect":"Allow","Action":"tax:*","Resource":"*"}]"#,
    );
    assert_eq!(ask(&[&both], "tax:GetExemptions"), ExplicitDeny);
}

#[test]
fn implicit_deny() {
    assert_eq!(ask(&[], "aws-portal:ViewBilling"), ImplicitDeny);
    let s3 = allow(r#""s3:*""#, r#""*""#);
    assert_eq!(ask(&[&s3], "aws-portal:ViewBilling"), ImplicitDeny);
    let deny_only = statements(r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#);
    assert_eq!(ask(&[&deny_only], "aws-portal:ViewBilling"), ImplicitDeny);
}

// ------------------------------------------------------- session policies

#[test]
fn session_policy_intersects_with_identity() {
    let admin = managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    let reads = allow(r#"["aws-portal:View*","billing:Get*"]"#, r#""*""#);
    let req = |action| Request {
        action,
        resource: "*",
        context: &[],
    };
    assert_eq!(
        evaluate_with_session(&[admin], &[&reads], &req("aws-portal:ViewBilling")),
        Allow
    );
    assert_eq!(
        evaluate_with_session(&[admin], &[&reads], &req("billing:GetBillingData")),
        Allow
    );
    // The identity allows the write; the session does not.
    assert_eq!(
        evaluate_with_session(&[admin], &[&reads], &req("aws-portal:ModifyBilling")),
        ImplicitDeny
    );
    let outcome = evaluate_detailed(&[admin], Some(&[&reads]), &req("aws-portal:ModifyBilling"));
    assert_eq!(outcome.policy_type, Some(PolicyType::Session));
    // The session allows; the identity does not.
    let billing_reader = allow(r#""aws-portal:ViewBilling""#, r#""*""#);
    let everything = allow(r#""*""#, r#""*""#);
    let outcome = evaluate_detailed(
        &[&billing_reader],
        Some(&[&everything]),
        &req("iam:CreateUser"),
    );
    assert_eq!(outcome.decision, ImplicitDeny);
    assert_eq!(outcome.policy_type, Some(PolicyType::Identity));
}

#[test]
fn session_policy_deny_and_empty_session() {
    let admin = allow(r#""*""#, r#""*""#);
    let deny = statements(
        r#"[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"account:*","Resource":"*"}]"#,
    );
    let req = |action| Request {
        action,
        resource: "*",
        context: &[],
    };
    let outcome = evaluate_detailed(&[&admin], Some(&[&deny]), &req("account:CloseAccount"));
    assert_eq!(outcome.decision, ExplicitDeny);
    assert_eq!(outcome.policy_type, Some(PolicyType::Session));
    assert_eq!(
        evaluate_with_session(&[&admin], &[&deny], &req("tax:GetExemptions")),
        Allow
    );
    // A federated user without session policies has no permissions.
    assert_eq!(
        evaluate_with_session(&[&admin], &[], &req("tax:GetExemptions")),
        ImplicitDeny
    );
    // Without session policies at all, evaluate() is the identity answer.
    assert_eq!(evaluate(&[&admin], &req("tax:GetExemptions")), Allow);
}

#[test]
fn several_session_policies_form_one_policy_type() {
    let admin = allow(r#""*""#, r#""*""#);
    let tax = allow(r#""tax:*""#, r#""*""#);
    let billing = allow(r#""billing:*""#, r#""*""#);
    let req = |action| Request {
        action,
        resource: "*",
        context: &[],
    };
    assert_eq!(
        evaluate_with_session(&[&admin], &[&tax, &billing], &req("tax:GetExemptions")),
        Allow
    );
    assert_eq!(
        evaluate_with_session(&[&admin], &[&tax, &billing], &req("billing:GetCredits")),
        Allow
    );
    assert_eq!(
        evaluate_with_session(&[&admin], &[&tax, &billing], &req("account:CloseAccount")),
        ImplicitDeny
    );
}

#[test]
fn access_denied_messages() {
    let reads = allow(r#""aws-portal:View*""#, r#""*""#);
    let req = Request {
        action: "aws-portal:ModifyBilling",
        resource: "*",
        context: &[],
    };
    let arn = "arn:aws:iam::123456789012:user/alice";
    let outcome = evaluate_detailed(&[&reads], None, &req);
    assert_eq!(
        outcome.denied_message(arn, &req).unwrap(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: aws-portal:ModifyBilling on resource: * because no identity-based policy allows the aws-portal:ModifyBilling action"
    );
    let deny = statements(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    let outcome = evaluate_detailed(&[&reads, &deny], None, &req);
    assert_eq!(
        outcome.reason(req.action).unwrap(),
        "with an explicit deny in an identity-based policy"
    );
    let ok = evaluate_detailed(&[&allow(r#""*""#, r#""*""#)], None, &req);
    assert_eq!(ok.decision, Allow);
    assert_eq!(ok.denied_message(arn, &req), None);
}

// ------------------------------------------------------------- conditions

#[test]
fn condition_string_equals_username() {
    let p = statements(
        r#"{"Effect":"Allow","Action":"aws-portal:ViewBilling","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}"#,
    );
    assert_eq!(
        ask_ctx(
            &[&p],
            "aws-portal:ViewBilling",
            &[("aws:username", "alice")]
        ),
        Allow
    );
    assert_eq!(
        ask_ctx(
            &[&p],
            "aws-portal:ViewBilling",
            &[("aws:username", "Alice")]
        ),
        ImplicitDeny
    );
    assert_eq!(
        ask_ctx(&[&p], "aws-portal:ViewBilling", &[("aws:username", "bob")]),
        ImplicitDeny
    );
    assert_eq!(ask_ctx(&[&p], "aws-portal:ViewBilling", &[]), ImplicitDeny);
    // Keys are case-insensitive.
    assert_eq!(
        ask_ctx(
            &[&p],
            "aws-portal:ViewBilling",
            &[("AWS:UserName", "alice")]
        ),
        Allow
    );
}

#[test]
fn condition_bool_mfa() {
    let admin = allow(r#""*""#, r#""*""#);
    // The usual "deny writes without MFA" guard.
    let mfa_guard = statements(
        r#"{"Effect":"Deny","Action":"aws-portal:Modify*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#,
    );
    let with = [("aws:MultiFactorAuthPresent", "true")];
    let without = [("aws:MultiFactorAuthPresent", "false")];
    assert_eq!(
        ask_ctx(&[&admin, &mfa_guard], "aws-portal:ModifyBilling", &with),
        Allow
    );
    assert_eq!(
        ask_ctx(&[&admin, &mfa_guard], "aws-portal:ModifyBilling", &without),
        ExplicitDeny
    );
    // Long-term keys carry no MFA key at all: IfExists makes the deny apply.
    assert_eq!(
        ask_ctx(&[&admin, &mfa_guard], "aws-portal:ModifyBilling", &[]),
        ExplicitDeny
    );
    assert_eq!(
        ask_ctx(&[&admin, &mfa_guard], "aws-portal:ViewBilling", &without),
        Allow
    );
    // An allow that requires MFA (JSON boolean accepted as the value).
    let needs_mfa = statements(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}"#,
    );
    assert_eq!(ask_ctx(&[&needs_mfa], "tax:GetExemptions", &with), Allow);
    assert_eq!(
        ask_ctx(&[&needs_mfa], "tax:GetExemptions", &without),
        ImplicitDeny
    );
    assert_eq!(
        ask_ctx(&[&needs_mfa], "tax:GetExemptions", &[]),
        ImplicitDeny
    );
}

#[test]
fn conditions_are_anded_and_values_ored() {
    let p = statements(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
            "StringLike":{"aws:username":["a*","b*"]},
            "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},
            "StringEquals":{"aws:PrincipalAccount":"123456789012"}}}"#,
    );
    let ctx = |user: &'static str, arn: &'static str, acct: &'static str| {
        [
            ("aws:username", user),
            ("aws:PrincipalArn", arn),
            ("aws:PrincipalAccount", acct),
        ]
    };
    let user_arn = "arn:aws:iam::123456789012:user/bob";
    assert_eq!(
        ask_ctx(&[&p], "tax:GetExemptions", &ctx("bob", user_arn, ACCOUNT)),
        Allow
    );
    assert_eq!(
        ask_ctx(&[&p], "tax:GetExemptions", &ctx("carol", user_arn, ACCOUNT)),
        ImplicitDeny
    );
    assert_eq!(
        ask_ctx(&[&p], "tax:GetExemptions", &ctx("bob", user_arn, OTHER)),
        ImplicitDeny
    );
    assert_eq!(
        ask_ctx(
            &[&p],
            "tax:GetExemptions",
            &ctx("bob", "arn:aws:iam::123456789012:role/r", ACCOUNT)
        ),
        ImplicitDeny
    );
}

#[test]
fn condition_string_not_equals_and_source_ip() {
    let p = statements(
        r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}}"#,
    );
    let admin = allow(r#""*""#, r#""*""#);
    assert_eq!(
        ask_ctx(
            &[&admin, &p],
            "tax:GetExemptions",
            &[("aws:SourceIp", "192.0.2.10")]
        ),
        Allow
    );
    assert_eq!(
        ask_ctx(
            &[&admin, &p],
            "tax:GetExemptions",
            &[("aws:SourceIp", "2001:db8::5")]
        ),
        Allow
    );
    assert_eq!(
        ask_ctx(
            &[&admin, &p],
            "tax:GetExemptions",
            &[("aws:SourceIp", "198.51.100.1")]
        ),
        ExplicitDeny
    );
    let not_bob = statements(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:username":"bob"}}}"#,
    );
    assert_eq!(
        ask_ctx(
            &[&not_bob],
            "tax:GetExemptions",
            &[("aws:username", "alice")]
        ),
        Allow
    );
    assert_eq!(
        ask_ctx(&[&not_bob], "tax:GetExemptions", &[("aws:username", "bob")]),
        ImplicitDeny
    );
}

#[test]
fn policy_variables_in_resources() {
    let p = statements(
        r#"{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}"#,
    );
    let alice = [("aws:username", "alice")];
    let req = |resource, context| Request {
        action: "iam:CreateAccessKey",
        resource,
        context,
    };
    assert_eq!(
        evaluate(&[&p], &req("arn:aws:iam::123456789012:user/alice", &alice)),
        Allow
    );
    assert_eq!(
        evaluate(&[&p], &req("arn:aws:iam::123456789012:user/bob", &alice)),
        ImplicitDeny
    );
    assert_eq!(
        evaluate(&[&p], &req("arn:aws:iam::123456789012:user/alice", &[])),
        ImplicitDeny
    );
    // 2008-10-17 has no variables: the text is literal.
    let old = doc(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}"#,
    );
    assert_eq!(old.version(), PolicyVersion::V2008);
    assert_eq!(
        evaluate(
            &[&old],
            &req("arn:aws:iam::123456789012:user/alice", &alice)
        ),
        ImplicitDeny
    );
    assert_eq!(
        evaluate(
            &[&old],
            &req("arn:aws:iam::123456789012:user/${aws:username}", &alice)
        ),
        Allow
    );
}

#[test]
fn unknown_operators_are_refused_and_empty_ones_ignored() {
    let e = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}}"#,
    )
    .unwrap_err();
    assert_eq!(e.message(), "Syntax errors in policy.");
    let p = statements(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{}}}"#,
    );
    assert_eq!(ask(&[&p], "tax:GetExemptions"), Allow);
}

// ---------------------------------------------------------- trust policies

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const BOB: &str = "arn:aws:iam::123456789012:user/bob";
const ROOT: &str = "arn:aws:iam::123456789012:root";

fn trust_for(principal: &str) -> PolicyDocument {
    trust(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
    ))
}

#[test]
fn trust_account_root_arn_delegates_to_the_account() {
    let t = trust_for(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#);
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::Account);
    assert_eq!(trust_allows(&t, ROOT, ACCOUNT, &[]), TrustMatch::Principal);
    assert_eq!(
        trust_allows(&t, "arn:aws:iam::210987654321:user/eve", OTHER, &[]),
        TrustMatch::No
    );
}

#[test]
fn trust_bare_account_id_is_the_account_root() {
    let t = trust_for(r#"{"AWS":"123456789012"}"#);
    assert_eq!(trust_allows(&t, BOB, ACCOUNT, &[]), TrustMatch::Account);
    assert_eq!(trust_allows(&t, ROOT, ACCOUNT, &[]), TrustMatch::Principal);
    assert_eq!(
        trust_allows(&t, "arn:aws:iam::210987654321:root", OTHER, &[]),
        TrustMatch::No
    );
}

#[test]
fn trust_names_a_user() {
    let t = trust_for(r#"{"AWS":["arn:aws:iam::123456789012:user/alice"]}"#);
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::Principal);
    assert_eq!(trust_allows(&t, BOB, ACCOUNT, &[]), TrustMatch::No);
    // Cross-account user named exactly.
    let t = trust_for(r#"{"AWS":"arn:aws:iam::210987654321:user/eve"}"#);
    assert_eq!(
        trust_allows(&t, "arn:aws:iam::210987654321:user/eve", OTHER, &[]),
        TrustMatch::Principal
    );
}

#[test]
fn trust_names_a_role_and_its_sessions() {
    let t = trust_for(r#"{"AWS":"arn:aws:iam::123456789012:role/ops/Deployer"}"#);
    let session = "arn:aws:sts::123456789012:assumed-role/Deployer/ci-42";
    assert_eq!(
        trust_allows(&t, session, ACCOUNT, &[]),
        TrustMatch::Principal
    );
    let other_role = "arn:aws:sts::123456789012:assumed-role/Auditor/x";
    assert_eq!(trust_allows(&t, other_role, ACCOUNT, &[]), TrustMatch::No);
    let other_account = "arn:aws:sts::210987654321:assumed-role/Deployer/x";
    assert_eq!(trust_allows(&t, other_account, OTHER, &[]), TrustMatch::No);
}

#[test]
fn trust_everyone_still_needs_the_callers_own_permission() {
    let t = trust_for(r#""*""#);
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::Account);
    let t = trust_for(r#"{"AWS":"*"}"#);
    assert_eq!(
        trust_allows(&t, "arn:aws:iam::210987654321:user/eve", OTHER, &[]),
        TrustMatch::Account
    );
}

#[test]
fn trust_service_and_federated_principals() {
    let t = trust_for(r#"{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]}"#);
    assert_eq!(
        trust_allows(&t, "lambda.amazonaws.com", "", &[]),
        TrustMatch::Principal
    );
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::No);
    let saml = "arn:aws:iam::123456789012:saml-provider/Okta";
    let t = trust(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"Federated":"{saml}"}},"Action":"sts:AssumeRoleWithSAML"}}}}"#
    ));
    assert_eq!(
        trust_allows(&t, saml, ACCOUNT, &[]),
        TrustMatch::No,
        "AssumeRole is not AssumeRoleWithSAML"
    );
    assert_eq!(
        trust_allows_action(&t, "sts:AssumeRoleWithSAML", saml, ACCOUNT, &[]),
        TrustMatch::Principal
    );
}

#[test]
fn trust_deny_and_conditions() {
    let t = trust(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole",
             "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"sts:ExternalId":"x-1"}}},
            {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:*"}]}"#,
    );
    let good = [
        ("aws:MultiFactorAuthPresent", "true"),
        ("sts:ExternalId", "x-1"),
    ];
    let no_mfa = [
        ("aws:MultiFactorAuthPresent", "false"),
        ("sts:ExternalId", "x-1"),
    ];
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &good), TrustMatch::Account);
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &no_mfa), TrustMatch::No);
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::No);
    assert_eq!(
        trust_allows(&t, BOB, ACCOUNT, &good),
        TrustMatch::No,
        "explicit deny wins"
    );
}

#[test]
fn trust_not_principal_deny() {
    let t = trust(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"},
            {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::Account);
    assert_eq!(trust_allows(&t, BOB, ACCOUNT, &[]), TrustMatch::No);
}

#[test]
fn trust_statement_for_another_action_does_not_count() {
    let t = trust(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:TagSession"}}"#,
    );
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::No);
    assert_eq!(
        trust_allows_action(&t, "sts:TagSession", ALICE, ACCOUNT, &[]),
        TrustMatch::Account
    );
}

#[test]
fn trust_principals_are_listed_for_existence_checks() {
    let t = trust_for(
        r#"{"AWS":["123456789012","arn:aws:iam::123456789012:user/alice"],"Service":"ec2.amazonaws.com"}"#,
    );
    let listed: Vec<_> = t.aws_principals().collect();
    assert_eq!(
        listed,
        ["123456789012", "arn:aws:iam::123456789012:user/alice"]
    );
}

#[test]
fn organization_account_access_role_trust_policy() {
    // What Organizations writes into a new member account's role.
    let t = trust(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert_eq!(
        trust_allows(
            &t,
            "arn:aws:iam::111111111111:user/admin",
            "111111111111",
            &[]
        ),
        TrustMatch::Account
    );
    assert_eq!(trust_allows(&t, ALICE, ACCOUNT, &[]), TrustMatch::No);
}

// ------------------------------------------------------ malformed documents

fn parse_err(text: &str) -> PolicyError {
    PolicyDocument::parse(text).expect_err(text)
}

fn with_statement(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":{body}}}"#)
}

#[test]
fn malformed_documents_get_iams_messages() {
    let syntax = "Syntax errors in policy.";
    let cases: &[(&str, &str)] = &[
        ("not json", syntax),
        ("", syntax),
        ("[]", syntax),
        (r#"{"Version":"2012-10-17"}"#, syntax),
        (r#"{"Version":"2012-10-17","Statement":[]}"#, syntax),
        (r#"{"Version":"2012-10-17","Statement":"x"}"#, syntax),
        (r#"{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, syntax),
        (r#"{"Version":"2012-10-17","Extra":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, syntax),
        (r#"{"Version":"2012-10-17","Id":5,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, syntax),
        (&with_statement(r#"{"Effect":"Permit","Action":"*","Resource":"*"}"#), syntax),
        (&with_statement(r#"{"Action":"*","Resource":"*"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":5,"Resource":"*"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":["s3:*",1],"Resource":"*"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","Bogus":1}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":{}}}}"#), syntax),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","Sid":1}"#), syntax),
        (
            &with_statement(r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}"#),
            "Policy document should not specify a principal.",
        ),
        (&with_statement(r#"{"Effect":"allow","Action":"*","Resource":"*"}"#), "The policy failed legacy parsing"),
        (
            &with_statement(r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}"#),
            "The policy failed legacy parsing",
        ),
        (
            &with_statement(r#"[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]"#),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            &with_statement(r#"{"Sid":"not ok","Effect":"Allow","Action":"*","Resource":"*"}"#),
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ),
        (&with_statement(r#"{"Effect":"Allow","Resource":"*"}"#), "Policy statement must contain actions."),
        (&with_statement(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), "Policy statement must contain actions."),
        (&with_statement(r#"{"Effect":"Allow","Action":"*"}"#), "Policy statement must contain resources."),
        (&with_statement(r#"{"Effect":"Allow","Action":"*","Resource":[]}"#), "Policy statement must contain resources."),
        (
            &with_statement(r#"{"Effect":"Allow","Action":"ViewBilling","Resource":"*"}"#),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            &with_statement(r#"{"Effect":"Allow","Action":"aws-portal:View:Billing","Resource":"*"}"#),
            "Actions/Condition can contain only one colon.",
        ),
        (
            &with_statement(r#"{"Effect":"Allow","Action":"aws-portal:ViewBilling","Resource":"billing"}"#),
            "Resource billing must be in ARN format or \"*\".",
        ),
    ];
    for (text, message) in cases {
        let e = parse_err(text);
        assert_eq!(e.message(), *message, "{text}");
        assert_eq!(e.code(), "MalformedPolicyDocument");
        assert_eq!(e.to_string(), *message);
    }
}

#[test]
fn managed_policies_need_the_current_version() {
    let old = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    assert!(
        PolicyDocument::parse(old).is_ok(),
        "inline policies may omit Version"
    );
    assert_eq!(
        PolicyDocument::parse_managed(old).unwrap_err().message(),
        "Policy document must be version 2012-10-17 or greater."
    );
    let old =
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    assert!(PolicyDocument::parse_managed(old).is_err());
}

#[test]
fn trust_policy_errors() {
    let cases = [
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
            "Has prohibited field Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
            "Missing required field Principal",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"iam:PassRole"}}"#,
            "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}}"#,
            r#"Invalid principal in policy: "AWS":"alice""#,
        ),
    ];
    for (text, message) in cases {
        let e = PolicyDocument::parse_trust(text).expect_err(text);
        assert_eq!(e.message(), message, "{text}");
    }
    // An old-style trust policy without Version is fine.
    trust(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    );
}

#[test]
fn documents_keep_their_text_and_size() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}\n}";
    let d = doc(text);
    assert_eq!(d.text(), text);
    assert_eq!(d.len(), text.chars().filter(|c| !c.is_whitespace()).count());
    assert_eq!(d.statement_count(), 1);
    assert!(d.len() <= limits::USER_INLINE_POLICIES);
}

// -------------------------------------------------------- managed policies

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const BILLING: &str = "arn:aws:iam::aws:policy/job-function/Billing";
const BILLING_READ_ONLY: &str = "arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess";

#[test]
fn administrator_access_allows_everything() {
    let admin = managed_policy(ADMIN).unwrap();
    assert_eq!(ask(&[admin], "aws-portal:ModifyAccount"), Allow);
    assert_eq!(ask(&[admin], "account:CloseAccount"), Allow);
    assert_eq!(ask(&[admin], "iam:CreateUser"), Allow);
}

#[test]
fn billing_read_only_access() {
    let p = managed_policy(BILLING_READ_ONLY).unwrap();
    assert_eq!(ask(&[p], "aws-portal:ViewBilling"), Allow);
    assert_eq!(ask(&[p], "billing:GetBillingData"), Allow);
    assert_eq!(ask(&[p], "aws-portal:ModifyBilling"), ImplicitDeny);
    assert_eq!(ask(&[p], "aws-portal:ViewAccount"), ImplicitDeny);
    assert_eq!(ask(&[p], "tax:PutTaxRegistration"), ImplicitDeny);
}

#[test]
fn read_only_access_denies_writes() {
    let p = managed_policy(READ_ONLY).unwrap();
    for read in [
        "aws-portal:ViewBilling",
        "aws-portal:ViewAccount",
        "iam:GetUser",
        "iam:ListAccessKeys",
        "cloudtrail:LookupEvents",
        "organizations:DescribeOrganization",
        "tax:GetExemptions",
        "sts:GetCallerIdentity",
    ] {
        assert_eq!(ask(&[p], read), Allow, "{read}");
    }
    for write in [
        "aws-portal:ModifyBilling",
        "aws-portal:ModifyAccount",
        "account:PutContactInformation",
        "iam:CreateUser",
        "iam:PutUserPolicy",
        "tax:PutTaxRegistration",
        "purchase-orders:AddPurchaseOrder",
        "organizations:CreateAccount",
        "cloudtrail:CreateTrail",
    ] {
        assert_eq!(ask(&[p], write), ImplicitDeny, "{write}");
    }
}

#[test]
fn billing_job_function() {
    let p = managed_policy(BILLING).unwrap();
    for allowed in [
        "aws-portal:ViewBilling",
        "aws-portal:ModifyBilling",
        "aws-portal:ModifyPaymentMethods",
        "aws-portal:ViewUsage",
        "purchase-orders:AddPurchaseOrder",
        "tax:PutTaxRegistration",
        "cur:PutReportDefinition",
        "ce:UpdateCostAllocationTagsStatus",
        "payments:UpdatePaymentPreferences",
        "billing:UpdateIAMAccessPreference",
    ] {
        assert_eq!(ask(&[p], allowed), Allow, "{allowed}");
    }
    for denied in [
        "aws-portal:ModifyAccount",
        "account:CloseAccount",
        "account:PutContactInformation",
        "iam:CreateUser",
    ] {
        assert_eq!(ask(&[p], denied), ImplicitDeny, "{denied}");
    }
}

#[test]
fn managed_policy_catalogue() {
    let arns = managed_policy_arns();
    for required in [ADMIN, READ_ONLY, BILLING, BILLING_READ_ONLY] {
        assert!(arns.contains(&required), "{required}");
    }
    for arn in arns {
        let d = managed_policy(arn).unwrap_or_else(|| panic!("{arn} does not parse"));
        assert_eq!(d.version(), PolicyVersion::V2012);
        let info = managed_policy_info(arn).unwrap();
        assert_eq!(info.arn, *arn);
        assert!(arn.ends_with(&format!(
            "{}{}",
            info.path.trim_start_matches('/'),
            info.name
        )));
        assert!(info.version_id.starts_with('v'));
    }
    assert_eq!(managed_policy_info(BILLING).unwrap().path, "/job-function/");
    assert!(managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
    assert!(managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess").is_none());
}
