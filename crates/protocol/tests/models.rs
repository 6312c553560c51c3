//! The shipped models load, say what the server and the AWS CLI expect, and document
//! everything.

use billtrail_protocol::{
    billingconsole_model, cloudtrail_model, ServiceModel, BILLINGCONSOLE_JSON, CLOUDTRAIL_JSON,
};
use serde_json::Value;

fn raw(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn billingconsole_metadata() {
    let m = billingconsole_model();
    assert_eq!(m.target_prefix(), "AWSBillingConsoleService");
    assert_eq!(m.signing_name(), "billingconsole");
    assert_eq!(m.api_version(), "2018-05-30");
    assert_eq!(m.endpoint_prefix(), "billingconsole");
    assert_eq!(m.protocol(), "json");
    assert_eq!(m.service_id(), "billingconsole");
    assert_eq!(m.service_full_name(), "AWS Billing Console");
    let meta = &raw(BILLINGCONSOLE_JSON)["metadata"];
    assert_eq!(meta["jsonVersion"], "1.1");
    assert_eq!(meta["protocols"], serde_json::json!(["json"]));
    assert_eq!(meta["signatureVersion"], "v4");
    assert_eq!(meta["uid"], "billingconsole-2018-05-30");
}

#[test]
fn billingconsole_operations() {
    let m = billingconsole_model();
    let mut ops: Vec<_> = m.operation_names().collect();
    ops.sort_unstable();
    assert_eq!(
        ops,
        [
            "GetAddresses",
            "GetSupportedCountryCodes",
            "SetAccountPreferences",
            "SetContactAddress",
            "SetIAMAccessPreference",
            "ValidateAddress"
        ]
    );
    assert!(m.has_operation("GetAddresses"));
    assert!(!m.has_operation("getAddresses"));
    assert!(m.input_members("GetAddresses").is_empty());
    assert_eq!(m.input_members("ValidateAddress"), ["address"]);
    assert_eq!(
        m.input_members("SetAccountPreferences"),
        ["accountName", "email", "password", "currentPassword"]
    );
    assert!(m
        .operation_errors("SetContactAddress")
        .contains(&"ValidationException"));
}

/// The request members of SetContactAddress are exactly the seed record's requestParameters.
#[test]
fn set_contact_address_has_exactly_the_seed_members() {
    let members = billingconsole_model().input_members("SetContactAddress");
    let expected = [
        "website",
        "city",
        "postalCode",
        "fullName",
        "districtOrCounty",
        "phoneNumber",
        "countryCode",
        "addressLine1",
        "addressLine2",
        "company",
        "state",
        "addressLine3",
        "secondaryPhone",
    ];
    assert_eq!(members, expected);
    let shapes = &raw(BILLINGCONSOLE_JSON)["shapes"];
    let contact: Vec<&str> = shapes["ContactAddress"]["members"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(contact, expected);
    let mut required: Vec<&str> = shapes["SetContactAddressRequest"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(
        required,
        [
            "addressLine1",
            "city",
            "countryCode",
            "fullName",
            "phoneNumber",
            "postalCode"
        ]
    );
}

#[test]
fn billingconsole_errors_and_sensitive_shapes() {
    let m = billingconsole_model();
    for (code, status) in [
        ("ValidationException", 400),
        ("AccessDeniedException", 400),
        ("ResourceNotFoundException", 404),
        ("ConflictException", 409),
        ("ThrottlingException", 400),
        ("InternalServerException", 500),
    ] {
        assert_eq!(m.error(code, "m").status, status, "{code}");
    }
    let shapes = &raw(BILLINGCONSOLE_JSON)["shapes"];
    assert_eq!(shapes["Password"]["sensitive"], true);
    assert_eq!(shapes["CurrentPassword"]["sensitive"], true);
    assert_eq!(
        shapes["InternalServerException"]["error"]["senderFault"],
        Value::Null
    );
    assert_eq!(shapes["ValidationException"]["error"]["senderFault"], true);
}

#[test]
fn every_operation_is_post_slash_and_everything_is_documented() {
    for text in [BILLINGCONSOLE_JSON, CLOUDTRAIL_JSON] {
        let model = raw(text);
        assert_eq!(model["version"], "2.0");
        for (name, op) in model["operations"].as_object().unwrap() {
            assert_eq!(op["name"], name.as_str());
            assert_eq!(op["http"]["method"], "POST", "{name}");
            assert_eq!(op["http"]["requestUri"], "/", "{name}");
            assert!(op["documentation"].is_string(), "{name}");
        }
        for (name, shape) in model["shapes"].as_object().unwrap() {
            assert!(shape["documentation"].is_string(), "shape {name}");
            if let Some(members) = shape["members"].as_object() {
                for (member, body) in members {
                    assert!(body["documentation"].is_string(), "{name}.{member}");
                }
            }
            if shape["exception"] == true {
                let members: Vec<_> = shape["members"].as_object().unwrap().keys().collect();
                assert_eq!(members, ["message"], "{name}");
                assert!(shape["error"]["httpStatusCode"].is_u64(), "{name}");
            }
        }
    }
}

#[test]
fn cloudtrail_lookup_events() {
    let m = cloudtrail_model();
    assert_eq!(
        m.target_prefix(),
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
    );
    assert_eq!(m.signing_name(), "cloudtrail");
    assert_eq!(m.api_version(), "2013-11-01");
    assert_eq!(m.service_id(), "CloudTrail");
    assert!(m.has_operation("LookupEvents"));
    assert_eq!(
        m.input_members("LookupEvents"),
        [
            "LookupAttributes",
            "StartTime",
            "EndTime",
            "EventCategory",
            "MaxResults",
            "NextToken"
        ]
    );
    assert_eq!(
        m.operation_errors("LookupEvents"),
        [
            "InvalidLookupAttributesException",
            "InvalidTimeRangeException",
            "InvalidMaxResultsException",
            "InvalidNextTokenException",
            "InvalidEventCategoryException",
            "UnsupportedOperationException",
            "OperationNotPermittedException"
        ]
    );
    let shapes = &raw(CLOUDTRAIL_JSON)["shapes"];
    assert_eq!(
        shapes["LookupAttributeKey"]["enum"],
        serde_json::json!([
            "EventId",
            "EventName",
            "ReadOnly",
            "Username",
            "ResourceType",
            "ResourceName",
            "EventSource",
            "AccessKeyId"
        ])
    );
    let event: Vec<_> = shapes["Event"]["members"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        event,
        [
            "EventId",
            "EventName",
            "ReadOnly",
            "AccessKeyId",
            "EventTime",
            "EventSource",
            "Username",
            "Resources",
            "CloudTrailEvent"
        ]
    );
}

#[test]
fn models_reparse_identically() {
    // Parsing is deterministic and the embedded text is the file on disk.
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/billingconsole/2018-05-30/service-2.json"
    ))
    .unwrap();
    assert_eq!(on_disk, BILLINGCONSOLE_JSON);
    let again = ServiceModel::from_json(&on_disk).unwrap();
    assert_eq!(
        again.operation_names().collect::<Vec<_>>(),
        billingconsole_model().operation_names().collect::<Vec<_>>()
    );
}
