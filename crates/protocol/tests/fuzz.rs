//! 10,000 random and malformed bodies through `parse_body` and `validate_input` (and
//! redaction) of every operation of both shipped models: nothing panics, and every failure
//! is a 400 `SerializationException` or `ValidationException`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use billtrail_protocol::json11::parse_body;
use billtrail_protocol::{
    billingconsole_model, cloudtrail_model, lower_camel_keys, ServiceModel, BILLINGCONSOLE_JSON,
    CLOUDTRAIL_JSON,
};
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

fn member_names() -> Vec<String> {
    let mut names = vec!["".to_owned(), "__type".to_owned(), "Unknown".to_owned()];
    for text in [BILLINGCONSOLE_JSON, CLOUDTRAIL_JSON] {
        let model: Value = serde_json::from_str(text).unwrap();
        for shape in model["shapes"].as_object().unwrap().values() {
            if let Some(members) = shape["members"].as_object() {
                names.extend(members.keys().cloned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

const STRINGS: &[&str] = &[
    "",
    "US",
    "us",
    "USA",
    "EventName",
    "insight",
    "Insight",
    "x",
    "a<b>",
    "café",
    "\u{0}",
    "2015-02-20T23:55:29Z",
    "2015-02-30T99:00:00Z",
    "AAECAw==",
    "not base64!",
    "NaN",
    "Infinity",
    "-Infinity",
    "9999999999999999999999",
    "\u{1F600}\u{1F600}",
];

fn random_value(rng: &mut Rng, names: &[String], depth: usize) -> Value {
    let kinds = if depth >= 6 { 6 } else { 9 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64 >> rng.below(64)),
        3 => json!(*rng.pick(&[
            0.5,
            -1.0,
            1e300,
            -1e-300,
            50.0,
            1424476529.123,
            2147483648.0
        ])),
        4 => json!(*rng.pick(STRINGS)),
        5 => json!("y".repeat(rng.below(3000))),
        6 | 7 => {
            let n = rng.below(5);
            Value::Object(
                (0..n)
                    .map(|_| (rng.pick(names).clone(), random_value(rng, names, depth + 1)))
                    .collect(),
            )
        }
        _ => {
            let n = rng.below(5);
            Value::Array(
                (0..n)
                    .map(|_| random_value(rng, names, depth + 1))
                    .collect(),
            )
        }
    }
}

/// A request-shaped object: mostly real member names, values of random types.
fn random_request(rng: &mut Rng, names: &[String]) -> Value {
    let n = rng.below(8);
    let map: Map<String, Value> = (0..n)
        .map(|_| (rng.pick(names).clone(), random_value(rng, names, 1)))
        .collect();
    Value::Object(map)
}

fn body(rng: &mut Rng, names: &[String], i: usize) -> Vec<u8> {
    match i % 6 {
        // Random bytes.
        0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        // Random JSON-ish characters.
        1 => {
            let alphabet = b"{}[]\":,0123456789.eE+-truefalsnul \\/\n\tabcXYZ";
            (0..rng.below(120)).map(|_| *rng.pick(alphabet)).collect()
        }
        // A well-formed request with wrong or right types.
        2 => serde_json::to_vec(&random_request(rng, names)).unwrap(),
        // The same, truncated.
        3 => {
            let mut b = serde_json::to_vec(&random_request(rng, names)).unwrap();
            let cut = rng.below(b.len() + 1);
            b.truncate(cut);
            b
        }
        // The same, with a byte flipped.
        4 => {
            let mut b = serde_json::to_vec(&random_request(rng, names)).unwrap();
            if !b.is_empty() {
                let at = rng.below(b.len());
                b[at] ^= 1 << rng.below(8);
            }
            b
        }
        // Deep or odd nesting around a member.
        _ => {
            let depth = rng.below(100);
            let name = rng.pick(names).clone();
            let open = if rng.below(2) == 0 { "[" } else { "{\"k\":" };
            let close = if open == "[" { "]" } else { "}" };
            format!(
                "{{\"{name}\":{}1{}}}",
                open.repeat(depth),
                close.repeat(depth)
            )
            .into_bytes()
        }
    }
}

fn exercise(models: &[&ServiceModel], bytes: &[u8]) -> (usize, usize) {
    let (mut ok, mut rejected) = (0, 0);
    match parse_body(bytes) {
        Err(e) => {
            assert_eq!(e.code, "SerializationException", "{e}");
            assert_eq!(e.status, 400);
            rejected += 1;
        }
        Ok(input) => {
            let value = Value::Object(input.clone());
            for model in models {
                for op in model.operation_names() {
                    match model.validate_input(op, &input) {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            assert!(
                                e.code == "SerializationException"
                                    || e.code == "ValidationException",
                                "{op}: {e}"
                            );
                            assert_eq!(e.status, 400);
                            assert!(
                                e.message.len() < 64 * 1024,
                                "{op}: message of {} bytes",
                                e.message.len()
                            );
                            rejected += 1;
                        }
                    }
                    let redacted = model.redact(op, false, &value);
                    let _ = model.redact(op, true, &redacted);
                    let _ = model.lower_camel_members(op, false, &value);
                }
            }
            let _ = lower_camel_keys(&value);
        }
    }
    (ok, rejected)
}

#[test]
fn ten_thousand_bodies_never_panic() {
    let models = [billingconsole_model(), cloudtrail_model()];
    let names = member_names();
    let mut rng = Rng(0x00B1_11A1_7A11);
    let (mut ok, mut rejected) = (0, 0);
    for i in 0..10_000 {
        let bytes = body(&mut rng, &names, i);
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&models, &bytes)));
        match outcome {
            Ok((o, r)) => {
                ok += o;
                rejected += r;
            }
            Err(_) => panic!("body #{i} panicked: {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    // The generator reaches both outcomes, so the test exercises more than the parser.
    assert!(ok > 1_000, "only {ok} validations passed");
    assert!(rejected > 1_000, "only {rejected} rejections");
}

#[test]
fn hand_picked_malformed_bodies() {
    let models = [billingconsole_model(), cloudtrail_model()];
    let cases: &[&[u8]] = &[
        b"",
        b" ",
        b"{",
        b"}",
        b"{}",
        b"[]",
        b"null",
        b"\"\"",
        b"{\"a\"}",
        b"{\"a\":}",
        b"{\"fullName\":\"\\ud800\"}",
        b"{\"fullName\":\"\\u00\"}",
        b"\xef\xbb\xbf{}",
        b"{\"MaxResults\":1e999}",
        b"{\"MaxResults\":-0}",
        b"{\"MaxResults\":1E1}",
        b"{\"StartTime\":-62135596801}",
        b"{\"StartTime\":253402300800}",
        b"{\"LookupAttributes\":[[[[[]]]]]}",
        b"{\"address\":{\"address\":{\"address\":{}}}}",
        b"{} {}",
        b"{}garbage",
        b"\x00",
        b"{\"a\":\"\x00\"}",
    ];
    for case in cases {
        exercise(&models, case);
    }
    let deep = "[".repeat(200_000);
    exercise(&models, deep.as_bytes());
    let wide = format!(
        "{{\"LookupAttributes\":[{}]}}",
        vec!["{}"; 50_000].join(",")
    );
    exercise(&models, wide.as_bytes());
}
