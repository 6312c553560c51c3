//! AWS Query decoding and encoding: nested structures, lists (wrapped and flattened), maps,
//! type conversion, the Action/Version checks, the XML response and the error document, and
//! Query error spellings, on the shipped IAM/STS models and on a small model that has every
//! serialization trait.

use billtrail_protocol::query::{
    self, check_output, decode, encode_error, encode_response, wire_error, QueryRequest,
};
use billtrail_protocol::{iam_model, sts_model, ApiError, ServiceModel};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Value};

/// A Query model with a map, flattened lists and maps, `locationName`s, every scalar type and
/// a `timestampFormat`, none of which IAM/STS's subset uses.
const TRAITS: &str = r#"{
  "version": "2.0",
  "metadata": {"apiVersion": "2020-02-02", "endpointPrefix": "traits", "protocol": "query",
               "xmlNamespace": "https://traits.example/doc/2020-02-02/", "serviceId": "Traits"},
  "operations": {
    "Put": {"name": "Put", "input": {"shape": "PutInput"},
            "output": {"shape": "PutOutput", "resultWrapper": "PutResult"},
            "errors": [{"shape": "Busy"}, {"shape": "Broken"}]},
    "Ping": {"name": "Ping"},
    "Bare": {"name": "Bare", "output": {"shape": "PutOutput"}}
  },
  "shapes": {
    "PutInput": {"type": "structure", "required": ["Name"], "members": {
      "Name": {"shape": "Str"},
      "Count": {"shape": "Int"},
      "Big": {"shape": "Long"},
      "Ratio": {"shape": "Dbl"},
      "On": {"shape": "Bool"},
      "When": {"shape": "Time"},
      "WhenEpoch": {"shape": "Time", "timestampFormat": "unixTimestamp"},
      "Data": {"shape": "Blob"},
      "Secret": {"shape": "Secret"},
      "Inner": {"shape": "Inner"},
      "Items": {"shape": "InnerList"},
      "Flat": {"shape": "FlatList"},
      "Named": {"shape": "NamedList"},
      "Renamed": {"shape": "Str", "locationName": "OtherName"},
      "Attrs": {"shape": "Attrs"},
      "FlatAttrs": {"shape": "FlatAttrs"}
    }},
    "PutOutput": {"type": "structure", "members": {
      "Name": {"shape": "Str"},
      "Count": {"shape": "Int"},
      "Ratio": {"shape": "Dbl"},
      "On": {"shape": "Bool"},
      "When": {"shape": "Time"},
      "Data": {"shape": "Blob"},
      "Inner": {"shape": "Inner"},
      "Items": {"shape": "InnerList"},
      "Flat": {"shape": "FlatList"},
      "Named": {"shape": "NamedList"},
      "Renamed": {"shape": "Str", "locationName": "OtherName"},
      "Attrs": {"shape": "Attrs"},
      "FlatAttrs": {"shape": "FlatAttrs"}
    }},
    "Inner": {"type": "structure", "members": {
      "Key": {"shape": "Str"}, "Value": {"shape": "Str"}, "Deeper": {"shape": "Inner2"}}},
    "Inner2": {"type": "structure", "members": {"Leaf": {"shape": "Int"}}},
    "InnerList": {"type": "list", "member": {"shape": "Inner"}},
    "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": true},
    "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Item"},
                  "flattened": true},
    "Attrs": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}},
    "FlatAttrs": {"type": "map", "key": {"shape": "Str", "locationName": "Name"},
                  "value": {"shape": "Str", "locationName": "Val"}, "flattened": true},
    "Str": {"type": "string"},
    "Secret": {"type": "string", "sensitive": true, "min": 3},
    "Int": {"type": "integer", "min": 1},
    "Long": {"type": "long"},
    "Dbl": {"type": "double"},
    "Bool": {"type": "boolean"},
    "Time": {"type": "timestamp"},
    "Blob": {"type": "blob"},
    "Busy": {"type": "structure", "members": {}, "exception": true,
             "error": {"code": "Busy", "httpStatusCode": 409, "senderFault": true}},
    "Broken": {"type": "structure", "members": {}, "exception": true,
               "error": {"code": "BrokenFault", "httpStatusCode": 503}}
  }
}"#;

fn traits() -> ServiceModel {
    ServiceModel::from_json(TRAITS).unwrap()
}

fn dec(model: &ServiceModel, body: &str) -> Result<QueryRequest, ApiError> {
    decode(model, body.as_bytes(), "")
}

fn xml(bytes: Vec<u8>) -> String {
    let text = String::from_utf8(bytes).unwrap();
    assert_well_formed(&text);
    text
}

/// Reads the whole document with quick-xml: balanced, escaped, one root.
fn assert_well_formed(text: &str) {
    let mut reader = Reader::from_str(text);
    let mut depth = 0i64;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(Event::Text(t)) => {
                t.decode().unwrap();
            }
            Ok(Event::GeneralRef(r)) => {
                // Only the predefined entities and character references we write.
                let name = r.decode().unwrap().into_owned();
                assert!(
                    matches!(name.as_str(), "amp" | "lt" | "gt" | "quot" | "apos")
                        || name.starts_with('#'),
                    "{name}"
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed ({e}): {text}"),
        }
        assert!(depth >= 0, "{text}");
    }
    assert_eq!((depth, roots), (0, 1), "{text}");
}

// ---- decode ----

#[test]
fn decodes_action_version_and_scalars() {
    let r = dec(
        iam_model(),
        "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F",
    )
    .unwrap();
    assert_eq!(r.action, "CreateUser");
    assert_eq!(r.version.as_deref(), Some("2010-05-08"));
    assert_eq!(
        Value::Object(r.input),
        json!({"UserName": "alice", "Path": "/team/"})
    );
}

#[test]
fn decodes_lists_of_structures_in_index_order() {
    let body = "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D\
                &Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1\
                &Tags.member.10.Key=c&Tags.member.10.Value=";
    let r = dec(iam_model(), body).unwrap();
    assert_eq!(
        r.input["Tags"],
        json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}])
    );
    assert_eq!(r.input["AssumeRolePolicyDocument"], "{}");
    iam_model().validate_input(&r.action, &r.input).unwrap();
}

#[test]
fn decodes_sts_lists_integers_and_policy_arns() {
    let body = "Action=AssumeRole&Version=2011-06-15\
                &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=s1\
                &DurationSeconds=3600&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess\
                &TransitiveTagKeys.member.1=team&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fme\
                &TokenCode=123456&Policy=%7B%22Version%22%3A%222012-10-17%22%7D";
    let r = dec(sts_model(), body).unwrap();
    assert_eq!(
        Value::Object(r.input.clone()),
        json!({
            "RoleArn": "arn:aws:iam::123456789012:role/demo",
            "RoleSessionName": "s1",
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Policy": "{\"Version\":\"2012-10-17\"}",
            "DurationSeconds": 3600,
            "TransitiveTagKeys": ["team"],
            "SerialNumber": "arn:aws:iam::123456789012:mfa/me",
            "TokenCode": "123456"
        })
    );
    sts_model().validate_input("AssumeRole", &r.input).unwrap();
}

#[test]
fn empty_list_is_name_equals_nothing() {
    let r = dec(iam_model(), "Action=CreateUser&UserName=u&Tags=").unwrap();
    assert_eq!(r.input["Tags"], json!([]));
    assert_eq!(r.version, None, "Version is optional");
}

#[test]
fn decodes_every_trait_of_the_small_model() {
    let body = "Action=Put&Version=2020-02-02&Name=n&Count=-3&Big=9007199254740993&Ratio=2.5\
                &On=TRUE&When=2024-05-30T16%3A44%3A04.123Z&WhenEpoch=1717087444&Data=AAECAw%3D%3D\
                &Inner.Key=k&Inner.Deeper.Leaf=7\
                &Items.member.1.Key=x&Items.member.2.Value=y\
                &Flat.1=f1&Flat.2=f2&Item.1=i1&OtherName=renamed\
                &Attrs.entry.1.key=a&Attrs.entry.1.value=1&Attrs.entry.2.key=b&Attrs.entry.2.value=2\
                &FlatAttrs.1.Name=x&FlatAttrs.1.Val=y&Unknown.member.1=ignored&Renamed=not-this";
    let r = dec(&traits(), body).unwrap();
    assert_eq!(
        Value::Object(r.input),
        json!({
            "Name": "n", "Count": -3, "Big": 9007199254740993_i64, "Ratio": 2.5, "On": true,
            "When": "2024-05-30T16:44:04.123Z", "WhenEpoch": 1717087444.0, "Data": "AAECAw==",
            "Inner": {"Key": "k", "Deeper": {"Leaf": 7}},
            "Items": [{"Key": "x"}, {"Value": "y"}],
            "Flat": ["f1", "f2"], "Named": ["i1"], "Renamed": "renamed",
            "Attrs": {"a": 1, "b": 2}, "FlatAttrs": {"x": "y"}
        })
    );
}

#[test]
fn url_query_and_body_merge_with_the_body_winning() {
    let r = decode(
        iam_model(),
        b"UserName=from-body",
        "?Action=GetUser&Version=2010-05-08&UserName=from-url",
    )
    .unwrap();
    assert_eq!(r.action, "GetUser");
    assert_eq!(r.input["UserName"], "from-body");
    let r = decode(iam_model(), b"", "Action=ListUsers&MaxItems=5").unwrap();
    assert_eq!(r.input["MaxItems"], 5);
}

#[test]
fn values_that_do_not_convert_are_one_validation_error() {
    let e = dec(
        &traits(),
        "Action=Put&Name=n&Count=ten&On=yes&Secret=hunter2&When=yesterday&Ratio=1e999&Data=%%%",
    )
    .unwrap_err();
    assert_eq!((e.code.as_ref(), e.status), ("ValidationError", 400));
    assert!(
        e.message.starts_with("5 validation errors detected: "),
        "{}",
        e.message
    );
    for needle in [
        "Value 'ten' at 'count' failed to satisfy constraint: Member must be of type Integer",
        "Value 'yes' at 'on' failed to satisfy constraint: Member must be of type Boolean",
        "Value 'yesterday' at 'when' failed to satisfy constraint: Member must be of type Timestamp",
        "Value '1e999' at 'ratio' failed to satisfy constraint: Member must be of type Double",
        "Value '%%%' at 'data' failed to satisfy constraint: Member must be of type Blob",
    ] {
        assert!(e.message.contains(needle), "{needle}: {}", e.message);
    }
    // Out of the type's range.
    let e = dec(iam_model(), "Action=ListUsers&MaxItems=4294967296").unwrap_err();
    assert!(e.message.contains("Member must be of type Integer"), "{e}");
    // A sensitive value that does not convert is not quoted (and a sensitive string converts).
    let secret = r#"{"version":"2.0","metadata":{"apiVersion":"1","endpointPrefix":"s","protocol":"query","xmlNamespace":"n"},
      "operations":{"Op":{"name":"Op","input":{"shape":"In"}}},
      "shapes":{"In":{"type":"structure","members":{"Pin":{"shape":"Pin"}}},
                "Pin":{"type":"integer","sensitive":true}}}"#;
    let m = ServiceModel::from_json(secret).unwrap();
    let e = dec(&m, "Action=Op&Pin=abc-secret").unwrap_err();
    assert!(!e.message.contains("abc-secret"), "{e}");
    assert!(e.message.contains("Value at 'pin'"), "{e}");
}

#[test]
fn constraints_are_query_validation_errors() {
    let r = dec(
        iam_model(),
        "Action=CreateUser&UserName=b%C3%A9a&Tags.member.1.Key=k",
    )
    .unwrap();
    let e = iam_model().validate_input(&r.action, &r.input).unwrap_err();
    assert_eq!((e.code.as_ref(), e.status), ("ValidationError", 400));
    assert_eq!(
        e.message,
        "2 validation errors detected: Value 'béa' at 'userName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value null at \
         'tags.1.member.value' failed to satisfy constraint: Member must not be null"
    );
    // Java's \p{L} classes work (tag keys may be any letter), `\w` stays ASCII.
    let r = dec(
        iam_model(),
        "Action=CreateUser&UserName=u&Tags.member.1.Key=%C3%A9quipe&Tags.member.1.Value=%E5%80%BC",
    )
    .unwrap();
    iam_model().validate_input(&r.action, &r.input).unwrap();
    // Missing required members.
    let r = dec(sts_model(), "Action=AssumeRole&DurationSeconds=60").unwrap();
    let e = sts_model()
        .validate_input("AssumeRole", &r.input)
        .unwrap_err();
    assert_eq!(
        e.message,
        "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: \
         Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: \
         Member must not be null; Value '60' at 'durationSeconds' failed to satisfy constraint: \
         Member must have value greater than or equal to 900"
    );
    // A password is never quoted.
    let r = dec(
        iam_model(),
        "Action=CreateLoginProfile&UserName=u&Password=",
    )
    .unwrap();
    let e = iam_model()
        .validate_input("CreateLoginProfile", &r.input)
        .unwrap_err();
    assert!(e.message.contains("Value at 'password'"), "{e}");
}

#[test]
fn action_errors() {
    for body in ["", "Version=2010-05-08", "Action=", "UserName=x"] {
        let e = dec(iam_model(), body).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.status, e.message.as_str()),
            ("MissingAction", 400, "Missing Action"),
            "{body:?}"
        );
    }
    let e = dec(iam_model(), "Action=CreateBucket&Version=2010-05-08").unwrap_err();
    assert_eq!((e.code.as_ref(), e.status), ("InvalidAction", 400));
    assert_eq!(
        e.message,
        "Could not find operation CreateBucket for version 2010-05-08"
    );
    let e = dec(iam_model(), "Action=CreateUser&Version=2011-06-15").unwrap_err();
    assert_eq!(
        e.message,
        "Could not find operation CreateUser for version 2011-06-15"
    );
    let e = dec(sts_model(), "Action=createUser").unwrap_err();
    assert_eq!(
        e.message,
        "Could not find operation createUser for version 2011-06-15"
    );
    let long = format!("Action={}", "A".repeat(10_000));
    assert!(dec(iam_model(), &long).unwrap_err().message.len() < 400);
    // validate_input on a Query model says InvalidAction too.
    let e = iam_model()
        .validate_input("Nope", &serde_json::Map::new())
        .unwrap_err();
    assert_eq!(e.code, "InvalidAction");
}

#[test]
fn malformed_names_are_ignored() {
    let body = "Action=CreateUser&UserName=u&Tags.member.0.Key=zero&Tags.member.x.Key=x\
                &Tags.member.-1.Key=neg&Tags.member.99999999999.Key=big&Tags.member.1=scalar\
                &UserName.Nested=1&.&..&=&Tags.member.1.Key.Deeper=1&%FF%FE=%FF";
    let r = dec(iam_model(), body).unwrap();
    assert_eq!(
        Value::Object(r.input),
        json!({"UserName": "u", "Tags": [{}]})
    );
    let deep = format!("Action=CreateUser&UserName=u&{}=1", "a.".repeat(100_000));
    assert!(dec(iam_model(), &deep).is_ok());
}

// ---- encode_response ----

#[test]
fn encodes_iam_create_user() {
    let out = json!({"User": {
        "Path": "/", "UserName": "alice", "UserId": "AIDAEXAMPLEEXAMPLE01",
        "Arn": "arn:aws:iam::123456789012:user/alice", "CreateDate": 1717087444.5,
        "Tags": [{"Key": "a&b", "Value": "<x>"}, {"Key": "k", "Value": ""}]
    }});
    let text = xml(encode_response(iam_model(), "CreateUser", &out, "req-1").unwrap());
    assert_eq!(
        text,
        "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <CreateUserResult><User><Path>/</Path><UserName>alice</UserName>\
         <UserId>AIDAEXAMPLEEXAMPLE01</UserId><Arn>arn:aws:iam::123456789012:user/alice</Arn>\
         <CreateDate>2024-05-30T16:44:04.500Z</CreateDate><Tags>\
         <member><Key>a&amp;b</Key><Value>&lt;x&gt;</Value></member>\
         <member><Key>k</Key><Value></Value></member></Tags></User></CreateUserResult>\
         <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateUserResponse>"
    );
}

#[test]
fn operations_without_output_have_no_result() {
    let text = xml(encode_response(iam_model(), "DeleteUser", &Value::Null, "r").unwrap());
    assert_eq!(
        text,
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
    // An empty output still has its (empty) result element: botocore looks it up.
    let text = xml(encode_response(iam_model(), "ListUsers", &json!({"Users": []}), "r").unwrap());
    assert!(
        text.contains("<ListUsersResult><Users></Users></ListUsersResult>"),
        "{text}"
    );
    let text = xml(encode_response(sts_model(), "GetCallerIdentity", &Value::Null, "r").unwrap());
    assert!(
        text.contains("<GetCallerIdentityResult></GetCallerIdentityResult>"),
        "{text}"
    );
}

#[test]
fn encodes_sts_credentials_with_millisecond_timestamps() {
    let out = json!({
        "Credentials": {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s/+=",
                        "SessionToken": "tok", "Expiration": "2024-05-30T16:44:04Z"},
        "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:s1",
                            "Arn": "arn:aws:sts::123456789012:assumed-role/demo/s1"},
        "PackedPolicySize": 6,
        "SourceIdentity": null
    });
    let text = xml(encode_response(sts_model(), "AssumeRole", &out, "id").unwrap());
    assert!(text.starts_with(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE01</AccessKeyId><SecretAccessKey>s/+=</SecretAccessKey>\
         <SessionToken>tok</SessionToken><Expiration>2024-05-30T16:44:04.000Z</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s1</AssumedRoleId>"
    ), "{text}");
    assert!(text.contains("<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>"));
    assert!(
        !text.contains("SourceIdentity"),
        "null members are left out"
    );
}

#[test]
fn encodes_every_trait_of_the_small_model() {
    let out = json!({
        "Name": "a\r\nb\t\u{1}", "Count": 3, "Ratio": 0.1, "On": false, "When": 0,
        "Data": "AAECAw==",
        "Inner": {"Key": "k", "Deeper": {"Leaf": 1}},
        "Items": [{"Key": "x"}, {"Value": "y"}],
        "Flat": ["f1", "f2"], "Named": ["i1", "i2"], "Renamed": "r",
        "Attrs": {"a": 1}, "FlatAttrs": {"x": "y", "z": "w"}, "NotInModel": 1
    });
    let text = xml(encode_response(&traits(), "Put", &out, "id").unwrap());
    assert_eq!(
        text,
        "<PutResponse xmlns=\"https://traits.example/doc/2020-02-02/\"><PutResult>\
         <Name>a&#xD;\nb\t\u{FFFD}</Name><Count>3</Count><Ratio>0.1</Ratio><On>false</On>\
         <When>1970-01-01T00:00:00.000Z</When><Data>AAECAw==</Data>\
         <Inner><Key>k</Key><Deeper><Leaf>1</Leaf></Deeper></Inner>\
         <Items><member><Key>x</Key></member><member><Value>y</Value></member></Items>\
         <Flat>f1</Flat><Flat>f2</Flat><Item>i1</Item><Item>i2</Item><OtherName>r</OtherName>\
         <Attrs><entry><key>a</key><value>1</value></entry></Attrs>\
         <FlatAttrs><Name>x</Name><Val>y</Val></FlatAttrs><FlatAttrs><Name>z</Name><Val>w</Val></FlatAttrs>\
         </PutResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></PutResponse>"
    );
    // Without a resultWrapper the result element is `<Op>Result`.
    let text = xml(encode_response(&traits(), "Bare", &json!({"Count": 1}), "id").unwrap());
    assert!(
        text.contains("<BareResult><Count>1</Count></BareResult>"),
        "{text}"
    );
}

#[test]
fn outputs_that_do_not_fit_the_model_are_internal_errors() {
    let cases = [
        (
            "CreateUser",
            json!({"User": {"UserName": 5}}),
            "UserName: expected a string",
        ),
        (
            "CreateUser",
            json!({"User": "alice"}),
            "User: expected an object",
        ),
        (
            "ListUsers",
            json!({"Users": {}}),
            "Users: expected an array",
        ),
        (
            "ListUsers",
            json!({"IsTruncated": "yes"}),
            "expected a boolean",
        ),
        (
            "ListUsers",
            json!({"Users": [{"CreateDate": "soon"}]}),
            "expected a timestamp",
        ),
        (
            "GetRole",
            json!({"Role": {"MaxSessionDuration": 1.5}}),
            "expected Integer",
        ),
        ("GetRole", json!([]), "is not an object"),
        ("NoSuchOp", json!({}), "unknown operation"),
    ];
    for (op, out, needle) in cases {
        let e = encode_response(iam_model(), op, &out, "r").unwrap_err();
        assert_eq!(e, ApiError::internal(), "{op} {out}");
        let why = check_output(iam_model(), op, &out).unwrap_err();
        assert!(why.contains(needle), "{needle}: {why}");
    }
    assert_eq!(
        check_output(iam_model(), "ListUsers", &json!({"Users": []})),
        Ok(())
    );
}

// ---- errors ----

#[test]
fn error_document() {
    let e = iam_model().error(
        "NoSuchEntityException",
        "The user with name <bob> cannot be found.",
    );
    assert_eq!((e.code.as_ref(), e.status), ("NoSuchEntity", 404));
    let text = xml(encode_error(iam_model(), &e, "req-9"));
    assert_eq!(
        text,
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
         <Type>Sender</Type><Code>NoSuchEntity</Code>\
         <Message>The user with name &lt;bob&gt; cannot be found.</Message></Error>\
         <RequestId>req-9</RequestId></ErrorResponse>"
    );
    let text = xml(encode_error(iam_model(), &ApiError::internal(), "r"));
    assert!(
        text.contains("<Type>Receiver</Type><Code>InternalFailure</Code>"),
        "{text}"
    );
    assert_eq!(query::CONTENT_TYPE, "text/xml");
}

#[test]
fn model_errors_use_the_query_code_and_declared_status() {
    let cases = [
        (iam_model(), "NoSuchEntity", "NoSuchEntity", 404),
        (
            iam_model(),
            "EntityAlreadyExistsException",
            "EntityAlreadyExists",
            409,
        ),
        (iam_model(), "LimitExceededException", "LimitExceeded", 409),
        (
            iam_model(),
            "MalformedPolicyDocumentException",
            "MalformedPolicyDocument",
            400,
        ),
        (iam_model(), "InvalidInputException", "InvalidInput", 400),
        (
            iam_model(),
            "DeleteConflictException",
            "DeleteConflict",
            409,
        ),
        (
            iam_model(),
            "ServiceFailureException",
            "ServiceFailure",
            500,
        ),
        (iam_model(), "AccessDeniedException", "AccessDenied", 403),
        (iam_model(), "AccessDenied", "AccessDenied", 403),
        (sts_model(), "AccessDenied", "AccessDenied", 403),
        (
            sts_model(),
            "MalformedPolicyDocumentException",
            "MalformedPolicyDocument",
            400,
        ),
        (
            sts_model(),
            "PackedPolicyTooLarge",
            "PackedPolicyTooLarge",
            400,
        ),
        (
            sts_model(),
            "RegionDisabledException",
            "RegionDisabledException",
            403,
        ),
        (sts_model(), "ExpiredTokenException", "ExpiredToken", 400),
        (sts_model(), "ValidationException", "ValidationError", 400),
        (sts_model(), "SomethingElse", "SomethingElse", 400),
    ];
    for (model, given, code, status) in cases {
        let e = model.error(given, "m");
        assert_eq!((e.code.as_ref(), e.status), (code, status), "{given}");
    }
}

#[test]
fn wire_error_respells_the_other_layers_codes() {
    let cases = [
        (ApiError::access_denied("m"), "AccessDenied", 403),
        (ApiError::validation("m"), "ValidationError", 400),
        (ApiError::serialization("m"), "ValidationError", 400),
        (ApiError::throttling("m"), "Throttling", 400),
        (ApiError::unknown_operation("m"), "InvalidAction", 400),
        (
            ApiError::new("InvalidSignatureException", 400, "m"),
            "SignatureDoesNotMatch",
            403,
        ),
        (
            ApiError::new("IncompleteSignatureException", 400, "m"),
            "IncompleteSignature",
            400,
        ),
        (
            ApiError::new("MissingAuthenticationTokenException", 400, "m"),
            "MissingAuthenticationToken",
            403,
        ),
        (
            ApiError::new("UnrecognizedClientException", 400, "m"),
            "InvalidClientTokenId",
            403,
        ),
        (
            ApiError::new("ExpiredTokenException", 400, "m"),
            "ExpiredToken",
            400,
        ),
        (
            ApiError::new("NoSuchEntityException", 400, "m"),
            "NoSuchEntity",
            404,
        ),
        (ApiError::internal(), "InternalFailure", 500),
        (ApiError::new("Custom", 418, "m"), "Custom", 418),
    ];
    for (given, code, status) in cases {
        let e = wire_error(iam_model(), &given);
        assert_eq!((e.code.as_ref(), e.status), (code, status), "{given}");
        assert_eq!(e.message, given.message);
    }
    // The JSON models keep their spelling.
    let e = billtrail_protocol::cloudtrail_model().error("AccessDeniedException", "m");
    assert_eq!(e.code, "AccessDeniedException");
    assert_eq!(query::access_denied("m").status, 403);
    assert_eq!(query::validation_error("m").code, "ValidationError");
}

#[test]
fn sensitive_members_are_redacted_in_decoded_input_and_output() {
    let r = dec(
        iam_model(),
        "Action=CreateLoginProfile&UserName=u&Password=hunter2hunter2&PasswordResetRequired=true",
    )
    .unwrap();
    assert_eq!(r.input["PasswordResetRequired"], true);
    let debug = format!("{r:?}");
    assert!(
        debug.contains("Password") && !debug.contains("hunter2"),
        "{debug}"
    );
    let red = iam_model().redact("CreateLoginProfile", false, &Value::Object(r.input));
    assert_eq!(red["Password"], billtrail_protocol::HIDDEN);
    let out = json!({"AccessKey": {"UserName": "u", "AccessKeyId": "AKIAEXAMPLEEXAMPLE01",
                     "Status": "Active", "SecretAccessKey": "secret"}});
    let red = iam_model().redact("CreateAccessKey", true, &out);
    assert_eq!(
        red["AccessKey"]["SecretAccessKey"],
        billtrail_protocol::HIDDEN
    );
    assert_eq!(red["AccessKey"]["AccessKeyId"], "AKIAEXAMPLEEXAMPLE01");
}
