//! The IAM and STS models we serve over AWS Query: the operations issue #3 needs, botocore's
//! metadata and error traits, secrets marked `sensitive`, and everything documented. (That
//! they equal the pinned botocore's shapes is checked in `query_botocore.rs`.)

use billtrail_protocol::{iam_model, sts_model, ServiceModel, IAM_JSON, STS_JSON};
use serde_json::{json, Value};

fn raw(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn sorted_ops(m: &ServiceModel) -> Vec<&str> {
    let mut ops: Vec<&str> = m.operation_names().collect();
    ops.sort_unstable();
    ops
}

#[test]
fn iam_metadata_and_operations() {
    let m = iam_model();
    assert_eq!(m.api_version(), "2010-05-08");
    assert_eq!(m.protocol(), "query");
    assert!(m.is_query());
    assert_eq!(
        m.xml_namespace(),
        "https://iam.amazonaws.com/doc/2010-05-08/"
    );
    assert_eq!(m.signing_name(), "iam");
    assert_eq!(m.endpoint_prefix(), "iam");
    assert_eq!(m.service_id(), "IAM");
    assert_eq!(m.validation_code(), "ValidationError");
    let meta = &raw(IAM_JSON)["metadata"];
    assert_eq!(meta["globalEndpoint"], "iam.amazonaws.com");
    assert_eq!(meta["signatureVersion"], "v4");
    assert_eq!(
        sorted_ops(m),
        [
            "AttachRolePolicy",
            "AttachUserPolicy",
            "CreateAccessKey",
            "CreateLoginProfile",
            "CreateRole",
            "CreateUser",
            "DeleteAccessKey",
            "DeleteRole",
            "DeleteUser",
            "GetRole",
            "GetRolePolicy",
            "GetUser",
            "GetUserPolicy",
            "ListAccessKeys",
            "ListAttachedRolePolicies",
            "ListAttachedUserPolicies",
            "ListRoles",
            "ListUsers",
            "PutRolePolicy",
            "PutUserPolicy",
            "UpdateAccessKey",
        ]
    );
    for op in m.operation_names() {
        let has_output = m.has_output(op);
        let no_output = [
            "DeleteUser",
            "UpdateAccessKey",
            "DeleteAccessKey",
            "DeleteRole",
            "PutUserPolicy",
            "PutRolePolicy",
            "AttachUserPolicy",
            "AttachRolePolicy",
        ];
        assert_eq!(has_output, !no_output.contains(&op), "{op}");
        let wrapper = format!("{op}Result");
        assert_eq!(
            m.result_wrapper(op),
            has_output.then_some(wrapper.as_str()),
            "{op}"
        );
    }
    assert_eq!(
        m.input_members("CreateUser"),
        ["Path", "UserName", "PermissionsBoundary", "Tags"]
    );
    assert_eq!(
        m.input_members("CreateRole"),
        [
            "Path",
            "RoleName",
            "AssumeRolePolicyDocument",
            "Description",
            "MaxSessionDuration",
            "MaxSigninSessionDuration",
            "PermissionsBoundary",
            "Tags"
        ]
    );
    assert_eq!(
        m.operation_errors("DeleteUser"),
        [
            "LimitExceededException",
            "NoSuchEntityException",
            "DeleteConflictException",
            "ConcurrentModificationException",
            "ServiceFailureException"
        ]
    );
}

#[test]
fn sts_metadata_and_operations() {
    let m = sts_model();
    assert_eq!(m.api_version(), "2011-06-15");
    assert!(m.is_query());
    assert_eq!(
        m.xml_namespace(),
        "https://sts.amazonaws.com/doc/2011-06-15/"
    );
    assert_eq!(m.signing_name(), "sts");
    assert_eq!(m.service_id(), "STS");
    assert_eq!(
        sorted_ops(m),
        [
            "AssumeRole",
            "GetCallerIdentity",
            "GetFederationToken",
            "GetSessionToken"
        ]
    );
    assert_eq!(
        m.input_members("AssumeRole"),
        [
            "RoleArn",
            "RoleSessionName",
            "PolicyArns",
            "Policy",
            "DurationSeconds",
            "Tags",
            "TransitiveTagKeys",
            "ExternalId",
            "SerialNumber",
            "TokenCode",
            "SourceIdentity",
            "ProvidedContexts",
            "MinimumSessionTokenSize"
        ]
    );
    assert_eq!(
        m.input_members("GetFederationToken"),
        [
            "Name",
            "Policy",
            "PolicyArns",
            "DurationSeconds",
            "Tags",
            "MinimumSessionTokenSize"
        ]
    );
    assert_eq!(
        m.input_members("GetSessionToken"),
        [
            "DurationSeconds",
            "SerialNumber",
            "TokenCode",
            "MinimumSessionTokenSize"
        ]
    );
    assert!(m.input_members("GetCallerIdentity").is_empty());
    assert_eq!(
        m.operation_errors("AssumeRole"),
        [
            "MalformedPolicyDocumentException",
            "PackedPolicyTooLargeException",
            "RegionDisabledException",
            "ExpiredTokenException",
            "InvalidContextAssertionException"
        ]
    );
    let shapes = &raw(STS_JSON)["shapes"];
    let members = |name: &str| -> Vec<String> {
        shapes[name]["members"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        members("Credentials"),
        [
            "AccessKeyId",
            "SecretAccessKey",
            "SessionToken",
            "Expiration"
        ]
    );
    assert_eq!(members("AssumedRoleUser"), ["AssumedRoleId", "Arn"]);
    assert_eq!(members("FederatedUser"), ["FederatedUserId", "Arn"]);
    assert!(members("AssumeRoleResponse").contains(&"PackedPolicySize".to_owned()));
    assert!(members("AssumeRoleResponse").contains(&"SourceIdentity".to_owned()));
    assert_eq!(
        members("GetCallerIdentityResponse"),
        ["UserId", "Account", "Arn"]
    );
}

#[test]
fn error_traits_are_botocores() {
    let iam = &raw(IAM_JSON)["shapes"];
    for (shape, code, status) in [
        ("NoSuchEntityException", "NoSuchEntity", 404),
        ("EntityAlreadyExistsException", "EntityAlreadyExists", 409),
        ("LimitExceededException", "LimitExceeded", 409),
        (
            "MalformedPolicyDocumentException",
            "MalformedPolicyDocument",
            400,
        ),
        ("InvalidInputException", "InvalidInput", 400),
        ("DeleteConflictException", "DeleteConflict", 409),
        ("ServiceFailureException", "ServiceFailure", 500),
        (
            "PasswordPolicyViolationException",
            "PasswordPolicyViolation",
            400,
        ),
        ("UnmodifiableEntityException", "UnmodifiableEntity", 400),
        ("PolicyNotAttachableException", "PolicyNotAttachable", 400),
        (
            "ConcurrentModificationException",
            "ConcurrentModification",
            409,
        ),
    ] {
        assert_eq!(iam[shape]["error"]["code"], code, "{shape}");
        assert_eq!(iam[shape]["error"]["httpStatusCode"], status, "{shape}");
        let e = iam_model().error(shape, "m");
        assert_eq!((e.code.as_ref(), e.status), (code, status));
    }
    let sts = &raw(STS_JSON)["shapes"];
    for (shape, code, status) in [
        (
            "MalformedPolicyDocumentException",
            "MalformedPolicyDocument",
            400,
        ),
        ("PackedPolicyTooLargeException", "PackedPolicyTooLarge", 400),
        ("RegionDisabledException", "RegionDisabledException", 403),
        ("ExpiredTokenException", "ExpiredTokenException", 400),
    ] {
        assert_eq!(sts[shape]["error"]["code"], code, "{shape}");
        assert_eq!(sts[shape]["error"]["httpStatusCode"], status, "{shape}");
    }
}

#[test]
fn secrets_are_sensitive_as_in_botocore() {
    let iam = &raw(IAM_JSON)["shapes"];
    assert_eq!(iam["accessKeySecretType"]["sensitive"], true);
    assert_eq!(iam["passwordType"]["sensitive"], true);
    assert_eq!(
        iam["AccessKey"]["members"]["SecretAccessKey"]["shape"],
        "accessKeySecretType"
    );
    assert_eq!(
        iam["CreateLoginProfileRequest"]["members"]["Password"]["shape"],
        "passwordType"
    );
    let sts = &raw(STS_JSON)["shapes"];
    assert_eq!(sts["accessKeySecretType"]["sensitive"], true);
    assert_eq!(
        sts["Credentials"]["members"]["SecretAccessKey"]["shape"],
        "accessKeySecretType"
    );
    // Exactly those: botocore marks nothing else in these subsets (not even SessionToken, which
    // the audit layer hides on its own).
    for (text, expected) in [
        (IAM_JSON, vec!["accessKeySecretType", "passwordType"]),
        (STS_JSON, vec!["accessKeySecretType"]),
    ] {
        let model = raw(text);
        let sensitive: Vec<&str> = model["shapes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, s)| s["sensitive"] == true)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(sensitive, expected);
    }
    let out = json!({"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s",
                     "SessionToken": "t", "Expiration": 0}});
    let red = sts_model().redact("GetSessionToken", true, &out);
    assert_eq!(
        red["Credentials"]["SecretAccessKey"],
        billtrail_protocol::HIDDEN
    );
}

#[test]
fn everything_is_documented_and_post_slash() {
    for text in [IAM_JSON, STS_JSON] {
        let model = raw(text);
        assert_eq!(model["version"], "2.0");
        for (name, op) in model["operations"].as_object().unwrap() {
            assert_eq!(op["name"], name.as_str());
            assert_eq!(op["http"]["method"], "POST", "{name}");
            assert_eq!(op["http"]["requestUri"], "/", "{name}");
            assert!(op["documentation"].is_string(), "{name}");
        }
        for (name, shape) in model["shapes"].as_object().unwrap() {
            let doc = shape["documentation"].as_str().unwrap_or_default();
            assert!(!doc.is_empty() && doc.len() < 200, "shape {name}: {doc:?}");
            if let Some(members) = shape["members"].as_object() {
                for (member, body) in members {
                    assert!(body["documentation"].is_string(), "{name}.{member}");
                }
            }
        }
    }
}

#[test]
fn java_patterns_keep_their_meaning() {
    // `\w` is ASCII in Java: IAM names refuse letters outside it ...
    let bad = serde_json::Map::from_iter([("UserName".to_owned(), json!("jos\u{e9}"))]);
    let e = iam_model().validate_input("CreateUser", &bad).unwrap_err();
    assert!(e.message.contains("regular expression pattern"), "{e}");
    // ... while `\p{L}` (tag keys) takes any letter, and `\p{Z}` a no-break space.
    let ok = json!({"UserName": "jose", "Tags": [{"Key": "\u{e9}quipe\u{a0}\u{4e00}", "Value": "\u{661}"}]});
    iam_model()
        .validate_input("CreateUser", ok.as_object().unwrap())
        .unwrap();
    // `[\d]*` is ASCII digits only.
    let code = json!({"TokenCode": "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}"});
    let e = sts_model()
        .validate_input("GetSessionToken", code.as_object().unwrap())
        .unwrap_err();
    assert!(e.message.contains("tokenCode"), "{e}");
}
