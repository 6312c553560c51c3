//! Identities over real HTTP: temporary credentials expire, the IAM-access-to-billing gate, and
//! the records each kind of identity leaves.

use billtrail_auth::credentials::{AccessKeyRecord, ACCESS_KEY_KIND};
use billtrail_auth::SecretKey;
use billtrail_server::{start, RawConfig, Running};
use billtrail_store::Key;
use serde_json::{json, Value};
use time::OffsetDateTime;

struct Creds {
    akid: String,
    secret: SecretKey,
    token: Option<String>,
}

struct World {
    _dir: tempfile::TempDir,
    running: Running,
    http: reqwest::Client,
    root: Creds,
}

struct Reply {
    status: u16,
    text: String,
}

fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .expect("field in answer");
    let end = xml[start..].find(&format!("</{tag}>")).expect("closed") + start;
    xml[start..end].to_string()
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut raw = RawConfig::default();
        raw.server.listen = "127.0.0.1:0".into();
        let running = start(raw.validate(dir.path().to_path_buf()).expect("config"))
            .await
            .expect("start");
        let text =
            std::fs::read_to_string(dir.path().join("aws/credentials")).expect("credentials");
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = ")))
                .expect("key")
                .to_string()
        };
        let root = Creds {
            akid: get("aws_access_key_id"),
            secret: SecretKey::new(get("aws_secret_access_key")),
            token: None,
        };
        World {
            _dir: dir,
            running,
            http: reqwest::Client::new(),
            root,
        }
    }

    async fn send(&self, c: &Creds, service: &str, target: Option<&str>, body: String) -> Reply {
        let url = format!("http://127.0.0.1:{}/", self.running.addr.port());
        let mut headers = http::HeaderMap::new();
        let ct = if target.is_some() {
            "application/x-amz-json-1.1"
        } else {
            "application/x-www-form-urlencoded"
        };
        headers.insert("content-type", ct.parse().expect("header"));
        if let Some(t) = target {
            headers.insert("x-amz-target", t.parse().expect("header"));
        }
        let signed = billtrail_auth::sigv4::sign(
            "POST",
            &url,
            &headers,
            body.as_bytes(),
            &c.akid,
            &c.secret,
            c.token.as_deref(),
            "us-east-1",
            service,
            OffsetDateTime::now_utc(),
        )
        .expect("sign");
        let mut req = self.http.post(&url).headers(headers).body(body);
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("response");
        Reply {
            status: resp.status().as_u16(),
            text: resp.text().await.expect("body"),
        }
    }

    async fn query(&self, c: &Creds, service: &str, form: &str) -> Reply {
        let version = if service == "iam" {
            "2010-05-08"
        } else {
            "2011-06-15"
        };
        self.send(c, service, None, format!("{form}&Version={version}"))
            .await
    }

    async fn billing(&self, c: &Creds, op: &str, body: Value) -> Reply {
        self.send(
            c,
            "billingconsole",
            Some(&format!("AWSBillingConsoleService.{op}")),
            body.to_string(),
        )
        .await
    }

    async fn records(&self, event_name: &str) -> Vec<Value> {
        let body = json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}]});
        let r = self
            .send(
                &self.root,
                "cloudtrail",
                Some("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
                body.to_string(),
            )
            .await;
        let v: Value = serde_json::from_str(&r.text).expect("json");
        v["Events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                serde_json::from_str(e["CloudTrailEvent"].as_str().expect("record")).expect("json")
            })
            .collect()
    }

    /// An IAM user with an inline allow-everything policy, and its key.
    async fn admin_user(&self, name: &str) -> Creds {
        assert_eq!(
            self.query(
                &self.root,
                "iam",
                &format!("Action=CreateUser&UserName={name}")
            )
            .await
            .status,
            200
        );
        let policy = percent_encoding::utf8_percent_encode(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let r = self
            .query(
                &self.root,
                "iam",
                &format!(
                    "Action=PutUserPolicy&UserName={name}&PolicyName=all&PolicyDocument={policy}"
                ),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let k = self
            .query(
                &self.root,
                "iam",
                &format!("Action=CreateAccessKey&UserName={name}"),
            )
            .await;
        Creds {
            akid: xml_field(&k.text, "AccessKeyId"),
            secret: SecretKey::new(xml_field(&k.text, "SecretAccessKey")),
            token: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_expire() {
    let w = World::new().await;
    let alice = w.admin_user("alice").await;
    let r = w
        .query(&alice, "sts", "Action=GetSessionToken&DurationSeconds=900")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let session = Creds {
        akid: xml_field(&r.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&r.text, "SecretAccessKey")),
        token: Some(xml_field(&r.text, "SessionToken")),
    };
    assert!(session.akid.starts_with("ASIA"));
    let who = w.query(&session, "sts", "Action=GetCallerIdentity").await;
    assert!(who.text.contains(":user/alice"), "{}", who.text);
    // Without its token, or with another one, the key is refused.
    let tokenless = Creds {
        token: None,
        secret: session.secret.clone(),
        akid: session.akid.clone(),
    };
    assert_eq!(
        w.query(&tokenless, "sts", "Action=GetCallerIdentity")
            .await
            .status,
        403
    );
    // Fifteen minutes later (moved in the store rather than waited for):
    let akid = session.akid.clone();
    w.running
        .env
        .store
        .transact(move |t| {
            let key = Key::global(ACCESS_KEY_KIND, &akid);
            let mut rec: AccessKeyRecord = t.get(&key)?.expect("stored");
            if let Some(s) = rec.session.as_mut() {
                s.expires = OffsetDateTime::now_utc().unix_timestamp() - 1;
            }
            t.put(&key, &rec)
        })
        .await
        .expect("expire");
    let r = w.query(&session, "sts", "Action=GetCallerIdentity").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("<Code>ExpiredToken</Code>"), "{}", r.text);
    let r = w.billing(&session, "GetAddresses", json!({})).await;
    assert!(r.text.contains("ExpiredTokenException"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_users_are_kept_out_of_billing_until_root_lets_them_in() {
    let w = World::new().await;
    let alice = w.admin_user("alice").await;
    let r = w.billing(&alice, "GetAddresses", json!({})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("AccessDeniedException"), "{}", r.text);
    // Only root may open the gate, even for an administrator.
    let r = w
        .billing(
            &alice,
            "SetIAMAccessPreference",
            json!({"iamAccessEnabled": true}),
        )
        .await;
    assert!(r.text.contains("AccessDenied"), "{}", r.text);
    assert_eq!(
        w.billing(
            &w.root,
            "SetIAMAccessPreference",
            json!({"iamAccessEnabled": true})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        w.billing(&alice, "GetAddresses", json!({})).await.status,
        200
    );
    // A user without a policy allowing billing is still denied.
    assert_eq!(
        w.query(&w.root, "iam", "Action=CreateUser&UserName=bob")
            .await
            .status,
        200
    );
    let k = w
        .query(&w.root, "iam", "Action=CreateAccessKey&UserName=bob")
        .await;
    let bob = Creds {
        akid: xml_field(&k.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&k.text, "SecretAccessKey")),
        token: None,
    };
    assert!(w
        .billing(&bob, "GetAddresses", json!({}))
        .await
        .text
        .contains("AccessDeniedException"));
    // An explicit deny wins over the allow.
    let deny = percent_encoding::utf8_percent_encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"aws-portal:View*","Resource":"*"}]}"#,
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let r = w
        .query(
            &w.root,
            "iam",
            &format!("Action=PutUserPolicy&UserName=alice&PolicyName=deny&PolicyDocument={deny}"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(w
        .billing(&alice, "GetAddresses", json!({}))
        .await
        .text
        .contains("AccessDeniedException"));
    // Both outcomes are recorded, with the IAM user's identity.
    let records = w.records("GetAddresses").await;
    let by_alice: Vec<&Value> = records
        .iter()
        .filter(|r| r["userIdentity"]["userName"] == "alice")
        .collect();
    assert_eq!(by_alice.len(), 3);
    let codes: Vec<Option<&str>> = by_alice.iter().map(|r| r["errorCode"].as_str()).collect();
    assert_eq!(
        codes,
        [
            Some("AccessDeniedException"),
            None,
            Some("AccessDeniedException")
        ]
    );
    let id = &by_alice[0]["userIdentity"];
    assert_eq!(id["type"], "IAMUser");
    assert_eq!(id["accessKeyId"], alice.akid);
    assert!(id["principalId"]
        .as_str()
        .expect("principal")
        .starts_with("AIDA"));
    assert!(id["arn"].as_str().expect("arn").ends_with(":user/alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_users_are_bounded_by_their_session_policy() {
    let w = World::new().await;
    let alice = w.admin_user("alice").await;
    assert_eq!(
        w.billing(
            &w.root,
            "SetIAMAccessPreference",
            json!({"iamAccessEnabled": true})
        )
        .await
        .status,
        200
    );
    let read_only = percent_encoding::utf8_percent_encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aws-portal:ViewBilling","Resource":"*"}]}"#,
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let r = w
        .query(
            &alice,
            "sts",
            &format!("Action=GetFederationToken&Name=fed-bob&Policy={read_only}"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fed = Creds {
        akid: xml_field(&r.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&r.text, "SecretAccessKey")),
        token: Some(xml_field(&r.text, "SessionToken")),
    };
    assert_eq!(w.billing(&fed, "GetAddresses", json!({})).await.status, 200);
    let r = w
        .billing(&fed, "SetContactAddress", json!({"fullName": "F", "addressLine1": "1", "city": "Paris", "postalCode": "75001", "countryCode": "FR", "phoneNumber": "+33 1"}))
        .await;
    assert!(r.text.contains("AccessDeniedException"), "{}", r.text);
    // Without a policy a federation token has no permissions at all.
    let r = w
        .query(&alice, "sts", "Action=GetFederationToken&Name=fed-none")
        .await;
    let none = Creds {
        akid: xml_field(&r.text, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&r.text, "SecretAccessKey")),
        token: Some(xml_field(&r.text, "SessionToken")),
    };
    assert!(w
        .billing(&none, "GetAddresses", json!({}))
        .await
        .text
        .contains("AccessDeniedException"));
    let rec = w
        .records("GetAddresses")
        .await
        .into_iter()
        .find(|r| r["userIdentity"]["type"] == "FederatedUser" && r.get("errorCode").is_none())
        .expect("the federated call's record");
    let id = &rec["userIdentity"];
    assert!(id["arn"]
        .as_str()
        .expect("arn")
        .ends_with(":federated-user/fed-bob"));
    assert_eq!(id["sessionContext"]["sessionIssuer"]["userName"], "alice");
    assert_eq!(
        id["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    // The session token never reaches a record.
    let sts = w.records("GetFederationToken").await;
    assert!(!sts
        .iter()
        .any(|r| r.to_string().contains(fed.token.as_deref().expect("token"))));
}
