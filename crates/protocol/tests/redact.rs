//! `ServiceModel::redact` and the lower-camel helpers.

use billtrail_protocol::{
    billingconsole_model, cloudtrail_model, lower_camel_keys, ServiceModel, HIDDEN,
};
use serde_json::{json, Value};

const VAULT: &str = r#"{
  "version": "2.0",
  "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "vault", "protocol": "json",
               "jsonVersion": "1.1", "targetPrefix": "Vault"},
  "operations": {"Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"},
                         "input": {"shape": "PutRequest"}, "output": {"shape": "PutResponse"}}},
  "shapes": {
    "PutRequest": {"type": "structure", "members": {
      "Name": {"shape": "Plain"}, "Secret": {"shape": "Secret"},
      "Entries": {"shape": "Entries"}, "Pins": {"shape": "Pins"},
      "ByName": {"shape": "ByName"}, "Locked": {"shape": "Locked"},
      "Labels": {"shape": "Labels"}}},
    "PutResponse": {"type": "structure", "members": {"Token": {"shape": "Secret"}, "Id": {"shape": "Plain"}}},
    "Plain": {"type": "string"},
    "Secret": {"type": "string", "sensitive": true},
    "Entry": {"type": "structure", "members": {"Label": {"shape": "Plain"}, "Key": {"shape": "Secret"},
                                               "Inner": {"shape": "Entry"}}},
    "Entries": {"type": "list", "member": {"shape": "Entry"}},
    "Pins": {"type": "list", "member": {"shape": "Secret"}},
    "ByName": {"type": "map", "key": {"shape": "Plain"}, "value": {"shape": "Entry"}},
    "Locked": {"type": "structure", "sensitive": true, "members": {"A": {"shape": "Plain"}}},
    "Labels": {"type": "map", "key": {"shape": "Secret"}, "value": {"shape": "Plain"}}
  }
}"#;

fn vault() -> ServiceModel {
    ServiceModel::from_json(VAULT).unwrap()
}

#[test]
fn hides_nested_sensitive_values() {
    let input = json!({
        "Name": "visible",
        "Secret": "s3cret",
        "Entries": [
            {"Label": "a", "Key": "k1", "Inner": {"Label": "deep", "Key": "k2", "Inner": {"Key": "k3"}}},
            {"Label": "b"}
        ],
        "Pins": ["1234", "5678"],
        "ByName": {"x": {"Label": "in map", "Key": "k4"}},
        "Locked": {"A": "whole structure"},
        "Labels": {"secret-key": "v"},
        "Unknown": "copied"
    });
    let out = vault().redact("Put", false, &input);
    assert_eq!(
        out,
        json!({
            "Name": "visible",
            "Secret": HIDDEN,
            "Entries": [
                {"Label": "a", "Key": HIDDEN, "Inner": {"Label": "deep", "Key": HIDDEN, "Inner": {"Key": HIDDEN}}},
                {"Label": "b"}
            ],
            "Pins": [HIDDEN, HIDDEN],
            "ByName": {"x": {"Label": "in map", "Key": HIDDEN}},
            "Locked": HIDDEN,
            "Labels": HIDDEN,
            "Unknown": "copied"
        })
    );
    let text = out.to_string();
    for secret in [
        "s3cret",
        "k1",
        "k2",
        "k3",
        "k4",
        "1234",
        "5678",
        "whole structure",
        "secret-key",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

#[test]
fn hides_whatever_the_json_type_and_keeps_null() {
    let out = vault().redact(
        "Put",
        false,
        &json!({"Secret": 12345678, "Pins": [null, {"a": 1}]}),
    );
    assert_eq!(out, json!({"Secret": HIDDEN, "Pins": [null, HIDDEN]}));
    let out = vault().redact("Put", false, &json!({"Secret": null}));
    assert_eq!(out, json!({"Secret": null}));
}

#[test]
fn output_side() {
    let out = vault().redact("Put", true, &json!({"Token": "t", "Id": "i"}));
    assert_eq!(out, json!({"Token": HIDDEN, "Id": "i"}));
}

#[test]
fn matches_lower_camel_keys_too() {
    let params = lower_camel_keys(&json!({"Secret": "s", "Entries": [{"Key": "k"}]}));
    assert_eq!(
        vault().redact("Put", false, &params),
        json!({"secret": HIDDEN, "entries": [{"key": HIDDEN}]})
    );
}

#[test]
fn unknown_operation_or_mismatched_types_copy() {
    let v = json!({"Secret": "s"});
    assert_eq!(vault().redact("Nope", false, &v), v);
    let odd = json!({"Entries": "not a list", "ByName": [1]});
    assert_eq!(vault().redact("Put", false, &odd), odd);
    assert_eq!(
        vault().redact("Put", false, &json!("scalar")),
        json!("scalar")
    );
}

#[test]
fn deeper_than_checkable_is_hidden() {
    let mut v = json!({"Label": "bottom"});
    for _ in 0..200 {
        v = json!({"Inner": v});
    }
    let out = vault().redact("Put", false, &json!({"Entries": [v]}));
    assert!(out.to_string().contains(HIDDEN));
    assert!(!out.to_string().contains("bottom"));
}

#[test]
fn billingconsole_passwords() {
    let input = json!({"accountName": "prod", "email": "root@example.com",
                       "password": "correct horse", "currentPassword": "battery staple"});
    assert_eq!(
        billingconsole_model().redact("SetAccountPreferences", false, &input),
        json!({"accountName": "prod", "email": "root@example.com",
               "password": HIDDEN, "currentPassword": HIDDEN})
    );
    // Contact details are not secrets: the seed's record shows them.
    let contact = json!({"fullName": "Jane Doe", "phoneNumber": "206-555-0100"});
    assert_eq!(
        billingconsole_model().redact("SetContactAddress", false, &contact),
        contact
    );
}

#[test]
fn model_aware_camel_case_spares_map_keys() {
    let input = json!({"Name": "n", "ByName": {"KeepMe": {"Label": "l", "Inner": {"Key": "k"}}},
                       "Entries": [{"Label": "a"}], "NotInModel": {"Deep": 1}});
    assert_eq!(
        vault().lower_camel_members("Put", false, &input),
        json!({"name": "n", "byName": {"KeepMe": {"label": "l", "inner": {"key": "k"}}},
               "entries": [{"label": "a"}], "NotInModel": {"Deep": 1}})
    );
    let lookup = json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "X"}], "MaxResults": 5});
    let expected = json!({"lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "X"}], "maxResults": 5});
    assert_eq!(
        cloudtrail_model().lower_camel_members("LookupEvents", false, &lookup),
        expected
    );
    assert_eq!(lower_camel_keys(&lookup), expected);
    assert_eq!(
        vault().lower_camel_members("Nope", false, &json!({"A": 1})),
        json!({"A": 1})
    );
    let _: Value = lower_camel_keys(&Value::Null);
}
