//! The server over real HTTP, in-process: signed calls, their records, and every way a request
//! can be wrong.

use std::path::Path;

use billtrail_auth::SecretKey;
use billtrail_server::{start, RawConfig, Running};
use serde_json::{json, Value};
use time::OffsetDateTime;

const BC: &str = "AWSBillingConsoleService";
const CT: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

struct Harness {
    _dir: tempfile::TempDir,
    running: Running,
    http: reqwest::Client,
    scheme: &'static str,
    akid: String,
    secret: SecretKey,
}

fn credentials(data_dir: &Path) -> (String, SecretKey) {
    let text = std::fs::read_to_string(data_dir.join("aws/credentials")).expect("credentials file");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} = ")))
            .expect("key in credentials")
            .to_string()
    };
    (
        get("aws_access_key_id"),
        SecretKey::new(get("aws_secret_access_key")),
    )
}

async fn harness_with(mut raw: RawConfig, http: reqwest::Client, scheme: &'static str) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    raw.server.listen = "127.0.0.1:0".into();
    let config = raw.validate(dir.path().to_path_buf()).expect("config");
    let running = start(config).await.expect("server starts");
    let (akid, secret) = credentials(dir.path());
    Harness {
        _dir: dir,
        running,
        http,
        scheme,
        akid,
        secret,
    }
}

async fn harness() -> Harness {
    harness_with(RawConfig::default(), reqwest::Client::new(), "http").await
}

struct Reply {
    status: u16,
    request_id: Option<String>,
    body: Value,
}

impl Harness {
    fn url(&self) -> String {
        format!("{}://localhost:{}/", self.scheme, self.running.addr.port())
    }

    /// A JSON 1.1 call signed at `when` with `secret`.
    async fn call_as(
        &self,
        service: &str,
        target: &str,
        body: &[u8],
        secret: &SecretKey,
        when: OffsetDateTime,
    ) -> Reply {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-amz-json-1.1".parse().expect("header"),
        );
        headers.insert("x-amz-target", target.parse().expect("header"));
        let signed = billtrail_auth::sigv4::sign(
            "POST",
            &self.url(),
            &headers,
            body,
            &self.akid,
            secret,
            None,
            "us-east-1",
            service,
            when,
        )
        .expect("sign");
        let mut req = self
            .http
            .post(self.url())
            .headers(headers)
            .body(body.to_vec());
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("response");
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            request_id,
            body,
        }
    }

    async fn call(&self, service: &str, target: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.call_as(
            service,
            target,
            &bytes,
            &self.secret,
            OffsetDateTime::now_utc(),
        )
        .await
    }

    async fn billing(&self, op: &str, body: Value) -> Reply {
        self.call("billingconsole", &format!("{BC}.{op}"), body)
            .await
    }

    async fn lookup(&self, body: Value) -> Reply {
        self.call("cloudtrail", &format!("{CT}.LookupEvents"), body)
            .await
    }

    /// The records of `event_name`, newest first.
    async fn records(&self, event_name: &str) -> Vec<Value> {
        let r = self
            .lookup(json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}]}))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["Events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                serde_json::from_str(e["CloudTrailEvent"].as_str().expect("record")).expect("json")
            })
            .collect()
    }
}

fn seed_address() -> Value {
    json!({"website": "https://amazon.com", "city": "Seattle", "postalCode": "98108", "fullName": "Jane Doe",
        "phoneNumber": "206-555-0100", "countryCode": "US", "addressLine1": "Nowhere Estates",
        "addressLine2": "100 Main Street", "company": "AnyCompany", "state": "Washington",
        "addressLine3": "Anytown, USA", "secondaryPhone": "206-555-0101"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_and_its_record() {
    let h = harness().await;
    let r = h.billing("SetContactAddress", seed_address()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body, json!({}));
    let got = h.billing("GetAddresses", json!({})).await;
    assert_eq!(got.body["contactAddress"]["city"], "Seattle");
    let records = h.records("SetContactAddress").await;
    assert_eq!(records.len(), 1);
    let rec = &records[0];
    assert_eq!(
        rec["requestID"].as_str(),
        r.request_id.as_deref(),
        "requestID is the x-amzn-RequestId"
    );
    assert_eq!(rec["requestParameters"]["districtOrCounty"], Value::Null);
    assert_eq!(rec["requestParameters"]["fullName"], "Jane Doe");
    assert_eq!(rec["userIdentity"]["accessKeyId"], h.akid);
    assert_eq!(rec["userIdentity"]["type"], "Root");
    assert!(
        rec.get("tlsDetails").is_none(),
        "plain HTTP has no tlsDetails"
    );
    let lookups = h.records("LookupEvents").await;
    assert!(!lookups.is_empty(), "lookups are recorded");
    assert_eq!(lookups[0]["eventSource"], "cloudtrail.amazonaws.com");
    assert_eq!(lookups[0]["readOnly"], true);
    assert_eq!(
        lookups[0]["requestParameters"]["lookupAttributes"][0]["attributeKey"],
        "EventName"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_changes_nothing_and_is_recorded() {
    let h = harness().await;
    assert_eq!(
        h.billing("SetContactAddress", seed_address()).await.status,
        200
    );
    // Passes the model, breaks a domain rule: the state must stay as it was.
    let mut bad = seed_address();
    bad["state"] = json!("Atlantis");
    bad["city"] = json!("Nowhere");
    let r = h.billing("SetContactAddress", bad).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["__type"], "ValidationException");
    assert!(r.request_id.is_some());
    // Fails the model (a required member missing).
    let r = h.billing("SetContactAddress", json!({"city": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["__type"], "ValidationException");
    assert!(r.body["message"]
        .as_str()
        .expect("message")
        .contains("Member must not be null"));
    let got = h.billing("GetAddresses", json!({})).await;
    assert_eq!(
        got.body["contactAddress"]["city"], "Seattle",
        "no state change from failed calls"
    );
    let records = h.records("SetContactAddress").await;
    assert_eq!(records.len(), 3);
    let codes: Vec<&str> = records
        .iter()
        .filter_map(|r| r["errorCode"].as_str())
        .collect();
    assert_eq!(codes, ["ValidationException", "ValidationException"]);
    assert!(records[0]["errorMessage"].as_str().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_a_record_or_the_disk() {
    let h = harness().await;
    let password = "Sup3r-Secret-Passw0rd!";
    // The current password is unknown (generated), so the change is refused, and recorded.
    let r = h
        .billing(
            "SetAccountPreferences",
            json!({"password": password, "currentPassword": "Wrong-Guess-123"}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let records = h.records("SetAccountPreferences").await;
    assert_eq!(
        records[0]["requestParameters"]["password"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    assert_eq!(
        records[0]["requestParameters"]["currentPassword"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    h.running.env.store.flush().await.expect("flush");
    for entry in walk(h._dir.path()) {
        let bytes = std::fs::read(&entry).expect("read");
        for needle in [password.as_bytes(), b"Wrong-Guess-123".as_slice()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds a password in clear",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_keys_and_dates_are_refused() {
    let h = harness().await;
    let body = b"{}";
    let target = format!("{BC}.GetAddresses");
    let wrong = SecretKey::new("wrongwrongwrongwrongwrongwrongwrong00000");
    let r = h
        .call_as(
            "billingconsole",
            &target,
            body,
            &wrong,
            OffsetDateTime::now_utc(),
        )
        .await;
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
    let old = OffsetDateTime::now_utc() - time::Duration::minutes(16);
    let r = h
        .call_as("billingconsole", &target, body, &h.secret, old)
        .await;
    assert_eq!(r.body["__type"], "InvalidSignatureException");
    assert!(r.body["message"]
        .as_str()
        .expect("message")
        .starts_with("Signature expired"));
    let unknown = Harness {
        akid: "AKIAIOSFODNN7EXAMPLE".into(),
        ..harness().await
    };
    let r = unknown.billing("GetAddresses", json!({})).await;
    assert_eq!(r.body["__type"], "UnrecognizedClientException");
    let r = h
        .http
        .post(h.url())
        .header("x-amz-target", &target)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["__type"], "MissingAuthenticationTokenException");
    // None of these reached an operation, so none is recorded.
    assert!(h.records("GetAddresses").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors() {
    let h = harness().await;
    let r = h
        .call(
            "billingconsole",
            &format!("{BC}.NoSuchOperation"),
            json!({}),
        )
        .await;
    assert_eq!(r.body["__type"], "UnknownOperationException");
    // Made-up operation names never become metrics labels (they would grow without bound).
    let metrics = h
        .http
        .get(format!("{}metrics", h.url()))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics.contains("UnknownOperationException") && !metrics.contains("NoSuchOperation"),
        "{metrics}"
    );
    let r = h
        .call("billingconsole", &format!("{CT}.LookupEvents"), json!({}))
        .await;
    assert_eq!(
        r.body["__type"], "UnknownOperationException",
        "target of another service"
    );
    let r = h
        .call_as(
            "billingconsole",
            &format!("{BC}.SetContactAddress"),
            b"{\"city\": ",
            &h.secret,
            OffsetDateTime::now_utc(),
        )
        .await;
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let r = h
        .billing("SetContactAddress", json!({"city": ["not", "a", "string"]}))
        .await;
    assert_eq!(r.body["__type"], "SerializationException");
    // Far more than socket buffers hold: the client is still sending when the answer is ready,
    // and gets it only because the server reads the rest of the body first.
    let big = vec![b' '; 8 * 1024 * 1024];
    let r = h
        .call_as(
            "billingconsole",
            &format!("{BC}.GetAddresses"),
            &big,
            &h.secret,
            OffsetDateTime::now_utc(),
        )
        .await;
    assert_eq!(r.status, 413);
    let r = h.lookup(json!({"MaxResults": 51})).await;
    assert_eq!(r.status, 400);
    let r = h
        .lookup(json!({"StartTime": 2_000_000_000, "EndTime": 1_000_000_000}))
        .await;
    assert_eq!(r.body["__type"], "InvalidTimeRangeException");
    let r = h.lookup(json!({"NextToken": "forged"})).await;
    assert_eq!(r.body["__type"], "InvalidNextTokenException");
    // The failed SetContactAddress calls that reached the operation are recorded.
    let recs = h.records("SetContactAddress").await;
    assert_eq!(recs.len(), 2);
    assert_eq!(
        recs[1]["requestParameters"],
        Value::Null,
        "an unreadable body records no parameters"
    );
}

/// A tiny deterministic generator, so that a failing case can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_malformed_bodies_get_client_errors() {
    let h = harness().await;
    let mut rng = Rng(0x5eed_b111);
    let pieces: [&[u8]; 12] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"null",
        b"1e999",
        b"\"city\"",
        b"{\"countryCode\":",
        b"\\u0000",
    ];
    let ops = [
        (format!("{BC}.SetContactAddress"), "billingconsole"),
        (format!("{BC}.ValidateAddress"), "billingconsole"),
        (format!("{CT}.LookupEvents"), "cloudtrail"),
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..10_000 {
        let mut body = Vec::new();
        match i % 3 {
            // Random bytes; the first is never valid JSON.
            0 => {
                body.push(0xff);
                (0..rng.below(64)).for_each(|_| body.push(rng.next() as u8));
            }
            // JSON-like fragments, never an object at the top.
            1 => {
                body.push(b'[');
                (0..rng.below(16))
                    .for_each(|_| body.extend_from_slice(pieces[rng.below(pieces.len())]));
            }
            _ => {
                // Well-formed JSON with members every target operation refuses.
                let v = match rng.below(4) {
                    0 => {
                        json!({"LookupAttributes": [{"AttributeKey": "Nope", "AttributeValue": ""}], "MaxResults": rng.next(), "address": []})
                    }
                    1 => json!({"fullName": 1, "address": "x", "StartTime": "yesterday"}),
                    2 => json!({"address": {"addressLine1": [], "countryCode": {}}, "EndTime": []}),
                    _ => {
                        json!({"city": "x".repeat(rng.below(5000)), "address": 7, "MaxResults": "many"})
                    }
                };
                body = serde_json::to_vec(&v).expect("json");
            }
        }
        let (target, service) = &ops[rng.below(ops.len())];
        let r = h
            .call_as(service, target, &body, &h.secret, OffsetDateTime::now_utc())
            .await;
        assert!(
            (400..500).contains(&r.status),
            "case {i}: status {} for {:?}",
            r.status,
            String::from_utf8_lossy(&body)
        );
        assert!(r.body["__type"].is_string(), "case {i}: AWS error shape");
        *statuses
            .entry(r.body["__type"].as_str().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    assert!(statuses.len() >= 2, "{statuses:?}");
    let health = h
        .http
        .get(format!("{}health", h.url()))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_calls_record_tls_details() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let dir = tempfile::tempdir().expect("tmp");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).expect("write key");
    let mut raw = RawConfig::default();
    raw.server.tls_cert = cert_path.display().to_string();
    raw.server.tls_key = key_path.display().to_string();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("pem"),
        )
        .build()
        .expect("client");
    let h = harness_with(raw, http, "https").await;
    assert_eq!(h.billing("GetAddresses", json!({})).await.status, 200);
    let rec = &h.records("GetAddresses").await[0];
    let tls = &rec["tlsDetails"];
    assert!(
        tls["tlsVersion"]
            .as_str()
            .expect("version")
            .starts_with("TLSv1."),
        "{tls}"
    );
    assert!(!tls["cipherSuite"].as_str().expect("cipher").is_empty());
    assert_eq!(
        tls["clientProvidedHostHeader"],
        format!("localhost:{}", h.running.addr.port())
    );
    let config = std::fs::read_to_string(h._dir.path().join("aws/config")).expect("config");
    assert!(
        config.contains("endpoint_url = https://127.0.0.1:"),
        "{config}"
    );
}
