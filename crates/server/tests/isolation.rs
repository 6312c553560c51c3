//! Account isolation, attacked at random: principals of three accounts try to read or change
//! each other's state and events through every operation family and through `LookupEvents`
//! with forged, replayed and tampered `NextToken`s. Every answer is checked for any other
//! account's marker, and every account's state is checked at the end.
//!
//! What AWS allows across accounts is allowed here too and not counted as a leak: the
//! management account's Organizations calls over its family, and a role session in a member
//! account (reached by `AssumeRole` from the management account).

use std::collections::BTreeMap;

use billtrail_auth::SecretKey;
use billtrail_server::{start, RawConfig, Running};
use serde_json::{json, Value};
use time::OffsetDateTime;

const BC: &str = "AWSBillingConsoleService";
const CT: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
const ORG: &str = "AWSOrganizationsV20161128";

#[derive(Clone)]
struct Creds {
    name: String,
    account: String,
    akid: String,
    secret: SecretKey,
    token: Option<String>,
}

struct World {
    _dir: tempfile::TempDir,
    running: Running,
    http: reqwest::Client,
    /// `(account, value)` pairs only that account may see: its IAM user ids.
    secrets: std::cell::RefCell<Vec<(String, String)>>,
}

struct Reply {
    status: u16,
    text: String,
}

impl World {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.running.addr.port())
    }

    async fn send(
        &self,
        c: &Creds,
        service: &str,
        target: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", content_type.parse().expect("header"));
        if let Some(t) = target {
            headers.insert("x-amz-target", t.parse().expect("header"));
        }
        let signed = billtrail_auth::sigv4::sign(
            "POST",
            &self.url(),
            &headers,
            &body,
            &c.akid,
            &c.secret,
            c.token.as_deref(),
            "us-east-1",
            service,
            OffsetDateTime::now_utc(),
        )
        .expect("sign");
        let mut req = self.http.post(self.url()).headers(headers).body(body);
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("response");
        Reply {
            status: resp.status().as_u16(),
            text: resp.text().await.expect("body"),
        }
    }

    async fn json(&self, c: &Creds, service: &str, target: &str, body: Value) -> Reply {
        self.send(
            c,
            service,
            Some(target),
            "application/x-amz-json-1.1",
            serde_json::to_vec(&body).expect("json"),
        )
        .await
    }

    async fn query(&self, c: &Creds, service: &str, params: &[(&str, &str)]) -> Reply {
        let version = if service == "iam" {
            "2010-05-08"
        } else {
            "2011-06-15"
        };
        let mut form = form_urlencoded_pairs(params);
        form.push_str(&format!("&Version={version}"));
        self.send(
            c,
            service,
            None,
            "application/x-www-form-urlencoded",
            form.into_bytes(),
        )
        .await
    }
}

fn form_urlencoded_pairs(params: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `<Tag>value</Tag>` from an XML answer.
fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .expect("field in answer");
    let end = xml[start..].find(&close).expect("closed") + start;
    xml[start..end].to_string()
}

/// A tiny deterministic generator, so that a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// What only the account itself may ever read back: its contact address carries it. Attackers
/// never send it, so finding it in an answer cannot be an echo of their own input.
fn marker(account: &str) -> String {
    format!("s3cr3t{account}")
}

/// A user name in the account; attackers name it, so answers may echo it.
fn user(account: &str) -> String {
    format!("u{account}")
}

async fn setup() -> (World, Vec<Creds>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut raw = RawConfig::default();
    raw.server.listen = "127.0.0.1:0".into();
    let running = start(raw.validate(dir.path().to_path_buf()).expect("config"))
        .await
        .expect("start");
    let text = std::fs::read_to_string(dir.path().join("aws/credentials")).expect("credentials");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} = ")))
            .expect("key")
            .to_string()
    };
    let mgmt_account = running.installation.management_account_id.clone();
    let root = Creds {
        name: "root".into(),
        account: mgmt_account.clone(),
        akid: get("aws_access_key_id"),
        secret: SecretKey::new(get("aws_secret_access_key")),
        token: None,
    };
    let w = World {
        _dir: dir,
        running,
        http: reqwest::Client::new(),
        secrets: Default::default(),
    };
    // Two member accounts.
    let mut members = Vec::new();
    for i in 0..2 {
        let r = w
            .json(
                &root,
                "organizations",
                &format!("{ORG}.CreateAccount"),
                json!({"Email": format!("m{i}@example.com"), "AccountName": format!("member{i}")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let id = serde_json::from_str::<Value>(&r.text).expect("json")["CreateAccountStatus"]["Id"]
            .as_str()
            .expect("id")
            .to_string();
        let account = loop {
            let r = w
                .json(
                    &root,
                    "organizations",
                    &format!("{ORG}.DescribeCreateAccountStatus"),
                    json!({"CreateAccountRequestId": id}),
                )
                .await;
            let v: Value = serde_json::from_str(&r.text).expect("json");
            if v["CreateAccountStatus"]["State"] == "SUCCEEDED" {
                break v["CreateAccountStatus"]["AccountId"]
                    .as_str()
                    .expect("account")
                    .to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        members.push(account);
    }
    // An administrator in the management account, allowed into billing.
    w.query(
        &root,
        "iam",
        &[("Action", "CreateUser"), ("UserName", "alice")],
    )
    .await;
    w.query(
        &root,
        "iam",
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "alice"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .await;
    let k = w
        .query(
            &root,
            "iam",
            &[("Action", "CreateAccessKey"), ("UserName", "alice")],
        )
        .await;
    let alice = Creds {
        name: "alice".into(),
        account: mgmt_account.clone(),
        akid: xml_field(&k.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&k.text, "SecretAccessKey")),
        token: None,
    };
    let r = w
        .json(
            &root,
            "billingconsole",
            &format!("{BC}.SetIAMAccessPreference"),
            json!({"iamAccessEnabled": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A role session in each member account.
    let mut principals = vec![root.clone(), alice.clone()];
    for (i, account) in members.iter().enumerate() {
        let arn = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let r = w
            .query(
                &alice,
                "sts",
                &[
                    ("Action", "AssumeRole"),
                    ("RoleArn", &arn),
                    ("RoleSessionName", &format!("s{i}")),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        principals.push(Creds {
            name: format!("role{i}"),
            account: account.clone(),
            akid: xml_field(&r.text, "AccessKeyId"),
            secret: SecretKey::new(xml_field(&r.text, "SecretAccessKey")),
            token: Some(xml_field(&r.text, "SessionToken")),
        });
    }
    let f = w
        .query(
            &alice,
            "sts",
            &[
                ("Action", "GetFederationToken"),
                ("Name", "fed"),
                ("Policy", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
            ],
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);
    principals.push(Creds {
        name: "fed".into(),
        account: mgmt_account.clone(),
        akid: xml_field(&f.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&f.text, "SecretAccessKey")),
        token: Some(xml_field(&f.text, "SessionToken")),
    });
    // Each account's own marked state: a contact address, an IAM user, an access key.
    for p in principals
        .iter()
        .filter(|p| p.name == "root" || p.name.starts_with("role"))
    {
        let m = marker(&p.account);
        let r = w
            .json(
                p,
                "billingconsole",
                &format!("{BC}.SetContactAddress"),
                json!({"fullName": m, "addressLine1": m, "city": m, "postalCode": "75001", "countryCode": "FR", "phoneNumber": "+33 1"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = w
            .query(
                p,
                "iam",
                &[("Action", "CreateUser"), ("UserName", &user(&p.account))],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The user id is the account's own: it may not appear in another account's answers.
        let id = xml_field(&r.text, "UserId");
        let k = w
            .query(
                p,
                "iam",
                &[
                    ("Action", "CreateAccessKey"),
                    ("UserName", &user(&p.account)),
                ],
            )
            .await;
        assert_eq!(k.status, 200, "{}", k.text);
        w.secrets.borrow_mut().push((p.account.clone(), id));
    }
    (w, principals)
}

/// The answers an attempt may legitimately contain about account `other` when made by `p`.
fn allowed_to_see(p: &Creds, other: &str, mgmt: &str) -> bool {
    // The management account sees its family through Organizations (account ids, not state).
    p.account == other || (p.account == mgmt && other == mgmt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cross_account_attempts_leak_nothing() {
    let (w, principals) = setup().await;
    let mgmt = principals[0].account.clone();
    let accounts: Vec<String> = {
        let mut a: Vec<String> = principals.iter().map(|p| p.account.clone()).collect();
        a.sort();
        a.dedup();
        a
    };
    assert_eq!(accounts.len(), 3);
    // Facts about each account an attacker may try to use: user names, key ids, event ids.
    let mut key_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut event_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tokens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &principals {
        let r = w
            .json(
                p,
                "cloudtrail",
                &format!("{CT}.LookupEvents"),
                json!({"MaxResults": 2}),
            )
            .await;
        assert_eq!(r.status, 200, "{}: {}", p.name, r.text);
        let v: Value = serde_json::from_str(&r.text).expect("json");
        for e in v["Events"].as_array().expect("events") {
            event_ids
                .entry(p.account.clone())
                .or_default()
                .push(e["EventId"].as_str().expect("id").into());
            if let Some(k) = e["AccessKeyId"].as_str() {
                key_ids.entry(p.account.clone()).or_default().push(k.into());
            }
        }
        if let Some(t) = v["NextToken"].as_str() {
            tokens.entry(p.account.clone()).or_default().push(t.into());
        }
        key_ids
            .entry(p.account.clone())
            .or_default()
            .push(p.akid.clone());
    }
    let mut rng = Rng(0x15_0a7e_d000_0001);
    let mut attempts = 0u32;
    let mut leaks = Vec::new();
    while attempts < 10_000 {
        let p = rng.pick(&principals).clone();
        let others: Vec<&String> = accounts.iter().filter(|a| **a != p.account).collect();
        let other = (*rng.pick(&others)).clone();
        let foreign_key = rng
            .pick(
                key_ids
                    .get(&other)
                    .map(Vec::as_slice)
                    .unwrap_or(&[String::new()]),
            )
            .clone();
        let foreign_event = rng
            .pick(
                event_ids
                    .get(&other)
                    .map(Vec::as_slice)
                    .unwrap_or(&[String::new()]),
            )
            .clone();
        let reply = match rng.next() % 14 {
            0 => {
                w.json(
                    &p,
                    "billingconsole",
                    &format!("{BC}.GetAddresses"),
                    json!({}),
                )
                .await
            }
            1 => {
                let attrs = rng
                    .pick(&[
                        ("EventId", foreign_event.clone()),
                        ("AccessKeyId", foreign_key.clone()),
                        ("Username", user(&other)),
                        ("EventSource", "billingconsole.amazonaws.com".to_string()),
                        ("EventName", "SetContactAddress".to_string()),
                    ])
                    .clone();
                w.json(
                    &p,
                    "cloudtrail",
                    &format!("{CT}.LookupEvents"),
                    json!({"LookupAttributes": [{"AttributeKey": attrs.0, "AttributeValue": attrs.1}]}),
                )
                .await
            }
            2 => {
                // A token issued to another account, replayed.
                let t = tokens
                    .get(&other)
                    .and_then(|t| t.first())
                    .cloned()
                    .unwrap_or_else(|| "x.y".into());
                w.json(
                    &p,
                    "cloudtrail",
                    &format!("{CT}.LookupEvents"),
                    json!({"NextToken": t, "MaxResults": 2}),
                )
                .await
            }
            3 => {
                // A token of the caller's own, tampered.
                let mut t = tokens
                    .get(&p.account)
                    .and_then(|t| t.first())
                    .cloned()
                    .unwrap_or_else(|| "abc.def".into());
                let i = (rng.next() as usize) % t.len();
                let c = if t.as_bytes()[i] == b'A' { "B" } else { "A" };
                t.replace_range(i..=i, c);
                w.json(
                    &p,
                    "cloudtrail",
                    &format!("{CT}.LookupEvents"),
                    json!({"NextToken": t, "MaxResults": 2}),
                )
                .await
            }
            4 => {
                w.query(
                    &p,
                    "iam",
                    &[("Action", "GetUser"), ("UserName", &user(&other))],
                )
                .await
            }
            5 => w.query(&p, "iam", &[("Action", "ListUsers")]).await,
            6 => {
                w.query(
                    &p,
                    "iam",
                    &[("Action", "ListAccessKeys"), ("UserName", &user(&other))],
                )
                .await
            }
            7 => {
                w.query(
                    &p,
                    "iam",
                    &[
                        ("Action", "UpdateAccessKey"),
                        ("AccessKeyId", &foreign_key),
                        ("Status", "Inactive"),
                    ],
                )
                .await
            }
            8 => {
                w.query(
                    &p,
                    "iam",
                    &[("Action", "DeleteAccessKey"), ("AccessKeyId", &foreign_key)],
                )
                .await
            }
            9 => {
                let arn = format!("arn:aws:iam::{other}:role/OrganizationAccountAccessRole");
                let r = w
                    .query(
                        &p,
                        "sts",
                        &[
                            ("Action", "AssumeRole"),
                            ("RoleArn", &arn),
                            ("RoleSessionName", "probe"),
                        ],
                    )
                    .await;
                // The management account's administrators may enter member accounts: that is AWS's design.
                let sanctioned = p.account == mgmt && p.name != "root" && other != mgmt;
                if r.status == 200 && !sanctioned {
                    leaks.push(format!("{} assumed a role in {other}", p.name));
                }
                r
            }
            10 => {
                w.json(
                    &p,
                    "organizations",
                    &format!("{ORG}.DescribeAccount"),
                    json!({"AccountId": other}),
                )
                .await
            }
            11 => {
                let r = w
                    .json(
                        &p,
                        "organizations",
                        &format!("{ORG}.ListAccounts"),
                        json!({}),
                    )
                    .await;
                if r.status == 200 && p.account != mgmt {
                    leaks.push(format!("{} listed the organization's accounts", p.name));
                }
                r
            }
            12 => {
                // Writes land in the caller's own account only (checked at the end).
                let mine = marker(&p.account);
                w.json(
                    &p,
                    "billingconsole",
                    &format!("{BC}.SetContactAddress"),
                    json!({"fullName": mine, "addressLine1": mine, "city": mine, "postalCode": "75001", "countryCode": "FR", "phoneNumber": "+33 1"}),
                )
                .await
            }
            _ => w.query(&p, "sts", &[("Action", "GetCallerIdentity")]).await,
        };
        attempts += 1;
        assert!(
            reply.status < 500,
            "{}: server error {}",
            p.name,
            reply.text
        );
        for a in &accounts {
            if !allowed_to_see(&p, a, &mgmt) && reply.text.contains(&marker(a)) {
                leaks.push(format!(
                    "{} saw {a}'s address: {}",
                    p.name,
                    &reply.text[..reply.text.len().min(300)]
                ));
            }
        }
        for (a, secret) in w.secrets.borrow().iter() {
            if !allowed_to_see(&p, a, &mgmt) && reply.text.contains(secret.as_str()) {
                leaks.push(format!(
                    "{} saw {a}'s user id: {}",
                    p.name,
                    &reply.text[..reply.text.len().min(300)]
                ));
            }
        }
        if reply.status == 200 && reply.text.contains("\"Events\"") {
            let v: Value = serde_json::from_str(&reply.text).expect("json");
            for e in v["Events"].as_array().into_iter().flatten() {
                let rec: Value =
                    serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap_or("{}"))
                        .unwrap_or_default();
                if rec["recipientAccountId"].as_str() != Some(p.account.as_str()) {
                    leaks.push(format!(
                        "{} read an event of {}",
                        p.name, rec["recipientAccountId"]
                    ));
                }
            }
        }
    }
    // Every account's state is still its own.
    for p in principals
        .iter()
        .filter(|p| p.name == "root" || p.name.starts_with("role"))
    {
        let r = w
            .json(
                p,
                "billingconsole",
                &format!("{BC}.GetAddresses"),
                json!({}),
            )
            .await;
        let v: Value = serde_json::from_str(&r.text).expect("json");
        assert_eq!(
            v["contactAddress"]["city"],
            marker(&p.account),
            "{}'s address",
            p.account
        );
        let r = w
            .query(
                p,
                "iam",
                &[
                    ("Action", "ListAccessKeys"),
                    ("UserName", &user(&p.account)),
                ],
            )
            .await;
        assert!(
            r.text.contains("<Status>Active</Status>"),
            "{}'s key untouched: {}",
            p.account,
            r.text
        );
    }
    eprintln!(
        "isolation: {attempts} randomized cross-account attempts, {} leaks",
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "{} leaks, first: {:?}",
        leaks.len(),
        leaks.first()
    );
}
