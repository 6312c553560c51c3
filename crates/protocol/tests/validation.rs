//! `ServiceModel::validate_input`: each rule, with AWS's exact messages.

use billtrail_protocol::json11::parse_body;
use billtrail_protocol::model::{MAX_LISTED_ERRORS, MAX_QUOTED_CHARS};
use billtrail_protocol::{billingconsole_model, cloudtrail_model, ApiError, ServiceModel};
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn contact() -> Value {
    json!({
        "website": "https://amazon.com", "city": "Seattle", "postalCode": "98108",
        "fullName": "Jane Doe", "districtOrCounty": null, "phoneNumber": "206-555-0100",
        "countryCode": "US", "addressLine1": "Nowhere Estates", "addressLine2": "100 Main Street",
        "company": "AnyCompany", "state": "Washington", "addressLine3": "Anytown, USA",
        "secondaryPhone": "206-555-0101"
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base.as_object_mut().unwrap().insert(key.into(), value);
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

fn bc(op: &str, input: Value) -> Result<(), ApiError> {
    billingconsole_model().validate_input(op, &obj(input))
}

fn ct(input: Value) -> Result<(), ApiError> {
    cloudtrail_model().validate_input("LookupEvents", &obj(input))
}

fn validation_message(r: Result<(), ApiError>) -> String {
    let e = r.expect_err("expected a ValidationException");
    assert_eq!(e.code, "ValidationException", "{e}");
    assert_eq!(e.status, 400);
    e.message
}

fn serialization_message(r: Result<(), ApiError>) -> String {
    let e = r.expect_err("expected a SerializationException");
    assert_eq!(e.code, "SerializationException", "{e}");
    assert_eq!(e.status, 400);
    e.message
}

#[test]
fn the_seed_record_is_valid() {
    bc("SetContactAddress", contact()).unwrap();
}

#[test]
fn empty_inputs_are_valid() {
    bc("GetAddresses", json!({})).unwrap();
    bc("GetSupportedCountryCodes", json!({})).unwrap();
    bc("SetAccountPreferences", json!({})).unwrap();
    ct(json!({})).unwrap();
}

#[test]
fn unknown_operation() {
    let e = bc("GetAddress", json!({})).unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
}

#[test]
fn missing_required_member() {
    assert_eq!(
        validation_message(bc("SetContactAddress", without(contact(), "fullName"))),
        "1 validation error detected: Value null at 'fullName' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn null_is_absent() {
    assert_eq!(
        validation_message(bc(
            "SetContactAddress",
            with(contact(), "city", Value::Null)
        )),
        "1 validation error detected: Value null at 'city' failed to satisfy constraint: \
         Member must not be null"
    );
    // An optional member may be null.
    bc("SetContactAddress", with(contact(), "company", Value::Null)).unwrap();
}

#[test]
fn unknown_members_are_ignored() {
    bc(
        "SetContactAddress",
        with(contact(), "favouriteColour", json!({"x": [1]})),
    )
    .unwrap();
    bc("GetAddresses", json!({"anything": 1})).unwrap();
}

#[test]
fn several_errors_in_model_order() {
    let input = with(
        with(without(contact(), "fullName"), "countryCode", json!("usa")),
        "website",
        json!(""),
    );
    assert_eq!(
        validation_message(bc("SetContactAddress", input)),
        "4 validation errors detected: \
         Value '' at 'website' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value null at 'fullName' failed to satisfy constraint: Member must not be null; \
         Value 'usa' at 'countryCode' failed to satisfy constraint: Member must have length less than or equal to 2; \
         Value 'usa' at 'countryCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Z]{2}$"
    );
}

#[test]
fn string_lengths_count_characters() {
    let fifty = "é".repeat(50); // 100 bytes, 50 characters
    bc(
        "SetContactAddress",
        with(contact(), "fullName", json!(fifty)),
    )
    .unwrap();
    let long = "a".repeat(61);
    assert_eq!(
        validation_message(bc(
            "SetContactAddress",
            with(contact(), "addressLine1", json!(long))
        )),
        format!(
            "1 validation error detected: Value '{long}' at 'addressLine1' failed to satisfy \
             constraint: Member must have length less than or equal to 60"
        )
    );
}

#[test]
fn pattern_is_a_full_match() {
    let msg = validation_message(bc(
        "SetContactAddress",
        with(contact(), "countryCode", json!("us")),
    ));
    assert_eq!(
        msg,
        "1 validation error detected: Value 'us' at 'countryCode' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: ^[A-Z]{2}$"
    );
    bc(
        "SetAccountPreferences",
        json!({"accountName": "My account; (prod) ~ #1"}),
    )
    .unwrap();
    assert_eq!(
        validation_message(bc("SetAccountPreferences", json!({"accountName": "a<b>"}))),
        "1 validation error detected: Value 'a<b>' at 'accountName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: ^[ -;=?-~]+$"
    );
    // Non-ASCII is outside the printable-ASCII pattern.
    validation_message(bc("SetAccountPreferences", json!({"accountName": "café"})));
}

#[test]
fn nested_structure_paths() {
    let input = json!({"address": {"addressLine1": "1 Main St", "postalCode": "98108", "countryCode": "US"}});
    assert_eq!(
        validation_message(bc("ValidateAddress", input)),
        "1 validation error detected: Value null at 'address.city' failed to satisfy \
         constraint: Member must not be null"
    );
    assert_eq!(
        validation_message(bc("ValidateAddress", json!({}))),
        "1 validation error detected: Value null at 'address' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn sensitive_values_are_never_quoted() {
    let msg = validation_message(bc(
        "SetAccountPreferences",
        json!({"password": "short", "email": "a@b"}),
    ));
    assert_eq!(
        msg,
        "2 validation errors detected: \
         Value 'a@b' at 'email' failed to satisfy constraint: Member must have length greater than or equal to 5; \
         Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 8"
    );
    assert!(!msg.contains("short"));
}

#[test]
fn integer_range() {
    assert_eq!(
        validation_message(ct(json!({"MaxResults": 100}))),
        "1 validation error detected: Value '100' at 'maxResults' failed to satisfy constraint: \
         Member must have value less than or equal to 50"
    );
    assert_eq!(
        validation_message(ct(json!({"MaxResults": 0}))),
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    ct(json!({"MaxResults": 50})).unwrap();
    ct(json!({"MaxResults": 1.0})).unwrap();
}

#[test]
fn enum_in_list_paths() {
    let input = json!({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"},
        {"AttributeKey": "foo", "AttributeValue": ""}
    ]});
    assert_eq!(
        validation_message(ct(input)),
        "2 validation errors detected: \
         Value 'foo' at 'lookupAttributes.2.member.attributeKey' failed to satisfy constraint: \
         Member must satisfy enum value set: [EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId]; \
         Value '' at 'lookupAttributes.2.member.attributeValue' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    );
    assert_eq!(
        validation_message(ct(json!({"LookupAttributes": [{"AttributeValue": "x"}]}))),
        "1 validation error detected: Value null at 'lookupAttributes.1.member.attributeKey' \
         failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation_message(ct(json!({"LookupAttributes": [null]}))),
        "1 validation error detected: Value null at 'lookupAttributes.1.member' failed to \
         satisfy constraint: Member must not be null"
    );
    assert_eq!(
        validation_message(ct(json!({"EventCategory": "Insight"}))),
        "1 validation error detected: Value 'Insight' at 'eventCategory' failed to satisfy \
         constraint: Member must satisfy enum value set: [insight]"
    );
    ct(json!({"EventCategory": "insight", "LookupAttributes": []})).unwrap();
}

#[test]
fn wrong_json_types_are_serialization_exceptions() {
    let cases = [
        (
            with(contact(), "fullName", json!(5)),
            "NUMBER_VALUE can not be converted to String",
        ),
        (
            with(contact(), "fullName", json!(true)),
            "TRUE_VALUE can not be converted to String",
        ),
        (
            with(contact(), "fullName", json!({"a": 1})),
            "Start of structure or map found where not expected.",
        ),
        (
            with(contact(), "fullName", json!(["a"])),
            "Start of list found where not expected",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            serialization_message(bc("SetContactAddress", input)),
            expected
        );
    }
    assert_eq!(
        serialization_message(bc("ValidateAddress", json!({"address": "1 Main St"}))),
        "STRING_VALUE can not be converted to Structure"
    );
    assert_eq!(
        serialization_message(ct(
            json!({"LookupAttributes": {"AttributeKey": "EventName"}})
        )),
        "Start of structure or map found where not expected."
    );
    assert_eq!(
        serialization_message(ct(json!({"LookupAttributes": "EventName"}))),
        "STRING_VALUE can not be converted to List"
    );
    assert_eq!(
        serialization_message(ct(json!({"LookupAttributes": ["EventName"]}))),
        "STRING_VALUE can not be converted to Structure"
    );
    assert_eq!(
        serialization_message(ct(json!({"MaxResults": "5"}))),
        "STRING_VALUE can not be converted to Integer"
    );
    assert_eq!(
        serialization_message(ct(json!({"MaxResults": 5.5}))),
        "NUMBER_VALUE can not be converted to Integer"
    );
    assert_eq!(
        serialization_message(ct(json!({"MaxResults": 3_000_000_000u64}))),
        "NUMBER_VALUE can not be converted to Integer"
    );
    assert_eq!(
        serialization_message(bc("ValidateAddress", json!({"address": {"city": false}}))),
        "FALSE_VALUE can not be converted to String"
    );
}

#[test]
fn wrong_type_wins_over_constraint_errors() {
    // A type error stops validation: no ValidationException for the missing members.
    let input = json!({"fullName": 5});
    assert_eq!(
        serialization_message(bc("SetContactAddress", input)),
        "NUMBER_VALUE can not be converted to String"
    );
}

#[test]
fn timestamps() {
    ct(json!({"StartTime": 1424476529, "EndTime": 1424476529.123})).unwrap();
    ct(json!({"StartTime": "2015-02-20T23:55:29Z"})).unwrap();
    ct(json!({"StartTime": "2015-02-20T23:55:29.5+01:00"})).unwrap();
    assert_eq!(
        serialization_message(ct(json!({"StartTime": "last tuesday"}))),
        "STRING_VALUE can not be converted to Timestamp"
    );
    assert_eq!(
        serialization_message(ct(json!({"StartTime": true}))),
        "TRUE_VALUE can not be converted to Timestamp"
    );
    assert_eq!(
        serialization_message(ct(json!({"StartTime": 1e300}))),
        "NUMBER_VALUE can not be converted to Timestamp"
    );
}

#[test]
fn from_a_raw_body() {
    let body = br#"{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"root"}],"MaxResults":100}"#;
    let input = parse_body(body).unwrap();
    assert_eq!(
        validation_message(cloudtrail_model().validate_input("LookupEvents", &input)),
        "1 validation error detected: Value '100' at 'maxResults' failed to satisfy constraint: \
         Member must have value less than or equal to 50"
    );
}

#[test]
fn many_errors_are_counted_but_capped() {
    let attrs: Vec<Value> = (0..40)
        .map(|_| json!({"AttributeKey": "Nope", "AttributeValue": "x"}))
        .collect();
    let msg = validation_message(ct(json!({"LookupAttributes": attrs})));
    assert!(msg.starts_with("40 validation errors detected: "), "{msg}");
    assert_eq!(
        msg.matches("failed to satisfy constraint").count(),
        MAX_LISTED_ERRORS
    );
    assert!(msg.contains("lookupAttributes.25.member.attributeKey"));
    assert!(!msg.contains("lookupAttributes.26.member"));
}

#[test]
fn long_values_are_cut_in_messages() {
    let huge = "x".repeat(100_000);
    let msg = validation_message(ct(
        json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": huge}]}),
    ));
    assert!(msg.len() < MAX_QUOTED_CHARS + 300, "{}", msg.len());
    assert!(msg.contains("Member must have length less than or equal to 2000"));
}

/// A model exercising the types the shipped models do not use.
const KITCHEN: &str = r#"{
  "version": "2.0",
  "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "kitchen", "protocol": "json",
               "jsonVersion": "1.1", "targetPrefix": "Kitchen"},
  "operations": {"Cook": {"name": "Cook", "http": {"method": "POST", "requestUri": "/"},
                          "input": {"shape": "CookRequest"}, "output": {"shape": "CookRequest"}}},
  "shapes": {
    "CookRequest": {"type": "structure", "members": {
      "Data": {"shape": "Data"}, "Big": {"shape": "Big"}, "Ratio": {"shape": "Ratio"},
      "Small": {"shape": "Small"}, "Tags": {"shape": "Tags"}, "Flag": {"shape": "Flag"},
      "Secrets": {"shape": "Secrets"}, "Items": {"shape": "Items"}, "Nested": {"shape": "Nested"}}},
    "Data": {"type": "blob", "min": 1, "max": 4},
    "Big": {"type": "long", "min": -5, "max": 9000000000},
    "Ratio": {"type": "double", "min": 0, "max": 1},
    "Small": {"type": "byte"},
    "Flag": {"type": "boolean"},
    "Tags": {"type": "map", "key": {"shape": "TagKey"}, "value": {"shape": "TagValue"}, "max": 2},
    "TagKey": {"type": "string", "min": 1, "max": 3},
    "TagValue": {"type": "string", "max": 4},
    "Secret": {"type": "string", "min": 2, "sensitive": true},
    "Secrets": {"type": "list", "member": {"shape": "Secret"}, "max": 1},
    "Items": {"type": "list", "member": {"shape": "Item"}, "min": 1},
    "Item": {"type": "structure", "required": ["Name"], "members": {"Name": {"shape": "TagKey"}, "Pin": {"shape": "Secret"}}},
    "Nested": {"type": "structure", "members": {"Inner": {"shape": "Nested"}, "Leaf": {"shape": "TagKey"}}}
  }
}"#;

fn kitchen(input: Value) -> Result<(), ApiError> {
    ServiceModel::from_json(KITCHEN)
        .unwrap()
        .validate_input("Cook", &obj(input))
}

#[test]
fn blobs_are_base64_with_byte_lengths() {
    kitchen(json!({"Data": "AAECAw=="})).unwrap(); // 4 bytes
    assert_eq!(
        validation_message(kitchen(json!({"Data": "AAECAwQ="}))),
        "1 validation error detected: Value 'AAECAwQ=' at 'data' failed to satisfy constraint: \
         Member must have length less than or equal to 4"
    );
    assert!(serialization_message(kitchen(json!({"Data": "not base64!"}))).contains("base64"));
    assert_eq!(
        serialization_message(kitchen(json!({"Data": 12}))),
        "NUMBER_VALUE can not be converted to Blob"
    );
}

#[test]
fn longs_doubles_bytes_booleans() {
    kitchen(json!({"Big": 9000000000i64, "Ratio": 0.5, "Small": -128, "Flag": false})).unwrap();
    assert_eq!(
        validation_message(kitchen(json!({"Big": 9000000001i64}))),
        "1 validation error detected: Value '9000000001' at 'big' failed to satisfy constraint: \
         Member must have value less than or equal to 9000000000"
    );
    assert_eq!(
        validation_message(kitchen(json!({"Ratio": 1.5}))),
        "1 validation error detected: Value '1.5' at 'ratio' failed to satisfy constraint: \
         Member must have value less than or equal to 1"
    );
    kitchen(json!({"Ratio": "NaN"})).unwrap();
    assert_eq!(
        serialization_message(kitchen(json!({"Ratio": "half"}))),
        "STRING_VALUE can not be converted to Double"
    );
    assert_eq!(
        serialization_message(kitchen(json!({"Small": 128}))),
        "NUMBER_VALUE can not be converted to Byte"
    );
    assert_eq!(
        serialization_message(kitchen(json!({"Flag": "true"}))),
        "STRING_VALUE can not be converted to Boolean"
    );
    assert_eq!(
        serialization_message(kitchen(json!({"Big": u64::MAX}))),
        "NUMBER_VALUE can not be converted to Long"
    );
}

#[test]
fn maps_report_keys_and_values_together() {
    kitchen(json!({"Tags": {"a": "1", "bc": "22"}})).unwrap();
    assert_eq!(
        validation_message(kitchen(json!({"Tags": {"long": "toolong", "": "x"}}))),
        "2 validation errors detected: \
         Value '{long=toolong, =x}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: \
         [Member must have length less than or equal to 3, Member must have length greater than or equal to 1]; \
         Value '{long=toolong, =x}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: \
         [Member must have length less than or equal to 4]"
    );
    assert_eq!(
        validation_message(kitchen(json!({"Tags": {"a": "1", "b": "2", "c": "3"}}))),
        "1 validation error detected: Value '{a=1, b=2, c=3}' at 'tags' failed to satisfy \
         constraint: Member must have length less than or equal to 2"
    );
    assert_eq!(
        serialization_message(kitchen(json!({"Tags": {"a": 1}}))),
        "NUMBER_VALUE can not be converted to String"
    );
    assert_eq!(
        serialization_message(kitchen(json!({"Tags": ["a"]}))),
        "Start of list found where not expected"
    );
}

#[test]
fn lists_of_sensitive_values_are_not_quoted() {
    let msg = validation_message(kitchen(json!({"Secrets": ["hunter2", "x"]})));
    assert_eq!(
        msg,
        "2 validation errors detected: \
         Value '[HIDDEN_DUE_TO_SECURITY_REASONS, HIDDEN_DUE_TO_SECURITY_REASONS]' at 'secrets' failed to satisfy \
         constraint: Member must have length less than or equal to 1; \
         Value at 'secrets.2.member' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
    let msg = validation_message(kitchen(json!({"Items": []})));
    assert!(msg.contains("Value '[]' at 'items'"), "{msg}");
    let msg = validation_message(kitchen(json!({"Items": [{"Pin": "y"}]})));
    assert_eq!(
        msg,
        "2 validation errors detected: \
         Value null at 'items.1.member.name' failed to satisfy constraint: Member must not be null; \
         Value at 'items.1.member.pin' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
}

#[test]
fn recursive_shapes_follow_the_value() {
    let mut v = json!({"Leaf": "toolong"});
    for _ in 0..20 {
        v = json!({"Inner": v});
    }
    let msg = validation_message(kitchen(json!({"Nested": v})));
    assert!(
        msg.contains(&format!("at 'nested.{}leaf'", "inner.".repeat(20))),
        "{msg}"
    );

    // Built in code, deeper than any parsed body can be: refused, not a stack overflow.
    let mut deep = json!({});
    for _ in 0..500 {
        deep = json!({"Inner": deep});
    }
    assert_eq!(
        kitchen(json!({"Nested": deep})).unwrap_err().code,
        "SerializationException"
    );
}
