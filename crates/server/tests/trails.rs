//! Trails through the real server over HTTP: the trail API with AWS's rules and errors, then
//! delivery of the records to the bucket, read back from the object store.

use std::collections::BTreeMap;
use std::io::Read;

use billtrail_auth::SecretKey;
use billtrail_objects::ObjectStore;
use billtrail_server::{start, RawConfig, Running};
use billtrail_trail::{deliver_once, DeliveryOptions};
use serde_json::{json, Value};
use time::OffsetDateTime;

const BC: &str = "AWSBillingConsoleService";
const CT: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
const BUCKET: &str = "trail-bucket";

struct Harness {
    _dir: tempfile::TempDir,
    running: Running,
    http: reqwest::Client,
    akid: String,
    secret: SecretKey,
    account: String,
}

struct Reply {
    status: u16,
    body: Value,
}

#[derive(Clone)]
struct Creds {
    akid: String,
    secret: SecretKey,
    token: Option<String>,
}

/// `<Tag>value</Tag>` from an XML answer.
fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len()).expect("field");
    let end = xml[start..].find(&format!("</{tag}>")).expect("closed") + start;
    xml[start..end].to_string()
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut raw = RawConfig::default();
        raw.server.listen = "127.0.0.1:0".into();
        // The test delivers by itself; the worker only runs once, at start.
        raw.trail.delivery_interval = "1h".into();
        let config = raw.validate(dir.path().to_path_buf()).expect("config");
        let running = start(config).await.expect("server starts");
        let text =
            std::fs::read_to_string(dir.path().join("aws/credentials")).expect("credentials");
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = ")))
                .expect("key")
                .to_string()
        };
        let account = running.installation.management_account_id.clone();
        Harness {
            akid: get("aws_access_key_id"),
            secret: SecretKey::new(get("aws_secret_access_key")),
            _dir: dir,
            running,
            http: reqwest::Client::new(),
            account,
        }
    }

    fn root(&self) -> Creds {
        Creds {
            akid: self.akid.clone(),
            secret: self.secret.clone(),
            token: None,
        }
    }

    /// A JSON 1.1 call signed for `region` by the root user.
    async fn call_in(&self, region: &str, service: &str, target: &str, body: Value) -> Reply {
        self.json_as(&self.root(), region, service, target, body)
            .await
    }

    /// A signed POST; returns the status and the body.
    async fn send(
        &self,
        c: &Creds,
        region: &str,
        service: &str,
        target: Option<&str>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (u16, String) {
        let url = format!("http://127.0.0.1:{}/", self.running.addr.port());
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", content_type.parse().expect("header"));
        if let Some(t) = target {
            headers.insert("x-amz-target", t.parse().expect("header"));
        }
        let signed = billtrail_auth::sigv4::sign(
            "POST",
            &url,
            &headers,
            &bytes,
            &c.akid,
            &c.secret,
            c.token.as_deref(),
            region,
            service,
            OffsetDateTime::now_utc(),
        )
        .expect("sign");
        let mut req = self.http.post(&url).headers(headers).body(bytes);
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("response");
        (resp.status().as_u16(), resp.text().await.expect("body"))
    }

    /// A JSON 1.1 call by `c`.
    async fn json_as(
        &self,
        c: &Creds,
        region: &str,
        service: &str,
        target: &str,
        body: Value,
    ) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        let (status, text) = self
            .send(
                c,
                region,
                service,
                Some(target),
                "application/x-amz-json-1.1",
                bytes,
            )
            .await;
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// An AWS Query call (IAM, STS) by `c`; returns the XML.
    async fn query_as(&self, c: &Creds, service: &str, params: &[(&str, &str)]) -> String {
        let version = if service == "iam" {
            "2010-05-08"
        } else {
            "2011-06-15"
        };
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let mut form: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        form.push(format!("Version={version}"));
        let (status, text) = self
            .send(
                c,
                "us-east-1",
                service,
                None,
                "application/x-www-form-urlencoded",
                form.join("&").into_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{params:?}: {text}");
        text
    }

    async fn ct(&self, region: &str, op: &str, body: Value) -> Reply {
        self.call_in(region, "cloudtrail", &format!("{CT}.{op}"), body)
            .await
    }

    async fn ok(&self, region: &str, op: &str, body: Value) -> Value {
        let r = self.ct(region, op, body).await;
        assert_eq!(r.status, 200, "{op}: {}", r.body);
        r.body
    }

    async fn fails(&self, region: &str, op: &str, body: Value, code: &str, status: u16) -> String {
        let r = self.ct(region, op, body).await;
        assert_eq!(r.body["__type"], code, "{op}: {}", r.body);
        assert_eq!(r.status, status, "{op}: {}", r.body);
        r.body["message"].as_str().unwrap_or_default().to_string()
    }

    async fn billing(&self, op: &str) -> Reply {
        self.call_in(
            "us-east-1",
            "billingconsole",
            &format!("{BC}.{op}"),
            json!({}),
        )
        .await
    }

    /// The records of `event_name` in `region`, newest first.
    async fn records(&self, region: &str, event_name: &str) -> Vec<Value> {
        let body = self
            .ok(
                region,
                "LookupEvents",
                json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}]}),
            )
            .await;
        body["Events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                serde_json::from_str(e["CloudTrailEvent"].as_str().expect("record")).expect("json")
            })
            .collect()
    }

    async fn deliver(&self) -> billtrail_trail::DeliveryReport {
        let r = deliver_once(
            &self.running.env.store,
            self.running.objects.as_ref(),
            &DeliveryOptions::default(),
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("delivery");
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        r
    }

    /// Every delivered record, by object key.
    async fn delivered(&self) -> BTreeMap<String, Vec<Value>> {
        let objects = billtrail_objects::list_all(self.running.objects.as_ref(), BUCKET, "")
            .await
            .expect("list");
        let mut out = BTreeMap::new();
        for o in objects {
            let body = self
                .running
                .objects
                .get(BUCKET, &o.key)
                .await
                .expect("object")
                .body;
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut json)
                .expect("gzip");
            assert!(json.starts_with(b"{\"Records\":["), "{}", o.key);
            let v: Value = serde_json::from_slice(&json).expect("json");
            out.insert(o.key, v["Records"].as_array().expect("records").clone());
        }
        out
    }

    async fn delivered_ids(&self, event_name: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .delivered()
            .await
            .values()
            .flatten()
            .filter(|r| r["eventName"] == event_name)
            .map(|r| r["eventID"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .map(|r| r["eventID"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trail_api_follows_aws_rules() {
    let h = Harness::new().await;
    let acct = h.account.clone();
    let create = |name: &str| json!({"Name": name, "S3BucketName": BUCKET});

    // The bucket must exist.
    let m = h
        .fails(
            "us-east-1",
            "CreateTrail",
            create("audit"),
            "S3BucketDoesNotExistException",
            404,
        )
        .await;
    assert_eq!(m, format!("S3 bucket {BUCKET} does not exist!"));
    h.running
        .objects
        .create_bucket(BUCKET)
        .await
        .expect("bucket");

    let made = h
        .ok(
            "us-east-1",
            "CreateTrail",
            json!({"Name": "audit", "S3BucketName": BUCKET, "IsMultiRegionTrail": true,
                   "EnableLogFileValidation": true, "S3KeyPrefix": "logs",
                   "TagsList": [{"Key": "team", "Value": "billing"}]}),
        )
        .await;
    let arn = format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/audit");
    assert_eq!(
        made,
        json!({"Name": "audit", "S3BucketName": BUCKET, "S3KeyPrefix": "logs",
               "IncludeGlobalServiceEvents": true, "IsMultiRegionTrail": true, "TrailARN": arn,
               "LogFileValidationEnabled": true, "IsOrganizationTrail": false})
    );
    // Its record: on cloudtrail.amazonaws.com, in the signed region, naming the trail.
    let rec = &h.records("us-east-1", "CreateTrail").await[0];
    assert_eq!(rec["eventSource"], "cloudtrail.amazonaws.com");
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["readOnly"], false);
    assert_eq!(rec["requestParameters"]["isMultiRegionTrail"], true);
    assert_eq!(rec["responseElements"]["trailARN"], arn);
    assert_eq!(
        rec["resources"],
        json!([{"ARN": arn, "accountId": acct, "type": "AWS::CloudTrail::Trail"}])
    );

    // Names, duplicates, combinations.
    h.fails(
        "us-east-1",
        "CreateTrail",
        create("audit"),
        "TrailAlreadyExistsException",
        400,
    )
    .await;
    h.fails(
        "eu-west-1",
        "CreateTrail",
        create("audit"),
        "TrailAlreadyExistsException",
        400,
    )
    .await;
    for bad in ["ab", "-abc", "my--trail", "10.0.0.1", "a b c"] {
        h.fails(
            "us-east-1",
            "CreateTrail",
            create(bad),
            "InvalidTrailNameException",
            400,
        )
        .await;
    }
    let m = h
        .fails(
            "us-east-1",
            "CreateTrail",
            json!({"Name": "x-trail", "S3BucketName": BUCKET, "IsMultiRegionTrail": true,
                   "IncludeGlobalServiceEvents": false}),
            "InvalidParameterCombinationException",
            400,
        )
        .await;
    assert_eq!(m, "Multi-Region trail must include global service events.");
    h.fails(
        "us-east-1",
        "CreateTrail",
        json!({"Name": "x-trail", "S3BucketName": "Bad_Bucket"}),
        "InvalidS3BucketNameException",
        400,
    )
    .await;
    h.fails(
        "us-east-1",
        "CreateTrail",
        json!({"Name": "x-trail", "S3BucketName": BUCKET, "S3KeyPrefix": "a//b"}),
        "InvalidS3PrefixException",
        400,
    )
    .await;
    h.fails(
        "us-east-1",
        "CreateTrail",
        json!({"Name": "x-trail", "S3BucketName": BUCKET, "KmsKeyId": "alias/k"}),
        "KmsKeyNotFoundException",
        400,
    )
    .await;
    h.fails(
        "us-east-1",
        "CreateTrail",
        json!({"Name": "x-trail", "S3BucketName": BUCKET, "IsOrganizationTrail": false,
        "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}),
        "CloudWatchLogsDeliveryUnavailableException",
        400,
    )
    .await;

    // Five trails per region, counting the multi-region one everywhere.
    for n in 1..=4 {
        h.ok("us-east-1", "CreateTrail", create(&format!("east-{n}")))
            .await;
    }
    let m = h
        .fails(
            "us-east-1",
            "CreateTrail",
            create("east-5"),
            "MaximumNumberOfTrailsExceededException",
            403,
        )
        .await;
    assert_eq!(
        m,
        format!("User: {acct} already has 5 trails in us-east-1.")
    );
    h.ok("us-west-2", "CreateTrail", create("west-1")).await;
    h.fails(
        "us-west-2",
        "UpdateTrail",
        json!({"Name": "west-1", "IsMultiRegionTrail": true}),
        "MaximumNumberOfTrailsExceededException",
        403,
    )
    .await;

    // Shadow trails: seen in every region, changed only at home.
    let west = h.ok("us-west-2", "DescribeTrails", json!({})).await;
    let names: Vec<&str> = west["trailList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["Name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 2, "{west}");
    assert!(names.contains(&"audit") && names.contains(&"west-1"));
    let shadow = west["trailList"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["Name"] == "audit")
        .expect("shadow");
    assert_eq!(shadow["HomeRegion"], "us-east-1");
    assert_eq!(shadow["HasCustomEventSelectors"], false);
    assert_eq!(shadow["HasInsightSelectors"], false);
    let own = h
        .ok(
            "us-west-2",
            "DescribeTrails",
            json!({"includeShadowTrails": false}),
        )
        .await;
    assert_eq!(own["trailList"].as_array().expect("list").len(), 1);
    let by_arn = h
        .ok(
            "us-west-2",
            "DescribeTrails",
            json!({"trailNameList": [arn]}),
        )
        .await;
    assert_eq!(by_arn["trailList"][0]["TrailARN"], arn);
    let by_name = h
        .ok(
            "us-west-2",
            "DescribeTrails",
            json!({"trailNameList": ["audit"]}),
        )
        .await;
    assert_eq!(
        by_name["trailList"],
        json!([]),
        "a name means a trail of this region"
    );
    for op in ["StartLogging", "StopLogging", "DeleteTrail"] {
        h.fails(
            "us-west-2",
            op,
            json!({"Name": "audit"}),
            "InvalidHomeRegionException",
            400,
        )
        .await;
        h.fails(
            "us-west-2",
            op,
            json!({"Name": arn}),
            "InvalidHomeRegionException",
            400,
        )
        .await;
    }
    h.fails(
        "us-west-2",
        "UpdateTrail",
        json!({"Name": arn, "S3KeyPrefix": "x"}),
        "InvalidHomeRegionException",
        400,
    )
    .await;
    h.fails(
        "us-west-2",
        "PutEventSelectors",
        json!({"TrailName": arn, "EventSelectors": [{"ReadWriteType": "All"}]}),
        "InvalidHomeRegionException",
        400,
    )
    .await;
    let shadow_status = h
        .ok("us-west-2", "GetTrailStatus", json!({"Name": arn}))
        .await;
    assert_eq!(shadow_status["IsLogging"], false);
    let m = h
        .fails(
            "us-west-2",
            "GetTrail",
            json!({"Name": "audit"}),
            "TrailNotFoundException",
            404,
        )
        .await;
    assert_eq!(
        m,
        format!(
            "Unknown trail: arn:aws:cloudtrail:us-west-2:{acct}:trail/audit for the user: {acct}"
        )
    );
    let got = h.ok("us-west-2", "GetTrail", json!({"Name": arn})).await;
    assert_eq!(got["Trail"]["Name"], "audit");
    let listed = h.ok("eu-west-1", "ListTrails", json!({})).await;
    assert_eq!(listed["Trails"].as_array().expect("trails").len(), 6);

    // Status, selectors, tags.
    let status = h
        .ok("us-east-1", "GetTrailStatus", json!({"Name": "audit"}))
        .await;
    assert_eq!(status["IsLogging"], false);
    assert_eq!(status["TimeLoggingStarted"], "");
    h.ok("us-east-1", "StartLogging", json!({"Name": "audit"}))
        .await;
    let status = h
        .ok("us-east-1", "GetTrailStatus", json!({"Name": arn}))
        .await;
    assert_eq!(status["IsLogging"], true);
    assert!(status["StartLoggingTime"].is_number(), "{status}");
    let sel = h
        .ok(
            "us-east-1",
            "GetEventSelectors",
            json!({"TrailName": "audit"}),
        )
        .await;
    assert_eq!(
        sel,
        json!({"TrailARN": arn, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
               "DataResources": [], "ExcludeManagementEventSources": []}]})
    );
    h.fails(
        "us-east-1",
        "PutEventSelectors",
        json!({"TrailName": "audit"}),
        "InvalidEventSelectorsException",
        400,
    )
    .await;
    let adv = json!([{"Name": "writes", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["false"]}]}]);
    let put = h
        .ok(
            "us-east-1",
            "PutEventSelectors",
            json!({"TrailName": "audit", "AdvancedEventSelectors": adv}),
        )
        .await;
    assert_eq!(put, json!({"TrailARN": arn, "AdvancedEventSelectors": adv}));
    let d = h
        .ok(
            "us-east-1",
            "DescribeTrails",
            json!({"trailNameList": ["audit"]}),
        )
        .await;
    assert_eq!(d["trailList"][0]["HasCustomEventSelectors"], true);
    h.ok(
        "us-east-1",
        "AddTags",
        json!({"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "prod"}]}),
    )
    .await;
    h.ok(
        "us-east-1",
        "RemoveTags",
        json!({"ResourceId": arn, "TagsList": [{"Key": "team"}]}),
    )
    .await;
    let tags = h
        .ok("us-east-1", "ListTags", json!({"ResourceIdList": [arn]}))
        .await;
    assert_eq!(
        tags,
        json!({"ResourceTagList": [{"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "prod"}]}]})
    );
    h.fails(
        "us-west-2",
        "AddTags",
        json!({"ResourceId": arn, "TagsList": [{"Key": "k"}]}),
        "CloudTrailARNInvalidException",
        400,
    )
    .await;
    let many: Vec<Value> = (0..51).map(|i| json!({"Key": format!("k{i}")})).collect();
    h.fails(
        "us-east-1",
        "AddTags",
        json!({"ResourceId": arn, "TagsList": many}),
        "TagsLimitExceededException",
        400,
    )
    .await;

    // Organization trails need an organization's management account: the bootstrap made one.
    let org = h
        .ok(
            "us-east-1",
            "UpdateTrail",
            json!({"Name": "east-1", "IsOrganizationTrail": true}),
        )
        .await;
    assert_eq!(org["IsOrganizationTrail"], true);

    // Deleting.
    h.ok("us-east-1", "DeleteTrail", json!({"Name": "east-4"}))
        .await;
    h.fails(
        "us-east-1",
        "GetTrail",
        json!({"Name": "east-4"}),
        "TrailNotFoundException",
        404,
    )
    .await;
    h.fails(
        "us-east-1",
        "GetTrailStatus",
        json!({"Name": "east-4"}),
        "TrailNotFoundException",
        404,
    )
    .await;
    h.ok("us-east-1", "CreateTrail", create("east-5")).await;
    h.running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_calls_are_delivered_once() {
    let h = Harness::new().await;
    h.running
        .objects
        .create_bucket(BUCKET)
        .await
        .expect("bucket");
    h.ok(
        "us-east-1",
        "CreateTrail",
        json!({"Name": "audit", "S3BucketName": BUCKET, "IsMultiRegionTrail": true,
               "EnableLogFileValidation": true}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(h.billing("GetAddresses").await.status, 200);
    }
    assert_eq!(h.deliver().await.files, 0, "not logging yet");
    h.ok("us-east-1", "StartLogging", json!({"Name": "audit"}))
        .await;
    for _ in 0..5 {
        assert_eq!(h.billing("GetAddresses").await.status, 200);
    }
    h.ok("eu-west-1", "DescribeTrails", json!({})).await;
    let r = h.deliver().await;
    assert!(r.files >= 2, "us-east-1 and eu-west-1: {r:?}");
    let delivered = h.delivered().await;
    let acct = &h.account;
    let key_re = acceptance_key_pattern();
    for key in delivered.keys() {
        assert!(key_re(key), "{key}");
        assert!(
            key.starts_with(&format!("AWSLogs/{acct}/CloudTrail/")),
            "{key}"
        );
    }
    // Exactly the calls made while logging, each once; StartLogging's own record included.
    let logged = h.records("us-east-1", "GetAddresses").await;
    assert_eq!(logged.len(), 8);
    let mut want = ids(&logged[..5]);
    want.sort();
    assert_eq!(h.delivered_ids("GetAddresses").await, want);
    assert_eq!(h.delivered_ids("StartLogging").await.len(), 1);
    assert_eq!(h.delivered_ids("CreateTrail").await.len(), 0);
    assert_eq!(
        h.delivered_ids("DescribeTrails").await.len(),
        1,
        "eu-west-1, multi-region"
    );
    // Delivered records are the stored records, byte for byte.
    let first = delivered
        .values()
        .flatten()
        .find(|r| r["eventName"] == "GetAddresses")
        .expect("one");
    let stored = logged
        .iter()
        .find(|r| r["eventID"] == first["eventID"])
        .expect("stored");
    assert_eq!(first, stored);
    let status = h
        .ok("us-east-1", "GetTrailStatus", json!({"Name": "audit"}))
        .await;
    assert!(status["LatestDeliveryTime"].is_number(), "{status}");
    assert!(status.get("LatestDeliveryError").is_none());

    // Write events only: reads are no longer delivered.
    h.ok(
        "us-east-1",
        "PutEventSelectors",
        json!({"TrailName": "audit", "EventSelectors": [{"ReadWriteType": "WriteOnly"}]}),
    )
    .await;
    h.billing("GetAddresses").await;
    h.ok("us-east-1", "StopLogging", json!({"Name": "audit"}))
        .await;
    h.ok(
        "us-east-1",
        "UpdateTrail",
        json!({"Name": "audit", "S3KeyPrefix": "after-stop"}),
    )
    .await;
    h.deliver().await;
    assert_eq!(
        h.delivered_ids("GetAddresses").await,
        want,
        "the read after WriteOnly is not delivered"
    );
    assert_eq!(h.delivered_ids("PutEventSelectors").await.len(), 1);
    assert_eq!(
        h.delivered_ids("StopLogging").await.len(),
        1,
        "StopLogging's own record is the last one"
    );
    assert_eq!(
        h.delivered_ids("UpdateTrail").await.len(),
        0,
        "after StopLogging"
    );
    // Nothing more to deliver.
    assert_eq!(h.deliver().await.files, 0);
    h.running.stop();
}

/// A member account of the bootstrap organization, and a role session in it.
async fn member_session(h: &Harness) -> (String, Creds) {
    const ORG: &str = "AWSOrganizationsV20161128";
    let r = h
        .call_in(
            "us-east-1",
            "organizations",
            &format!("{ORG}.CreateAccount"),
            json!({"Email": "member@example.com", "AccountName": "member"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["CreateAccountStatus"]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    let member = loop {
        let r = h
            .call_in(
                "us-east-1",
                "organizations",
                &format!("{ORG}.DescribeCreateAccountStatus"),
                json!({"CreateAccountRequestId": id}),
            )
            .await;
        if r.body["CreateAccountStatus"]["State"] == "SUCCEEDED" {
            break r.body["CreateAccountStatus"]["AccountId"]
                .as_str()
                .expect("account")
                .to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The root user cannot assume roles: an administrator can.
    let root = h.root();
    h.query_as(
        &root,
        "iam",
        &[("Action", "CreateUser"), ("UserName", "admin")],
    )
    .await;
    h.query_as(
        &root,
        "iam",
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "admin"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    )
    .await;
    let k = h
        .query_as(
            &root,
            "iam",
            &[("Action", "CreateAccessKey"), ("UserName", "admin")],
        )
        .await;
    let admin = Creds {
        akid: xml_field(&k, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&k, "SecretAccessKey")),
        token: None,
    };
    let role = format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole");
    let s = h
        .query_as(
            &admin,
            "sts",
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", &role),
                ("RoleSessionName", "ops"),
            ],
        )
        .await;
    let session = Creds {
        akid: xml_field(&s, "AccessKeyId"),
        secret: SecretKey::new(xml_field(&s, "SecretAccessKey")),
        token: Some(xml_field(&s, "SessionToken")),
    };
    (member, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_trails_log_every_member() {
    let h = Harness::new().await;
    h.running
        .objects
        .create_bucket(BUCKET)
        .await
        .expect("bucket");
    let (member, session) = member_session(&h).await;
    let mgmt = h.account.clone();
    let ct = |op: &str| format!("{CT}.{op}");

    // Only the management account makes organization trails.
    let r = h
        .json_as(
            &session,
            "us-east-1",
            "cloudtrail",
            &ct("CreateTrail"),
            json!({"Name": "mine", "S3BucketName": BUCKET, "IsOrganizationTrail": true}),
        )
        .await;
    assert_eq!(
        r.body["__type"], "NotOrganizationMasterAccountException",
        "{}",
        r.body
    );
    let made = h
        .ok("us-east-1", "CreateTrail",
            json!({"Name": "org", "S3BucketName": BUCKET, "IsOrganizationTrail": true, "IsMultiRegionTrail": true}))
        .await;
    assert_eq!(made["IsOrganizationTrail"], true);
    let arn = made["TrailARN"].as_str().expect("arn").to_string();
    h.ok("us-east-1", "StartLogging", json!({"Name": "org"}))
        .await;

    // Members see it, read-only.
    let seen = h
        .json_as(
            &session,
            "eu-west-1",
            "cloudtrail",
            &ct("DescribeTrails"),
            json!({}),
        )
        .await;
    assert_eq!(seen.body["trailList"][0]["TrailARN"], arn, "{}", seen.body);
    let own = h
        .json_as(
            &session,
            "eu-west-1",
            "cloudtrail",
            &ct("DescribeTrails"),
            json!({"includeShadowTrails": false}),
        )
        .await;
    assert_eq!(own.body["trailList"], json!([]));
    let status = h
        .json_as(
            &session,
            "us-east-1",
            "cloudtrail",
            &ct("GetTrailStatus"),
            json!({"Name": arn}),
        )
        .await;
    assert_eq!(status.body["IsLogging"], true, "{}", status.body);
    let stop = h
        .json_as(
            &session,
            "us-east-1",
            "cloudtrail",
            &ct("StopLogging"),
            json!({"Name": arn}),
        )
        .await;
    assert_eq!(
        stop.body["__type"], "NotOrganizationMasterAccountException",
        "{}",
        stop.body
    );

    // The member's calls and the management account's go to the organization's folders.
    let r = h
        .json_as(
            &session,
            "us-east-1",
            "billingconsole",
            &format!("{BC}.GetAddresses"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(h.billing("GetAddresses").await.status, 200);
    h.deliver().await;
    let delivered = h.delivered().await;
    let org_id = delivered
        .keys()
        .next()
        .and_then(|k| k.split('/').nth(1))
        .expect("a file")
        .to_string();
    assert!(org_id.starts_with("o-"), "{org_id}");
    let accounts: std::collections::BTreeSet<&str> = delivered
        .iter()
        .filter(|(_, records)| records.iter().any(|r| r["eventName"] == "GetAddresses"))
        .map(|(k, _)| {
            assert!(k.starts_with(&format!("AWSLogs/{org_id}/")), "{k}");
            k.split('/').nth(2).expect("account")
        })
        .collect();
    assert_eq!(accounts, [mgmt.as_str(), member.as_str()].into());
    h.running.stop();
}

/// The key pattern of `shared/acceptance/trails`.
fn acceptance_key_pattern() -> impl Fn(&str) -> bool {
    let re = regex::Regex::new(
        r"AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d\d/\d\d/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$",
    )
    .expect("regex");
    move |key: &str| re.is_match(key)
}
