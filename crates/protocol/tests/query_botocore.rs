//! The AWS Query codec against the real botocore (and boto3 and the AWS CLI), for every IAM
//! and STS operation we serve:
//!
//! * our `iam.json`/`sts.json`/`cloudtrail.json` are exactly what `models/subset.py` cuts out
//!   of the pinned botocore (same members, types, constraints, wrappers and error traits; the
//!   cloudtrail exceptions get the `message` member and HTTP status botocore leaves out);
//! * (a) botocore's own `QuerySerializer` writes requests that [`decode`] turns back into the
//!   very parameters it was given;
//! * (b) botocore's `QueryParser` reads every [`encode_response`] back into the output we
//!   encoded (timestamps compared as datetimes);
//! * (c) it reads every [`encode_error`] document (Code, Message, Type, RequestId), and the
//!   client maps each modeled error's code to its modeled exception class;
//! * boto3 and the AWS CLI call a tiny HTTP server that decodes, validates and answers with
//!   this crate.
//!
//! Needs a Python environment with boto3 and awscli: `$BILLTRAIL_VENV` when set, else
//! `/root/.cache/billtrail-venv` or `~/.cache/billtrail/venv` (`scripts/test` makes one).
//! Without one the tests FAIL, unless `BILLTRAIL_SKIP_PYTHON=1` says to skip them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use billtrail_protocol::query::{decode, encode_error, encode_response, wire_error, CONTENT_TYPE};
use billtrail_protocol::{iam_model, sts_model, ApiError, ServiceModel};
use serde_json::{json, Value};

/// The venv's directory, or `None` when the caller said to skip (`BILLTRAIL_SKIP_PYTHON=1`).
fn venv() -> Option<PathBuf> {
    if std::env::var("BILLTRAIL_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("SKIPPED: BILLTRAIL_SKIP_PYTHON=1");
        return None;
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    match std::env::var("BILLTRAIL_VENV") {
        // Named explicitly: that one or none.
        Ok(dir) => candidates.push(dir.into()),
        Err(_) => {
            candidates.push("/root/.cache/billtrail-venv".into());
            if let Ok(home) = std::env::var("HOME") {
                candidates.push(PathBuf::from(home).join(".cache/billtrail/venv"));
            }
        }
    }
    for dir in &candidates {
        if dir.join("bin/python").exists() && dir.join("bin/aws").exists() {
            return Some(dir.clone());
        }
    }
    panic!(
        "no Python venv with boto3 and awscli (looked in {candidates:?}): run scripts/test once \
         to make one, point BILLTRAIL_VENV at one, or set BILLTRAIL_SKIP_PYTHON=1 to skip these \
         tests on purpose"
    );
}

fn model(service: &str) -> &'static ServiceModel {
    match service {
        "iam" => iam_model(),
        "sts" => sts_model(),
        other => panic!("no model {other}"),
    }
}

/// Runs a Python script with `stdin` as its input; returns its stdout as JSON.
fn python(venv: &Path, script: &str, args: &[&str], stdin: &Value) -> Value {
    let mut child = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_DATA_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(stdin).unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "python printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Writes sample inputs (serialized by botocore's QuerySerializer) and sample outputs for
/// every operation named on stdin.
const GENERATE: &str = r#"
import base64, datetime, json, sys
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.serialize import create_serializer

UTC = datetime.timezone.utc
session = botocore.session.get_session()
ops = json.load(sys.stdin)

def text(name, variant, i):
    if variant == "full":
        # Everything a form must escape, and non-ASCII.
        return f"{name}-{i} &=+/%?#;\u00e9\u20ac\U0001F600 \n\t\"<x>'"
    return f"{name}{i}"

def sample(shape, variant, name="", i=1, depth=0):
    t = shape.type_name
    if t == "structure":
        out = {}
        for m, ms in shape.members.items():
            if variant == "minimal" and m not in shape.required_members:
                continue
            out[m] = sample(ms, variant, m, i, depth + 1)
        return out
    if t == "list":
        n = {"full": 3, "minimal": 1, "empty": 0}[variant]
        return [sample(shape.member, variant, name, j, depth + 1) for j in range(1, n + 1)]
    if t == "map":
        return {f"k{j}": sample(shape.value, variant, name, j, depth + 1) for j in range(1, 3)}
    if t == "string":
        if shape.enum:
            return shape.enum[i % len(shape.enum)]
        return text(name, variant, i)
    if t in ("integer", "long"):
        lo = shape.metadata.get("min", 0)
        hi = shape.metadata.get("max", lo + 1000)
        return min(hi, lo + 7 * i)
    if t in ("float", "double"):
        return 1.5 * i
    if t == "boolean":
        return variant != "minimal"
    if t == "timestamp":
        return datetime.datetime(2024, 5, 30, 16, 44, 4, 123000 * i % 1000000, tzinfo=UTC)
    if t == "blob":
        return b"\x00\x01bin" * i
    raise ValueError(t)

def jsonable(v):
    if isinstance(v, datetime.datetime):
        # As the QuerySerializer writes it (iso8601 with microseconds when there are some).
        if v.microsecond:
            return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    raise TypeError(type(v))

# Real-world calls, which must also pass the server's validation.
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]},
         indent=2)
REAL = {
    "iam": [
        ("CreateUser", {"UserName": "alice", "Path": "/team/",
                        "Tags": [{"Key": "team", "Value": "billing + ops"}, {"Key": "cost-center", "Value": ""}]}),
        ("CreateUser", {"UserName": "bob+ops=1,x.y@z-w"}),
        ("GetUser", {}),
        ("GetUser", {"UserName": "alice"}),
        ("ListUsers", {"PathPrefix": "/team/", "MaxItems": 10, "Marker": "abc"}),
        ("DeleteUser", {"UserName": "alice"}),
        ("CreateAccessKey", {"UserName": "alice"}),
        ("ListAccessKeys", {"UserName": "alice"}),
        ("UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"}),
        ("DeleteAccessKey", {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}),
        ("CreateLoginProfile", {"UserName": "alice", "Password": "p@ss w0rd+&=%\u00e9", "PasswordResetRequired": True}),
        ("CreateRole", {"RoleName": "OrganizationAccountAccessRole", "AssumeRolePolicyDocument": POLICY,
                        "Description": "Admin from the management account", "MaxSessionDuration": 43200,
                        "Tags": []}),
        ("GetRole", {"RoleName": "OrganizationAccountAccessRole"}),
        ("DeleteRole", {"RoleName": "demo"}),
        ("PutUserPolicy", {"UserName": "alice", "PolicyName": "billing", "PolicyDocument": POLICY}),
        ("PutRolePolicy", {"RoleName": "demo", "PolicyName": "billing", "PolicyDocument": POLICY}),
        ("AttachUserPolicy", {"UserName": "alice", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ("AttachRolePolicy", {"RoleName": "demo", "PolicyArn": "arn:aws:iam::aws:policy/job-function/Billing"}),
        ("GetUserPolicy", {"UserName": "alice", "PolicyName": "billing"}),
        ("GetRolePolicy", {"RoleName": "demo", "PolicyName": "billing"}),
        ("ListAttachedUserPolicies", {"UserName": "alice", "PathPrefix": "/", "MaxItems": 100}),
        ("ListAttachedRolePolicies", {"RoleName": "demo"}),
        ("ListRoles", {"PathPrefix": "/"}),
    ],
    "sts": [
        ("GetCallerIdentity", {}),
        ("AssumeRole", {"RoleArn": "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole",
                        "RoleSessionName": "admin-session", "DurationSeconds": 3600, "Policy": POLICY,
                        "SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "123456",
                        "Tags": [{"Key": "project", "Value": "billtrail"}], "TransitiveTagKeys": ["project"],
                        "ExternalId": "ext-id:1/2", "SourceIdentity": "alice@example.com",
                        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}),
        ("GetFederationToken", {"Name": "fed-user", "Policy": POLICY, "DurationSeconds": 43200,
                                "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess"}],
                                "Tags": [{"Key": "k", "Value": "v"}]}),
        ("GetSessionToken", {"DurationSeconds": 900, "SerialNumber": "GAHT12345678", "TokenCode": "000000"}),
    ],
}

cases = []
for service, names in ops.items():
    model = session.get_service_model(service)
    serializer = create_serializer("query", include_validation=False)
    def add(op, params, kind):
        om = model.operation_model(op)
        req = serializer.serialize_to_request(params, om)
        prepared = AWSRequest(method=req["method"], url="https://example.amazonaws.com/",
                              data=req["body"], headers=req["headers"]).prepare()
        body = prepared.body if isinstance(prepared.body, str) else prepared.body.decode()
        outputs = {}
        if om.output_shape is not None:
            for variant in ("full", "minimal", "empty"):
                outputs[variant] = sample(om.output_shape, variant)
        cases.append({"service": service, "op": op, "kind": kind, "body": body,
                      "content_type": req["headers"]["Content-Type"],
                      "params": params, "outputs": outputs})
    for op in names:
        om = model.operation_model(op)
        for variant in ("full", "minimal", "empty"):
            params = sample(om.input_shape, variant) if om.input_shape is not None else {}
            add(op, params, variant)
    for op, params in REAL[service]:
        add(op, params, "real")
print(json.dumps(cases, default=jsonable))
"#;

/// Parses our XML with botocore's QueryParser and compares it with what we encoded.
const CHECK: &str = r#"
import base64, datetime, json, sys
import boto3
import botocore.session
from botocore.parsers import create_parser
from botocore.utils import parse_timestamp

session = botocore.session.get_session()
items = json.load(sys.stdin)
problems = []
checked = {"outputs": 0, "errors": 0, "classes": 0}
clients = {}

def normal(shape, value, where):
    """Both sides in one form: datetimes for timestamps, bytes for blobs."""
    if value is None:
        return None
    t = shape.type_name
    if t == "structure":
        return {k: normal(shape.members[k], v, f"{where}.{k}") for k, v in value.items()
                if k in shape.members}
    if t == "list":
        return [normal(shape.member, v, where) for v in value]
    if t == "map":
        return {k: normal(shape.value, v, where) for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, datetime.datetime):
            return value
        return parse_timestamp(value)
    if t == "blob":
        return value if isinstance(value, bytes) else base64.b64decode(value)
    return value

for item in items:
    service = item["service"]
    model = session.get_service_model(service)
    parser = create_parser("query")
    where = f'{service}.{item["op"]} ({item["what"]})'
    if item["what"].startswith("output"):
        om = model.operation_model(item["op"])
        parsed = parser.parse({"body": item["xml"].encode(), "headers": {}, "status_code": 200},
                              om.output_shape)
        meta = parsed.pop("ResponseMetadata", {})
        if meta.get("RequestId") != item["request_id"]:
            problems.append(f"{where}: RequestId {meta!r}")
        if om.output_shape is None:
            expected, got = {}, parsed
        else:
            expected = normal(om.output_shape, item["expected"], "")
            got = normal(om.output_shape, parsed, "")
        if expected != got:
            problems.append(f"{where}:\n  expected {expected!r}\n  parsed   {got!r}\n  xml {item['xml']}")
        checked["outputs"] += 1
    else:
        om = model.operation_model(item["op"])
        parsed = parser.parse({"body": item["xml"].encode(), "headers": {},
                               "status_code": item["status"]}, om.output_shape)
        err = parsed.get("Error", {})
        want = {"Code": item["code"], "Message": item["message"], "Type": item["type"]}
        got = {k: err.get(k) for k in want}
        if got != want:
            problems.append(f"{where}: error {got!r} != {want!r}")
        if parsed.get("ResponseMetadata", {}).get("RequestId") != item["request_id"]:
            problems.append(f"{where}: error RequestId {parsed.get('ResponseMetadata')!r}")
        if item.get("class"):
            if service not in clients:
                clients[service] = boto3.client(service, region_name="us-east-1",
                                                aws_access_key_id="AKIDEXAMPLE",
                                                aws_secret_access_key="secret")
            cls = clients[service].exceptions.from_code(item["code"])
            if cls.__name__ != item["class"]:
                problems.append(f"{where}: code {item['code']} maps to {cls.__name__}, not {item['class']}")
            checked["classes"] += 1
        checked["errors"] += 1
print(json.dumps({"problems": problems, "checked": checked}))
"#;

#[test]
fn our_models_are_the_pinned_botocore_subset() {
    let Some(venv) = venv() else { return };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/models/subset.py");
    let out = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "models/iam.json, sts.json or cloudtrail.json differ from what models/subset.py cuts out of the \
         installed botocore:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn botocore_serializes_what_we_decode_and_parses_what_we_encode() {
    let Some(venv) = venv() else { return };
    let mut ops = serde_json::Map::new();
    for service in ["iam", "sts"] {
        let names: Vec<&str> = model(service).operation_names().collect();
        ops.insert(service.into(), json!(names));
    }
    let cases = python(&venv, GENERATE, &[], &Value::Object(ops));
    let cases = cases.as_array().unwrap();
    assert_eq!(
        cases.iter().filter(|c| c["kind"] != "real").count(),
        3 * (iam_model().operation_names().count() + sts_model().operation_names().count())
    );

    // (a) botocore's requests decode to the parameters botocore was given.
    let mut to_check = Vec::new();
    let mut decoded = 0;
    for case in cases {
        let service = case["service"].as_str().unwrap();
        let op = case["op"].as_str().unwrap();
        let kind = case["kind"].as_str().unwrap();
        let m = model(service);
        assert!(
            case["content_type"]
                .as_str()
                .unwrap()
                .starts_with(billtrail_protocol::query::FORM_CONTENT_TYPE),
            "{case}"
        );
        let body = case["body"].as_str().unwrap();
        let req = decode(m, body.as_bytes(), "")
            .unwrap_or_else(|e| panic!("{service}.{op} ({kind}): {e}\nbody: {body}"));
        assert_eq!(req.action, op);
        assert_eq!(req.version.as_deref(), Some(m.api_version()));
        assert_eq!(
            Value::Object(req.input.clone()),
            case["params"],
            "{service}.{op} ({kind}) decoded differently; body: {body}"
        );
        if kind == "real" {
            m.validate_input(op, &req.input)
                .unwrap_or_else(|e| panic!("{service}.{op}: {e}"));
        }
        decoded += 1;

        // (b) our responses, for botocore to parse.
        for (variant, output) in case["outputs"].as_object().unwrap() {
            if kind != "full" && kind != "real" {
                continue;
            }
            let request_id = format!("{op}-{variant}-<&>");
            let xml = encode_response(m, op, output, &request_id)
                .unwrap_or_else(|e| panic!("{service}.{op} {variant}: {e}"));
            to_check.push(json!({
                "service": service, "op": op, "what": format!("output {kind}/{variant}"),
                "xml": String::from_utf8(xml).unwrap(), "expected": output,
                "request_id": request_id,
            }));
        }
        if kind == "full" {
            let xml = encode_response(m, op, &Value::Null, "null-output").unwrap();
            to_check.push(json!({
                "service": service, "op": op, "what": "output null",
                "xml": String::from_utf8(xml).unwrap(),
                "expected": {},
                "request_id": "null-output",
            }));
        }
    }
    assert!(decoded >= 100, "only {decoded} requests decoded");

    // (c) error documents: every modeled error of every operation, and the shared codes.
    for service in ["iam", "sts"] {
        let m = model(service);
        for op in m.operation_names() {
            let mut errors: Vec<(String, Option<String>)> = m
                .operation_errors(op)
                .into_iter()
                .map(|shape| (shape.to_owned(), Some(shape.to_owned())))
                .collect();
            for common in [
                "AccessDeniedException",
                "ValidationException",
                "InvalidSignatureException",
                "ThrottlingException",
                "InternalFailure",
                "MissingAction",
            ] {
                errors.push((common.to_owned(), None));
            }
            for (given, class) in errors {
                let error = m.error(given.clone(), format!("{given} says <no> & \"never\""));
                // The STS-modeled ExpiredTokenException is sent as the shared ExpiredToken.
                let class = class.filter(|_| error.code != "ExpiredToken");
                let request_id = format!("err-{op}");
                let xml = encode_error(m, &error, &request_id);
                let wire = wire_error(m, &error);
                assert_eq!(wire, error, "model.error is already spelled for the wire");
                to_check.push(json!({
                    "service": service, "op": op, "what": format!("error {given}"),
                    "xml": String::from_utf8(xml).unwrap(), "status": wire.status,
                    "code": wire.code, "message": wire.message,
                    "type": if wire.status >= 500 { "Receiver" } else { "Sender" },
                    "request_id": request_id, "class": class,
                }));
            }
        }
    }

    let report = python(&venv, CHECK, &[], &Value::Array(to_check.clone()));
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let checked = &report["checked"];
    eprintln!("botocore checked: {checked}, {decoded} requests decoded");
    let outputs = to_check
        .iter()
        .filter(|c| c["what"].as_str().unwrap().starts_with("output"))
        .count();
    assert_eq!(checked["outputs"], json!(outputs));
    assert_eq!(checked["errors"], json!(to_check.len() - outputs));
    assert!(checked["classes"].as_u64().unwrap() >= 60, "{checked}");
}

// ---- boto3 and the AWS CLI over HTTP ----

/// What the tiny server answers for each action: the output the handler would build.
fn canned_output(action: &str, input: &serde_json::Map<String, Value>) -> Result<Value, ApiError> {
    let user = |name: &Value| {
        json!({"Path": "/", "UserName": name, "UserId": "AIDAEXAMPLEEXAMPLE01",
               "Arn": format!("arn:aws:iam::123456789012:user/{}", name.as_str().unwrap_or("")),
               "CreateDate": "2024-05-30T16:44:04Z"})
    };
    let credentials = json!({"AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "SessionToken": "FwoGZXIvYXdzEXAMPLE//+==", "Expiration": 1717087444.5});
    Ok(match action {
        "CreateUser" => json!({"User": user(&input["UserName"])}),
        "GetUser" if input.get("UserName") == Some(&json!("ghost")) => {
            return Err(iam_model().error(
                "NoSuchEntityException",
                "The user with name ghost cannot be found.",
            ))
        }
        "GetUser" => json!({"User": user(input.get("UserName").unwrap_or(&json!("me")))}),
        "ListUsers" => {
            json!({"Users": [user(&json!("a")), user(&json!("b"))], "IsTruncated": false})
        }
        "CreateAccessKey" => json!({"AccessKey": {"UserName": input["UserName"],
            "AccessKeyId": "AKIAEXAMPLEEXAMPLE01", "Status": "Active",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "CreateDate": "2024-05-30T16:44:04Z"}}),
        "DeleteUser" => Value::Null,
        "GetCallerIdentity" => json!({"UserId": "AIDAEXAMPLEEXAMPLE01", "Account": "123456789012",
                                      "Arn": "arn:aws:iam::123456789012:user/alice"}),
        "AssumeRole" => json!({"Credentials": credentials,
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:s", "Arn": "arn:aws:sts::123456789012:assumed-role/demo/s"},
            "PackedPolicySize": 6}),
        "GetFederationToken" => json!({"Credentials": credentials,
            "FederatedUser": {"FederatedUserId": "123456789012:fed", "Arn": "arn:aws:sts::123456789012:federated-user/fed"}}),
        "GetSessionToken" => json!({"Credentials": credentials}),
        "CreateRole" => return Err(ApiError::access_denied("User: alice is not authorized")),
        other => panic!("no canned output for {other}"),
    })
}

#[derive(Debug)]
struct Seen {
    service: String,
    action: String,
    status: u16,
}

fn serve(listener: TcpListener, tx: mpsc::Sender<Seen>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let target = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
        let url_query = target.split_once('?').map_or("", |(_, q)| q).to_owned();
        let (mut auth, mut content_type, mut len) = (String::new(), String::new(), 0usize);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.trim_end().split_once(':').unwrap_or(("", ""));
            match name.to_ascii_lowercase().as_str() {
                "authorization" => auth = value.trim().to_owned(),
                "content-type" => content_type = value.trim().to_owned(),
                "content-length" => len = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        // The credential scope's service picks the model, as the server does.
        let service = if auth.contains("/sts/aws4_request") {
            "sts"
        } else {
            "iam"
        };
        assert!(
            content_type.starts_with("application/x-www-form-urlencoded"),
            "{content_type}"
        );
        let m = model(service);
        let request_id = "0b3c1f4e-0000-4000-8000-000000000001";
        let mut action = String::new();
        let outcome = decode(m, &body, &url_query).and_then(|req| {
            action = req.action.clone();
            m.validate_input(&req.action, &req.input)?;
            let output = canned_output(&req.action, &req.input)?;
            encode_response(m, &req.action, &output, request_id)
        });
        let (status, reply) = match outcome {
            Ok(xml) => (200, xml),
            Err(e) => {
                let wire = wire_error(m, &e);
                (wire.status, encode_error(m, &wire, request_id))
            }
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n\
             x-amzn-RequestId: {request_id}\r\nConnection: close\r\n\r\n",
            reply.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&reply);
        let seen = Seen {
            service: service.to_owned(),
            action,
            status,
        };
        if tx.send(seen).is_err() {
            return;
        }
    }
}

const BOTO3: &str = r#"
import datetime, json, sys
import boto3
from botocore.config import Config

url = sys.argv[1]
cfg = Config(retries={"max_attempts": 1, "mode": "standard"})
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=cfg)
sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1", config=cfg)
UTC = datetime.timezone.utc

u = iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "a=b c@d"}])
assert u["User"]["UserName"] == "alice", u
assert u["User"]["CreateDate"] == datetime.datetime(2024, 5, 30, 16, 44, 4, tzinfo=UTC), u
assert u["ResponseMetadata"]["RequestId"] == "0b3c1f4e-0000-4000-8000-000000000001", u
assert u["ResponseMetadata"]["HTTPStatusCode"] == 200

k = iam.create_access_key(UserName="alice")["AccessKey"]
assert k["SecretAccessKey"] == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", k
assert [x["UserName"] for x in iam.list_users(MaxItems=5)["Users"]] == ["a", "b"]
assert iam.delete_user(UserName="alice")["ResponseMetadata"]["HTTPStatusCode"] == 200

try:
    iam.get_user(UserName="ghost")
    sys.exit("ghost found")
except iam.exceptions.NoSuchEntityException as e:
    assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response

# The server's validation, which botocore does not do (patterns): a ValidationError.
try:
    iam.create_user(UserName="b\u00e9a")
    sys.exit("bad name accepted")
except iam.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
    assert "at 'userName'" in e.response["Error"]["Message"], e.response

try:
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    sys.exit("create_role allowed")
except iam.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDenied", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response

me = sts.get_caller_identity()
assert me["Account"] == "123456789012" and me["Arn"].endswith("user/alice"), me
r = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/demo", RoleSessionName="s1",
                    DurationSeconds=900, Tags=[{"Key": "k", "Value": "v"}], TokenCode="123456",
                    SerialNumber="arn:aws:iam::123456789012:mfa/alice")
c = r["Credentials"]
assert c["Expiration"] == datetime.datetime(2024, 5, 30, 16, 44, 4, 500000, tzinfo=UTC), c
assert c["SessionToken"] == "FwoGZXIvYXdzEXAMPLE//+==", c
assert r["AssumedRoleUser"]["AssumedRoleId"] == "AROAEXAMPLE:s" and r["PackedPolicySize"] == 6, r
f = sts.get_federation_token(Name="fed", DurationSeconds=900)
assert f["FederatedUser"]["FederatedUserId"] == "123456789012:fed", f
assert sts.get_session_token()["Credentials"]["AccessKeyId"] == "ASIAEXAMPLEEXAMPLE01"
try:
    # botocore checks minimums, not maximums: the server must refuse this one.
    sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/demo", RoleSessionName="s1",
                    DurationSeconds=99999)
    sys.exit("99999 seconds accepted")
except sts.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
    assert "Member must have value less than or equal to 43200" in e.response["Error"]["Message"]
print(json.dumps({"ok": True}))
"#;

#[test]
fn boto3_and_the_cli_talk_to_a_query_server() {
    let Some(venv) = venv() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || serve(listener, tx));

    let creds = |cmd: &mut Command| {
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            )
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_DATA_PATH");
    };
    let mut py = Command::new(venv.join("bin/python"));
    py.arg("-c").arg(BOTO3).arg(&url);
    creds(&mut py);
    let out = py.output().unwrap();
    assert!(
        out.status.success(),
        "boto3: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    for (args, check) in [
        (
            vec!["sts", "get-caller-identity"],
            json!({"UserId": "AIDAEXAMPLEEXAMPLE01", "Account": "123456789012",
                   "Arn": "arn:aws:iam::123456789012:user/alice"}),
        ),
        (
            vec!["iam", "create-user", "--user-name", "carol"],
            json!({"User": {"Path": "/", "UserName": "carol", "UserId": "AIDAEXAMPLEEXAMPLE01",
                   "Arn": "arn:aws:iam::123456789012:user/carol",
                   "CreateDate": "2024-05-30T16:44:04.000Z"}}),
        ),
    ] {
        let mut cli = Command::new(venv.join("bin/aws"));
        cli.args(&args).args([
            "--endpoint-url",
            &url,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ]);
        creds(&mut cli);
        let out = cli.output().unwrap();
        assert!(
            out.status.success(),
            "aws {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, check, "aws {args:?}");
    }

    let seen: Vec<Seen> = rx.try_iter().collect();
    let summary: Vec<String> = seen
        .iter()
        .map(|s| format!("{}:{}:{}", s.service, s.action, s.status))
        .collect();
    assert_eq!(
        summary,
        [
            "iam:CreateUser:200",
            "iam:CreateAccessKey:200",
            "iam:ListUsers:200",
            "iam:DeleteUser:200",
            "iam:GetUser:404",
            "iam:CreateUser:400",
            "iam:CreateRole:403",
            "sts:GetCallerIdentity:200",
            "sts:AssumeRole:200",
            "sts:GetFederationToken:200",
            "sts:GetSessionToken:200",
            "sts:AssumeRole:400",
            "sts:GetCallerIdentity:200",
            "iam:CreateUser:200",
        ]
    );
}
