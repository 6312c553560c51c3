//! The policy parsers and evaluators never panic, whatever text they are given.
//!
//! 10,000 documents: random text, randomly generated policies (mostly
//! well-formed, some not) and mutations of real ones (the shipped AWS managed
//! policies and hand-written examples). Every one goes through all three
//! parsers; every one that parses is evaluated against random requests and
//! trust checks, and a few invariants of the decision logic are checked on it.

use billtrail_auth::policy::{
    evaluate, evaluate_detailed, evaluate_with_session, managed_policy, managed_policy_arns,
    trust_allows, trust_allows_action, Decision, PolicyDocument, Request, TrustMatch,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const DOCUMENTS: usize = 10_000;

const ACTIONS: &[&str] = &[
    "*",
    "aws-portal:ViewBilling",
    "aws-portal:View*",
    "aws-portal:ModifyAccount",
    "aws-portal:*Billing",
    "tax:Get*",
    "tax:PutTaxRegistration",
    "purchase-orders:*",
    "sts:AssumeRole",
    "sts:*",
    "iam:Get?ser",
    "account:CloseAccount",
];

const BAD_ACTIONS: &[&str] = &[
    "ViewBilling",
    "a:b:c",
    "*:Get*",
    "s_3:Get",
    "",
    ":",
    "sts:AssumeRoleWithSAML",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:purchase-orders::123456789012:purchase-order/PO-1",
    "arn:aws:purchase-orders::123456789012:purchase-order/*",
    "arn:aws:iam::123456789012:user/${aws:username}",
    "arn:aws:iam::*:user/${aws:PrincipalTag/team, 'x'}",
    "arn:aws:iam::123456789012:user/${*}${?}${$}",
    "arn:aws:cur:us-east-1:123456789012:definition/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:ec2:*",
];

const BAD_RESOURCES: &[&str] = &[
    "arn:aws:s3::x",
    "arn:foo:s3:::b",
    "bucket",
    "arn:aws:iam:us-east-1:123456789012:user/x",
    "arn:aws:iam::123456789012:bogus",
    "arn:${",
    "",
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLikeIfExists",
    "StringEqualsIgnoreCase",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "Bool",
    "BoolIfExists",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "DateGreaterThan",
    "DateLessThan",
    "IpAddress",
    "NotIpAddress",
    "ArnLike",
    "ArnNotEquals",
    "BinaryEquals",
    "Null",
];

const BAD_OPERATORS: &[&str] = &["StringEqualz", "ForAnyValue:"];

const KEYS: &[&str] = &[
    "aws:username",
    "aws:MultiFactorAuthPresent",
    "aws:SourceIp",
    "aws:PrincipalArn",
    "aws:CurrentTime",
    "aws:TagKeys",
    "aws:MultiFactorAuthAge",
    "sts:ExternalId",
];

const BAD_KEYS: &[&str] = &["username", ""];

const VALUES: &[&str] = &[
    "alice",
    "a*",
    "true",
    "false",
    "3600",
    "-1e308",
    "NaN",
    "2024-01-01T00:00:00Z",
    "2024-13-45",
    "1700000000",
    "99999999999999999999999",
    "192.0.2.0/24",
    "2001:db8::/129",
    "::ffff:192.0.2.1",
    "arn:aws:iam::*:user/*",
    "${aws:username}",
    "${",
    "",
];

const PRINCIPALS: &[&str] = &[
    "*",
    "123456789012",
    "arn:aws:iam::123456789012:root",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::123456789012:role/path/Deployer",
    "arn:aws:sts::123456789012:assumed-role/Deployer/s",
];

const BAD_PRINCIPALS: &[&str] = &[
    "arn:aws:iam::123456789012:user/*",
    "ec2.amazonaws.com",
    "alice",
    "",
];

const TRUST_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:*",
    "sts:TagSession",
    "STS:assumerole",
];

const CALLERS: &[(&str, &str)] = &[
    ("arn:aws:iam::123456789012:user/alice", "123456789012"),
    ("arn:aws:iam::123456789012:root", "123456789012"),
    (
        "arn:aws:sts::123456789012:assumed-role/Deployer/s",
        "123456789012",
    ),
    (
        "arn:aws:sts::210987654321:assumed-role/Deployer/s",
        "210987654321",
    ),
    ("arn:aws:iam::210987654321:user/eve", "210987654321"),
    ("ec2.amazonaws.com", ""),
    ("", ""),
    ("arn:aws:sts::123456789012:assumed-role/", "123456789012"),
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or("")
}

/// Mostly from `good`, now and then from `bad`.
fn pick2<'a>(rng: &mut StdRng, good: &[&'a str], bad: &[&'a str]) -> &'a str {
    if rng.gen_bool(0.03) {
        pick(rng, bad)
    } else {
        pick(rng, good)
    }
}

fn one_or_many(rng: &mut StdRng, good: &[&str], bad: &[&str]) -> Value {
    if rng.gen_bool(0.5) {
        Value::String(pick2(rng, good, bad).to_owned())
    } else {
        let n = if rng.gen_bool(0.03) {
            0
        } else {
            rng.gen_range(1..4)
        };
        Value::Array(
            (0..n)
                .map(|_| Value::String(pick2(rng, good, bad).to_owned()))
                .collect(),
        )
    }
}

fn junk(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..6) {
        0 => Value::Null,
        1 => json!(rng.gen::<i64>()),
        2 => json!(rng.gen::<bool>()),
        3 => json!({}),
        4 => json!([[1], {"a": null}]),
        _ => json!(rng.gen::<f64>()),
    }
}

fn random_statement(rng: &mut StdRng, trust: bool) -> Value {
    let mut s = Map::new();
    if rng.gen_bool(0.2) {
        s.insert(
            "Sid".into(),
            json!(pick2(rng, &["", "B1"], &["not ok", "A", "A"])),
        );
    }
    let effect = if rng.gen_bool(0.97) {
        pick(rng, &["Allow", "Deny"])
    } else {
        pick(rng, &["allow", "Permit", ""])
    };
    if rng.gen_bool(0.97) {
        s.insert("Effect".into(), json!(effect));
    }
    let action_key = if rng.gen_bool(0.8) {
        "Action"
    } else {
        "NotAction"
    };
    if rng.gen_bool(0.95) {
        let actions = if trust {
            one_or_many(rng, TRUST_ACTIONS, ACTIONS)
        } else {
            one_or_many(rng, ACTIONS, BAD_ACTIONS)
        };
        s.insert(action_key.into(), actions);
    }
    if !trust || rng.gen_bool(0.05) {
        let key = if rng.gen_bool(0.8) {
            "Resource"
        } else {
            "NotResource"
        };
        if rng.gen_bool(0.95) {
            s.insert(key.into(), one_or_many(rng, RESOURCES, BAD_RESOURCES));
        }
    }
    if trust || rng.gen_bool(0.05) {
        let key = if rng.gen_bool(0.9) {
            "Principal"
        } else {
            "NotPrincipal"
        };
        let value = match rng.gen_range(0..20) {
            0..=2 => json!("*"),
            3..=12 => json!({ "AWS": one_or_many(rng, PRINCIPALS, BAD_PRINCIPALS) }),
            13..=15 => {
                json!({ "Service": pick2(rng, &["ec2.amazonaws.com", "lambda.amazonaws.com"], BAD_PRINCIPALS) })
            }
            16..=18 => {
                json!({ "AWS": one_or_many(rng, PRINCIPALS, BAD_PRINCIPALS), "Federated": "arn:aws:iam::123456789012:saml-provider/x" })
            }
            _ => junk(rng),
        };
        s.insert(key.into(), value);
    }
    if rng.gen_bool(0.4) {
        let mut blocks = Map::new();
        for _ in 0..rng.gen_range(0..3) {
            let mut block = Map::new();
            for _ in 0..rng.gen_range(0..3) {
                let value = match rng.gen_range(0..40) {
                    0..=3 => json!(rng.gen::<bool>()),
                    4..=7 => json!(rng.gen_range(-5i64..5000)),
                    8 => junk(rng),
                    _ => one_or_many(rng, VALUES, &[]),
                };
                block.insert(pick2(rng, KEYS, BAD_KEYS).into(), value);
            }
            blocks.insert(
                pick2(rng, OPERATORS, BAD_OPERATORS).into(),
                Value::Object(block),
            );
        }
        s.insert("Condition".into(), Value::Object(blocks));
    }
    if rng.gen_bool(0.03) {
        s.insert("Bogus".into(), junk(rng));
    }
    if rng.gen_bool(0.03) {
        return junk(rng);
    }
    Value::Object(s)
}

fn random_document(rng: &mut StdRng) -> String {
    let trust = rng.gen_bool(0.3);
    let mut top = Map::new();
    if rng.gen_bool(0.9) {
        top.insert(
            "Version".into(),
            json!(pick2(
                rng,
                &["2012-10-17", "2012-10-17", "2008-10-17"],
                &["2012-10-18"]
            )),
        );
    }
    if rng.gen_bool(0.1) {
        top.insert(
            "Id".into(),
            if rng.gen_bool(0.5) {
                json!("x")
            } else {
                junk(rng)
            },
        );
    }
    let n = if rng.gen_bool(0.03) {
        0
    } else {
        rng.gen_range(1..4)
    };
    let statements: Vec<Value> = (0..n).map(|_| random_statement(rng, trust)).collect();
    let statement = match (statements.len(), rng.gen_bool(0.3)) {
        (1, true) => statements.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(statements),
    };
    if rng.gen_bool(0.97) {
        top.insert("Statement".into(), statement);
    }
    let value = Value::Object(top);
    if rng.gen_bool(0.5) {
        value.to_string()
    } else {
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

fn random_text(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\"Version\"",
        "\"2012-10-17\"",
        "\"Statement\"",
        "\"Effect\"",
        "\"Allow\"",
        "\"Deny\"",
        "\"Action\"",
        "\"Resource\"",
        "\"*\"",
        "\"Principal\"",
        "\"Condition\"",
        "null",
        "true",
        "1e999",
        "-0",
        " ",
        "\n",
        "\u{0}",
        "é",
        "\u{1F600}",
        "${",
        "\\u0000",
        "\\ud800",
    ];
    let n = rng.gen_range(0..60);
    (0..n).map(|_| pick(rng, PIECES)).collect()
}

fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.gen_range(1..6) {
        if chars.is_empty() {
            chars.push('{');
        }
        let i = rng.gen_range(0..chars.len());
        match rng.gen_range(0..6) {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(
                i,
                *[':', '"', '*', '?', '$', '{', '}', ',', ' ']
                    .choose(rng)
                    .unwrap_or(&'x'),
            ),
            2 => chars.truncate(i),
            3 => {
                let j = rng.gen_range(0..chars.len());
                chars.swap(i, j);
            }
            4 => {
                if let Some(c) = chars.get_mut(i) {
                    *c = c.to_ascii_lowercase();
                }
            }
            _ => {
                let tail: Vec<char> = chars.iter().skip(i).take(20).copied().collect();
                for (k, c) in tail.into_iter().enumerate() {
                    chars.insert(i + k, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn seeds() -> Vec<String> {
    let mut seeds: Vec<String> = managed_policy_arns()
        .iter()
        .filter_map(|arn| managed_policy(arn))
        .filter(|d| d.len() < 20_000)
        .map(|d| d.text().to_owned())
        .collect();
    seeds.extend(
        [
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aws-portal:View*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","NotAction":"tax:Get*","NotResource":"arn:aws:purchase-orders::123456789012:purchase-order/${aws:username}"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/x/Deployer"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"e"}}}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        ]
        .map(str::to_owned),
    );
    seeds
}

fn random_request<'a>(rng: &mut StdRng, context: &'a [(&'a str, &'a str)]) -> Request<'a> {
    Request {
        action: pick(
            rng,
            &[
                "aws-portal:ViewBilling",
                "aws-portal:ModifyAccount",
                "tax:GetExemptions",
                "purchase-orders:GetPurchaseOrder",
                "sts:AssumeRole",
                "iam:GetUser",
                "",
                "ö:*",
            ],
        ),
        resource: pick(
            rng,
            &[
                "*",
                "arn:aws:purchase-orders::123456789012:purchase-order/PO-1",
                "arn:aws:iam::123456789012:user/alice",
                "arn:aws:iam::123456789012:user/*?$",
                "",
            ],
        ),
        context,
    }
}

fn random_context(rng: &mut StdRng) -> Vec<(&'static str, &'static str)> {
    (0..rng.gen_range(0..6))
        .map(|_| (pick(rng, KEYS), pick(rng, VALUES)))
        .collect()
}

#[test]
fn ten_thousand_documents_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x1a3_b111);
    let seeds = seeds();
    let admin = managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    let deny_all = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#,
    )
    .unwrap();

    let (mut identity_ok, mut trust_ok) = (0usize, 0usize);
    let (mut allowed, mut trusted) = (0usize, 0usize);
    for n in 0..DOCUMENTS {
        let text = match n % 10 {
            0..=2 => random_text(&mut rng),
            3..=6 => random_document(&mut rng),
            _ => {
                let seed = seeds.choose(&mut rng).cloned().unwrap_or_default();
                mutate(&mut rng, &seed)
            }
        };

        let _ = PolicyDocument::parse_managed(&text);
        if let Ok(doc) = PolicyDocument::parse(&text) {
            identity_ok += 1;
            assert_eq!(doc.text(), text);
            for _ in 0..3 {
                let context = random_context(&mut rng);
                let req = random_request(&mut rng, &context);
                let alone = evaluate(&[&doc], &req);
                allowed += usize::from(alone == Decision::Allow);
                // A deny-all policy beside it always wins.
                assert_eq!(evaluate(&[&doc, &deny_all], &req), Decision::ExplicitDeny);
                // A session policy that allows everything changes nothing, and
                // so does an identity that allows everything around it as a session.
                assert_eq!(
                    evaluate_with_session(&[&doc], &[admin], &req),
                    alone,
                    "{text}"
                );
                assert_eq!(
                    evaluate_with_session(&[admin], &[&doc], &req),
                    alone,
                    "{text}"
                );
                let detailed = evaluate_detailed(&[&doc], None, &req);
                assert_eq!(detailed.decision, alone);
                assert_eq!(
                    detailed
                        .denied_message("arn:aws:iam::1:user/x", &req)
                        .is_none(),
                    alone == Decision::Allow
                );
            }
        }
        if let Ok(doc) = PolicyDocument::parse_trust(&text) {
            trust_ok += 1;
            let context = random_context(&mut rng);
            for (arn, account) in CALLERS {
                if trust_allows(&doc, arn, account, &context) != TrustMatch::No {
                    trusted += 1;
                }
                let _ = trust_allows_action(&doc, "sts:TagSession", arn, account, &context);
            }
            let _ = doc.aws_principals().count();
        }
    }
    eprintln!(
        "parsed: {identity_ok} identity, {trust_ok} trust of {DOCUMENTS}; {allowed} allows, {trusted} trust matches"
    );
    // The generator must exercise evaluation, not only the error paths.
    assert!(
        identity_ok > 1_000,
        "only {identity_ok} identity documents parsed"
    );
    assert!(trust_ok > 300, "only {trust_ok} trust documents parsed");
    assert!(
        allowed > 100 && trusted > 100,
        "{allowed} allows, {trusted} trust matches"
    );
}

#[test]
fn deeply_nested_and_huge_inputs() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(PolicyDocument::parse(&deep).is_err());
    let deep_object = format!(
        r#"{{"Version":"2012-10-17","Statement":{}{}}}"#,
        "{\"a\":".repeat(5_000),
        "1}".repeat(5_000)
    );
    assert!(PolicyDocument::parse(&deep_object).is_err());
    let many = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":[{}],"Resource":"*"}}}}"#,
        vec!["\"s3:*a*a*a*a*a*a*a*a*a*b\""; 2_000].join(",")
    );
    let doc = PolicyDocument::parse(&many).unwrap();
    let action = format!("s3:{}", "a".repeat(2_000));
    let req = Request {
        action: &action,
        resource: "*",
        context: &[],
    };
    assert_eq!(evaluate(&[&doc], &req), Decision::ImplicitDeny);
}
