//! 10,000 random and malformed forms through `query::decode`, `validate_input` and redaction
//! of every IAM and STS operation: nothing panics, and every failure is a 400 `MissingAction`,
//! `InvalidAction` or `ValidationError`. Then random outputs shaped by the models (with
//! hostile text) through `encode_response`: always well-formed XML whose text reads back as
//! written, and outputs of the wrong shape are a clean `InternalFailure`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use billtrail_protocol::query::{decode, encode_error, encode_response};
use billtrail_protocol::{iam_model, sts_model, ApiError, ServiceModel, IAM_JSON, STS_JSON};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Map, Value};

/// splitmix64: small, seeded, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn raw(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Every member name of both models, plus the Query protocol's own segments.
fn segments() -> Vec<String> {
    let mut names: Vec<String> = [
        "",
        "member",
        "entry",
        "key",
        "value",
        "1",
        "2",
        "3",
        "0",
        "10",
        "-1",
        "x",
        "99999999999",
        "Action",
        "Version",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for text in [IAM_JSON, STS_JSON] {
        for shape in raw(text)["shapes"].as_object().unwrap().values() {
            if let Some(members) = shape["members"].as_object() {
                names.extend(members.keys().cloned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

const VALUES: &[&str] = &[
    "",
    "x",
    "alice",
    "/",
    "/a/",
    "1",
    "0",
    "-1",
    "3600",
    "900",
    "99999999999999999999",
    "1.5",
    "true",
    "false",
    "TRUE",
    "yes",
    "Active",
    "Inactive",
    "2024-05-30T16:44:04Z",
    "2024-02-30T99:00:00Z",
    "arn:aws:iam::123456789012:role/demo",
    "{\"Version\":\"2012-10-17\"}",
    "caf\u{e9}",
    "\u{0}",
    "a<b>&c",
    "%",
    "%zz",
    "+",
    "\u{1F600}",
    "123456",
];

/// Percent-encodes `s` the way a form does (space as `+`).
fn form_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn random_name(rng: &mut Rng, segs: &[String]) -> String {
    let n = 1 + rng.below(5);
    (0..n)
        .map(|_| rng.pick(segs).clone())
        .collect::<Vec<_>>()
        .join(".")
}

fn random_form(rng: &mut Rng, segs: &[String], ops: &[String], i: usize) -> Vec<u8> {
    match i % 5 {
        // Random bytes.
        0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        // Form-ish characters.
        1 => {
            let alphabet = b"&=.%+0123456789ABCDEFabcdefmembrkyvlu Action";
            (0..rng.below(150)).map(|_| *rng.pick(alphabet)).collect()
        }
        // Deep names.
        2 => format!(
            "Action={}&{}=1",
            rng.pick(ops),
            vec!["Tags.member.1"; rng.below(40)].join(".")
        )
        .into_bytes(),
        // A well-formed form: a real action (mostly), member-ish names, value-ish values.
        _ => {
            let mut pairs = Vec::new();
            if rng.below(10) > 0 {
                pairs.push(format!("Action={}", form_escape(rng.pick(ops).as_str())));
            }
            if rng.below(2) == 0 {
                let version = *rng.pick(&["2010-05-08", "2011-06-15", "", "x"]);
                pairs.push(format!("Version={version}"));
            }
            for _ in 0..rng.below(12) {
                let name = random_name(rng, segs);
                let value = rng.pick(VALUES);
                pairs.push(format!("{}={}", form_escape(&name), form_escape(value)));
            }
            pairs.join("&").into_bytes()
        }
    }
}

fn exercise(models: &[&ServiceModel], bytes: &[u8]) -> (usize, usize) {
    let (mut ok, mut rejected) = (0, 0);
    for model in models {
        let query = String::from_utf8_lossy(bytes);
        for (body, url) in [(bytes, ""), (&b""[..], query.as_ref())] {
            match decode(model, body, url) {
                Err(e) => {
                    assert!(
                        matches!(
                            e.code.as_ref(),
                            "MissingAction" | "InvalidAction" | "ValidationError"
                        ),
                        "{e}"
                    );
                    assert_eq!(e.status, 400);
                    assert!(e.message.len() < 64 * 1024);
                    let doc = encode_error(model, &e, "r");
                    assert_well_formed(&String::from_utf8(doc).unwrap());
                    rejected += 1;
                }
                Ok(req) => {
                    match model.validate_input(&req.action, &req.input) {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            assert_eq!(e.code, "ValidationError", "{e}");
                            assert_eq!(e.status, 400);
                            rejected += 1;
                        }
                    }
                    let value = Value::Object(req.input);
                    let _ = model.redact(&req.action, false, &value);
                }
            }
        }
    }
    (ok, rejected)
}

#[test]
fn ten_thousand_forms_never_panic() {
    let models = [iam_model(), sts_model()];
    let segs = segments();
    let mut ops: Vec<String> = models
        .iter()
        .flat_map(|m| m.operation_names().map(str::to_owned))
        .collect();
    ops.push("Nope".into());
    let mut rng = Rng(0x0051_A7E5_F022);
    let (mut ok, mut rejected) = (0, 0);
    for i in 0..10_000 {
        let bytes = random_form(&mut rng, &segs, &ops, i);
        match catch_unwind(AssertUnwindSafe(|| exercise(&models, &bytes))) {
            Ok((o, r)) => {
                ok += o;
                rejected += r;
            }
            Err(_) => panic!("form #{i} panicked: {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    assert!(ok > 1_000, "only {ok} forms were valid");
    assert!(rejected > 1_000, "only {rejected} rejections");
}

#[test]
fn hand_picked_malformed_forms() {
    let models = [iam_model(), sts_model()];
    let cases: &[&[u8]] = &[
        b"",
        b"&",
        b"=",
        b"&&&==&",
        b"Action",
        b"Action&Action=",
        b"Action=%",
        b"Action=%E2%82",
        b"Action=CreateUser&UserName=%",
        b"Action=CreateUser&Action=GetUser",
        b"Action=CreateUser&Tags.member.4294967295.Key=k",
        b"Action=CreateUser&Tags.member.4294967296.Key=k",
        b"Action=CreateUser&Tags.member.1.Key.member.1=k",
        b"Action=CreateUser&Tags=x&Tags.member.1.Key=k",
        b"Action=ListUsers&MaxItems=&MaxItems=1",
        b"Action=ListUsers&MaxItems=%2B5",
        b"Action=AssumeRole&DurationSeconds=1e3",
        b"Action=AssumeRole&ProvidedContexts.member.1.ProviderArn=x",
        b"\xff\xfe\x00Action=GetUser",
    ];
    for case in cases {
        exercise(&models, case);
    }
    let wide = format!(
        "Action=CreateUser&UserName=u&{}",
        (1..=20_000)
            .map(|i| format!("Tags.member.{i}.Key=k{i}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    exercise(&models, wide.as_bytes());
}

// ---- outputs ----

const TEXTS: &[&str] = &[
    "",
    "plain",
    "<tag>",
    "a&b",
    "&amp;",
    "]]>",
    "\"quoted\" 'single'",
    "line\nbreak",
    "cr\r\nlf",
    "\ttab",
    "\u{0}\u{1}\u{8}\u{B}\u{C}\u{1F}",
    "\u{FFFE}\u{FFFF}",
    "caf\u{e9} \u{1F600}",
    "<?xml version=\"1.0\"?>",
    "<!-- c -->",
    "%7B%22Version%22%7D",
];

/// A timestamp given as a string; it is written with milliseconds, so it reads back changed.
const ISO_TIME: &str = "2024-05-30T16:44:04Z";

/// A value shaped like `shape_name` in the raw model, with hostile strings.
fn shaped(rng: &mut Rng, shapes: &Map<String, Value>, shape_name: &str, depth: usize) -> Value {
    let shape = &shapes[shape_name];
    match shape["type"].as_str().unwrap() {
        "structure" => {
            let mut out = Map::new();
            if depth < 8 {
                for (name, member) in shape["members"].as_object().unwrap() {
                    if rng.below(4) > 0 {
                        let target = member["shape"].as_str().unwrap();
                        out.insert(name.clone(), shaped(rng, shapes, target, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "list" => {
            let target = shape["member"]["shape"].as_str().unwrap();
            Value::Array(
                (0..rng.below(4))
                    .map(|_| shaped(rng, shapes, target, depth + 1))
                    .collect(),
            )
        }
        "string" => match shape["enum"].as_array() {
            Some(values) => rng.pick(values).clone(),
            None => json!(*rng.pick(TEXTS)),
        },
        "integer" | "long" => json!(rng.below(100_000)),
        "boolean" => json!(rng.below(2) == 0),
        "timestamp" => match rng.below(3) {
            0 => json!(rng.below(4_000_000_000)),
            1 => json!(1717087444.123),
            _ => json!(ISO_TIME),
        },
        other => panic!("no generator for {other}"),
    }
}

/// Reads the document with quick-xml, collecting the unescaped text.
fn assert_well_formed(text: &str) -> String {
    let mut reader = Reader::from_str(text);
    let (mut depth, mut roots, mut content) = (0i64, 0, String::new());
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                roots += i32::from(depth == 0);
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => content.push_str(&t.decode().unwrap()),
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().unwrap().into_owned();
                content.push_str(match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "#xD" => "\r",
                    other => panic!("unexpected reference &{other};"),
                });
            }
            Ok(Event::Eof) => break,
            Ok(Event::Empty(_)) => {}
            Ok(other) => panic!("unexpected {other:?} in {text}"),
            Err(e) => panic!("not well-formed ({e}): {text}"),
        }
        assert!(depth >= 0);
    }
    assert_eq!((depth, roots), (0, 1), "{text}");
    content
}

/// What a string reads back as: XML cannot carry most C0 controls or U+FFFE/U+FFFF.
fn carried(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            _ => c,
        })
        .collect()
}

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s != ISO_TIME => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

#[test]
fn random_outputs_encode_to_well_formed_xml() {
    let mut rng = Rng(0x0E4C_0DE5);
    let mut encoded = 0;
    for (model, text) in [(iam_model(), IAM_JSON), (sts_model(), STS_JSON)] {
        let raw = raw(text);
        let shapes = raw["shapes"].as_object().unwrap();
        for (op, def) in raw["operations"].as_object().unwrap() {
            for _ in 0..100 {
                let output = match def["output"]["shape"].as_str() {
                    Some(shape) => shaped(&mut rng, shapes, shape, 0),
                    None => Value::Null,
                };
                let id = rng.pick(TEXTS).to_string();
                let xml = encode_response(model, op, &output, &id)
                    .unwrap_or_else(|e| panic!("{op}: {e} for {output}"));
                let content = assert_well_formed(&String::from_utf8(xml).unwrap());
                // Every string written reads back, as far as XML can carry it.
                let mut strings = Vec::new();
                strings_in(&output, &mut strings);
                for s in strings {
                    assert!(content.contains(&carried(&s)), "{op}: {s:?} lost");
                }
                if output.to_string().contains(ISO_TIME) {
                    assert!(content.contains("2024-05-30T16:44:04.000Z"));
                }
                encoded += 1;
            }
        }
    }
    assert_eq!(encoded, 100 * (21 + 4));
}

#[test]
fn random_junk_outputs_are_internal_errors_or_xml() {
    let mut rng = Rng(0x7A11);
    let junk = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!({"User": []}),
        json!({"User": {"Tags": {}}}),
        json!({"User": {"Tags": [1]}}),
        json!({"User": {"CreateDate": -1e30}}),
        json!({"Users": [null, {"UserName": null}]}),
        json!({"Credentials": {"Expiration": true}}),
        json!({"Role": {"MaxSessionDuration": 99999999999_i64}}),
    ];
    for model in [iam_model(), sts_model()] {
        let ops: Vec<&str> = model.operation_names().collect();
        for _ in 0..2_000 {
            let op = *rng.pick(&ops);
            let output = rng.pick(&junk);
            match catch_unwind(AssertUnwindSafe(|| encode_response(model, op, output, "r"))) {
                Ok(Ok(xml)) => {
                    assert_well_formed(&String::from_utf8(xml).unwrap());
                }
                Ok(Err(e)) => assert_eq!(e, ApiError::internal()),
                Err(_) => panic!("{op} panicked on {output}"),
            }
        }
    }
}
