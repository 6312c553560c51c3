//! The verifier against the `aws-sigv4` crate (through our `sign` and
//! `Signer::presign`), plus what must fail: tampering, wrong secrets, clock
//! skew, expiry, and malformed input, which must never panic.

use std::time::Duration as StdDuration;

use billtrail_auth::sigv4::{
    self, CanonicalUri, RequestParts, SigV4Error, Signer, UriEncoding, WireProtocol,
    SIGNATURE_MISMATCH_MESSAGE,
};
use billtrail_auth::SecretKey;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "billtrail.example.com";
const SIGNED_AT: OffsetDateTime = datetime!(2026-01-01 00:30:00 UTC);

fn secret() -> SecretKey {
    SecretKey::new(SECRET)
}

fn mismatch() -> SigV4Error {
    SigV4Error::InvalidSignature(SIGNATURE_MISMATCH_MESSAGE.into())
}

/// A request as the server receives it.
#[derive(Clone)]
struct Received {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }

    fn authorization(&self) -> String {
        self.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .expect("signed request has an Authorization header")
            .to_string()
    }

    fn check(&self, now: OffsetDateTime) -> Result<sigv4::Claim, SigV4Error> {
        self.check_with(&secret(), now)
    }

    fn check_with(
        &self,
        secret: &SecretKey,
        now: OffsetDateTime,
    ) -> Result<sigv4::Claim, SigV4Error> {
        let req = self.parts();
        let claim = sigv4::parse(&req)?;
        sigv4::verify(&req, &claim, secret, now)?;
        Ok(claim)
    }
}

struct Outgoing<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
    service: &'a str,
    session_token: Option<&'a str>,
}

impl Default for Outgoing<'_> {
    fn default() -> Self {
        Outgoing {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                (
                    "x-amz-target",
                    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
                ),
            ],
            body: br#"{"MaxResults":5}"#,
            service: "cloudtrail",
            session_token: None,
        }
    }
}

fn url(path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("https://{HOST}{path}")
    } else {
        format!("https://{HOST}{path}?{query}")
    }
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    headers
}

/// Signs with `aws-sigv4` (our `sign`) and returns the request as it arrives.
fn signed(out: &Outgoing<'_>, at: OffsetDateTime) -> Received {
    let headers = header_map(out.headers);
    let added = sigv4::sign(
        out.method,
        &url(out.path, out.query),
        &headers,
        out.body,
        AKID,
        &secret(),
        out.session_token,
        "us-east-1",
        out.service,
        at,
    )
    .expect("signing succeeds");
    let mut received = Received {
        method: out.method.to_string(),
        path: out.path.to_string(),
        query: out.query.to_string(),
        headers,
        body: out.body.to_vec(),
    };
    received.set_header("host", HOST);
    for (name, value) in added {
        received.set_header(&name, &value);
    }
    received
}

/// Presigns with `aws-sigv4` (our `Signer::presign`) and returns the GET as it
/// arrives.
fn presigned(service: &str, path: &str, query: &str, expires: StdDuration) -> Received {
    let signer = Signer {
        access_key_id: AKID,
        secret: &secret(),
        session_token: Some("session-token/with+odd=chars"),
        region: "us-east-1",
        service,
    };
    let url = signer
        .presign(
            "GET",
            &url(path, query),
            &HeaderMap::new(),
            SIGNED_AT,
            expires,
        )
        .expect("presigning succeeds");
    let target = url
        .strip_prefix(&format!("https://{HOST}"))
        .expect("same origin");
    let (path, query) = target.split_once('?').expect("presigned URL has a query");
    let mut received = Received {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: HeaderMap::new(),
        body: Vec::new(),
    };
    received.set_header("host", HOST);
    received
}

// ---------------------------------------------------------------------------
// What aws-sigv4 signs, we verify.

#[test]
fn json_request_signed_by_aws_sigv4_verifies() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let claim = received.check(SIGNED_AT).expect("verifies");
    assert_eq!(claim.access_key_id, AKID);
    assert_eq!(claim.date, "20260101");
    assert_eq!(claim.region, "us-east-1");
    assert_eq!(claim.service, "cloudtrail");
    assert_eq!(claim.amz_date, "20260101T003000Z");
    assert!(!claim.presigned);
    assert_eq!(claim.expires, None);
    assert_eq!(claim.security_token, None);
    assert!(claim.signed_headers.iter().any(|h| h == "host"));
    assert!(claim.signed_headers.iter().any(|h| h == "x-amz-target"));
}

#[test]
fn session_token_is_signed_and_reported() {
    let received = signed(
        &Outgoing {
            session_token: Some("FQoGZXIvYXdzEXAMPLE/token+=="),
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    let claim = received.check(SIGNED_AT).expect("verifies");
    assert_eq!(
        claim.security_token.as_deref(),
        Some("FQoGZXIvYXdzEXAMPLE/token+==")
    );
    assert!(claim
        .signed_headers
        .iter()
        .any(|h| h == "x-amz-security-token"));
}

#[test]
fn query_protocol_form_post_verifies() {
    let received = signed(
        &Outgoing {
            headers: &[(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body: b"Action=GetCallerIdentity&Version=2011-06-15",
            service: "sts",
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    received.check(SIGNED_AT).expect("verifies");
}

#[test]
fn non_s3_path_and_query_verify_with_double_encoding() {
    let received = signed(
        &Outgoing {
            method: "GET",
            path: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/x%20y",
            query: "b=2&a=1&c=x%20y&c=%7Eplus+space&empty=&flag",
            headers: &[],
            body: b"",
            service: "lambda",
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    received.check(SIGNED_AT).expect("verifies");
}

#[test]
fn s3_object_path_verifies_with_single_encoding_and_content_sha256() {
    let received = signed(
        &Outgoing {
            method: "PUT",
            path: "/trail-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/01/file%20name~x.json.gz",
            query: "",
            headers: &[("content-type", "application/octet-stream")],
            body: b"\x1f\x8b compressed bytes",
            service: "s3",
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    assert!(received.headers.contains_key("x-amz-content-sha256"));
    received.check(SIGNED_AT).expect("verifies");
}

// ---------------------------------------------------------------------------
// Tampering fails.

#[test]
fn flipped_body_byte_fails() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.body[3] ^= 0x01;
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn flipped_body_byte_with_content_sha256_is_a_payload_mismatch() {
    let mut received = signed(
        &Outgoing {
            method: "PUT",
            path: "/bucket/key",
            service: "s3",
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    received.body[0] ^= 0x01;
    let err = received.check(SIGNED_AT).expect_err("must fail");
    assert!(
        matches!(err, SigV4Error::PayloadHashMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(err.code_for(WireProtocol::S3), "XAmzContentSHA256Mismatch");
}

#[test]
fn changed_signed_header_fails() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.set_header(
        "x-amz-target",
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DeleteTrail",
    );
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn removed_signed_header_fails() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.headers.remove("x-amz-target");
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn changed_query_or_path_fails() {
    let out = Outgoing {
        method: "GET",
        path: "/a/b",
        query: "x=1",
        headers: &[],
        body: b"",
        ..Outgoing::default()
    };
    let mut received = signed(&out, SIGNED_AT);
    received.query = "x=2".into();
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));

    let mut received = signed(&out, SIGNED_AT);
    received.path = "/a/c".into();
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));

    let mut received = signed(&out, SIGNED_AT);
    received.method = "DELETE".into();
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn unsigned_header_may_change() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.set_header("user-agent", "something-else/1.0");
    received
        .check(SIGNED_AT)
        .expect("unsigned headers are not covered");
}

#[test]
fn flipped_signature_fails() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let authorization = received.authorization();
    // Flip every position of the signature in turn.
    let start = authorization.find("Signature=").expect("has a signature") + "Signature=".len();
    for position in start..authorization.len() {
        let mut bytes = authorization.clone().into_bytes();
        bytes[position] = if bytes[position] == b'0' { b'1' } else { b'0' };
        let mut tampered = received.clone();
        tampered.set_header("authorization", std::str::from_utf8(&bytes).expect("ascii"));
        assert_eq!(
            tampered.check(SIGNED_AT).map(|_| ()),
            Err(mismatch()),
            "position {position}"
        );
    }
}

#[test]
fn wrong_secret_fails() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    for wrong in [
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ",
        "",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY ",
    ] {
        assert_eq!(
            received
                .check_with(&SecretKey::new(wrong), SIGNED_AT)
                .map(|_| ()),
            Err(mismatch())
        );
    }
}

#[test]
fn changed_scope_fails() {
    // The region and service are part of the signing key.
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let authorization = received.authorization();
    for (from, to) in [("/us-east-1/", "/us-west-2/"), ("/cloudtrail/", "/iam/")] {
        let mut tampered = received.clone();
        tampered.set_header("authorization", &authorization.replace(from, to));
        assert_eq!(tampered.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
    }
}

// ---------------------------------------------------------------------------
// The clock.

#[test]
fn sixteen_minutes_old_is_expired() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let now = SIGNED_AT + Duration::minutes(16);
    let err = received.check(now).expect_err("too old");
    assert_eq!(
        err,
        SigV4Error::SignatureExpired(
            "Signature expired: 20260101T003000Z is now earlier than 20260101T003100Z \
             (20260101T004600Z - 15 min.)"
                .into()
        )
    );
    assert_eq!(err.code(), "InvalidSignatureException");
    assert_eq!(err.status(), 400);
    assert_eq!(err.code_for(WireProtocol::S3), "RequestTimeTooSkewed");
}

#[test]
fn brief_example_message_for_expired_signature() {
    // X-Amz-Date 00:00:00 checked at 00:30:00.
    let received = signed(&Outgoing::default(), datetime!(2026-01-01 00:00:00 UTC));
    assert_eq!(
        received.check(SIGNED_AT).map(|_| ()),
        Err(SigV4Error::SignatureExpired(
            "Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z \
             (20260101T003000Z - 15 min.)"
                .into()
        ))
    );
}

#[test]
fn sixteen_minutes_ahead_is_not_yet_current() {
    let received = signed(&Outgoing::default(), SIGNED_AT + Duration::minutes(16));
    assert_eq!(
        received.check(SIGNED_AT).map(|_| ()),
        Err(SigV4Error::SignatureExpired(
            "Signature not yet current: 20260101T004600Z is still later than \
             20260101T004500Z (20260101T003000Z + 15 min.)"
                .into()
        ))
    );
}

#[test]
fn fifteen_minutes_either_way_is_accepted() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    received
        .check(SIGNED_AT + Duration::minutes(15))
        .expect("15 minutes late is fine");
    received
        .check(SIGNED_AT - Duration::minutes(15))
        .expect("15 minutes early is fine");
}

#[test]
fn scope_date_must_be_the_amz_date_date() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let mut tampered = received.clone();
    tampered.set_header(
        "authorization",
        &received.authorization().replace("/20260101/", "/20251231/"),
    );
    assert_eq!(
        tampered.check(SIGNED_AT).map(|_| ()),
        Err(SigV4Error::InvalidSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20251231' != '20260101', from '20260101T003000Z'."
                .into()
        ))
    );
}

#[test]
fn date_header_is_accepted_without_x_amz_date() {
    // No SDK does this any more, but SigV4 allows the HTTP Date header in
    // place of X-Amz-Date. Sign by hand with our own canonicalization.
    let mut received = Received {
        method: "GET".into(),
        path: "/".into(),
        query: String::new(),
        headers: header_map(&[("host", HOST), ("date", "Thu, 01 Jan 2026 00:30:00 GMT")]),
        body: Vec::new(),
    };
    let scope = "20260101/us-east-1/cloudtrail/aws4_request";
    received.set_header(
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders=date;host, Signature={}",
            "0".repeat(64)
        ),
    );
    let claim = sigv4::parse(&received.parts()).expect("parses");
    assert_eq!(claim.amz_date, "20260101T003000Z");
    let canonical = sigv4::canonical_request(
        &received.parts(),
        &claim,
        CanonicalUri {
            encoding: UriEncoding::Double,
            normalize: true,
        },
        false,
    )
    .expect("canonical");
    let signature = hand_sign(
        &sigv4::string_to_sign(&claim, &canonical),
        "20260101",
        "cloudtrail",
    );
    received.set_header(
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders=date;host, Signature={signature}"
        ),
    );
    received.check(SIGNED_AT).expect("verifies");
}

/// An independent SigV4 signature (HMAC chain written out here).
fn hand_sign(string_to_sign: &str, date: &str, service: &str) -> String {
    fn hmac(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    let k = hmac(format!("AWS4{SECRET}").as_bytes(), date);
    let k = hmac(&k, "us-east-1");
    let k = hmac(&k, service);
    let k = hmac(&k, "aws4_request");
    hex::encode(hmac(&k, string_to_sign))
}

// ---------------------------------------------------------------------------
// Payload rules.

#[test]
fn unsigned_payload_is_refused_outside_s3() {
    // A client that signs UNSIGNED-PAYLOAD for a JSON service: the verifier
    // hashes the body instead, so the signature cannot match.
    let mut received = Received {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: header_map(&[
            ("host", HOST),
            ("x-amz-date", "20260101T003000Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ]),
        body: b"{}".to_vec(),
    };
    let scope = "20260101/us-east-1/cloudtrail/aws4_request";
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let placeholder = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        "0".repeat(64)
    );
    received.set_header("authorization", &placeholder);
    let claim = sigv4::parse(&received.parts()).expect("parses");
    let as_client_signed = sigv4::canonical_request(
        &received.parts(),
        &claim,
        CanonicalUri {
            encoding: UriEncoding::Double,
            normalize: true,
        },
        true,
    )
    .expect("canonical");
    assert!(as_client_signed.ends_with(b"\nUNSIGNED-PAYLOAD"));
    let signature = hand_sign(
        &sigv4::string_to_sign(&claim, &as_client_signed),
        "20260101",
        "cloudtrail",
    );
    received.set_header(
        "authorization",
        &placeholder.replace(&"0".repeat(64), &signature),
    );
    assert_eq!(received.check(SIGNED_AT).map(|_| ()), Err(mismatch()));

    // The same construction for S3 is accepted.
    let s3 = received.clone();
    let mut s3 = s3;
    let s3_placeholder = placeholder.replace("/cloudtrail/", "/s3/");
    s3.set_header("authorization", &s3_placeholder);
    let claim = sigv4::parse(&s3.parts()).expect("parses");
    let canonical = sigv4::canonical_request(
        &s3.parts(),
        &claim,
        CanonicalUri {
            encoding: UriEncoding::Single,
            normalize: false,
        },
        true,
    )
    .expect("canonical");
    let signature = hand_sign(&sigv4::string_to_sign(&claim, &canonical), "20260101", "s3");
    s3.set_header(
        "authorization",
        &s3_placeholder.replace(&"0".repeat(64), &signature),
    );
    s3.check(SIGNED_AT)
        .expect("S3 may leave the payload unsigned");
}

#[test]
fn content_sha256_must_match_the_body() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.set_header("x-amz-content-sha256", &"ab".repeat(32));
    let err = received.check(SIGNED_AT).expect_err("must fail");
    assert!(
        matches!(&err, SigV4Error::PayloadHashMismatch { claimed, .. } if claimed == &"ab".repeat(32)),
        "{err:?}"
    );
    received.set_header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    assert!(matches!(
        received.check(SIGNED_AT),
        Err(SigV4Error::PayloadHashMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------
// Presigned URLs.

#[test]
fn presigned_get_verifies() {
    for (service, path, query) in [
        (
            "s3",
            "/trail-bucket/AWSLogs/file%20x.json.gz",
            "versionId=3",
        ),
        ("cloudtrail", "/", ""),
    ] {
        let received = presigned(service, path, query, StdDuration::from_secs(900));
        let claim = received
            .check(SIGNED_AT + Duration::minutes(10))
            .unwrap_or_else(|e| panic!("{service}: {e}"));
        assert!(claim.presigned);
        assert_eq!(claim.expires, Some(900));
        assert_eq!(claim.service, service);
        assert_eq!(
            claim.security_token.as_deref(),
            Some("session-token/with+odd=chars")
        );
    }
}

#[test]
fn presigned_url_is_good_until_expiry_and_not_after() {
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(3600));
    // Well past the 15-minute skew, still inside X-Amz-Expires.
    received
        .check(SIGNED_AT + Duration::minutes(59))
        .expect("still valid");
    received
        .check(SIGNED_AT + Duration::seconds(3600))
        .expect("valid at the last second");
    let err = received
        .check(SIGNED_AT + Duration::seconds(3601))
        .expect_err("expired");
    assert_eq!(
        err,
        SigV4Error::PresignedExpired {
            expired_at: "20260101T013000Z".into(),
            server_time: "20260101T013001Z".into(),
        }
    );
    assert_eq!(err.to_string(), "Request has expired");
    assert_eq!(err.code_for(WireProtocol::S3), "AccessDenied");
    assert_eq!(err.status_for(WireProtocol::S3), 403);
}

#[test]
fn presigned_url_from_the_future_is_not_yet_current() {
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(3600));
    assert!(matches!(
        received.check(SIGNED_AT - Duration::minutes(16)),
        Err(SigV4Error::SignatureExpired(message)) if message.starts_with("Signature not yet current: ")
    ));
}

#[test]
fn presigned_url_with_stretched_expiry_fails() {
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(60));
    let mut stretched = received.clone();
    stretched.query = received
        .query
        .replace("X-Amz-Expires=60", "X-Amz-Expires=604800");
    assert_ne!(stretched.query, received.query);
    assert_eq!(stretched.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn presigned_url_with_added_parameter_fails() {
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(60));
    let mut extended = received.clone();
    extended
        .query
        .push_str("&response-content-type=text%2Fhtml");
    assert_eq!(extended.check(SIGNED_AT).map(|_| ()), Err(mismatch()));
}

#[test]
fn presigned_expires_over_a_week_is_refused() {
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(60));
    let mut long = received.clone();
    long.query = received
        .query
        .replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
    assert!(matches!(
        sigv4::parse(&long.parts()),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}

// ---------------------------------------------------------------------------
// Malformed input: errors, never panics.

#[test]
fn no_authentication_at_all() {
    let received = Received {
        method: "POST".into(),
        path: "/".into(),
        query: "Action=ListUsers".into(),
        headers: header_map(&[("host", HOST)]),
        body: Vec::new(),
    };
    let err = sigv4::parse(&received.parts()).expect_err("nothing to parse");
    assert_eq!(err, SigV4Error::MissingAuthenticationToken);
    assert_eq!(err.code(), "MissingAuthenticationTokenException");
    assert_eq!(err.status(), 400);
}

#[test]
fn header_and_query_authentication_together_are_refused() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    assert!(matches!(
        sigv4::parse(&received.parts()),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}

#[test]
fn host_must_be_signed() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let authorization = received.authorization();
    let mut tampered = received.clone();
    tampered.set_header("authorization", &authorization.replace("host;", ""));
    assert!(!tampered.authorization().contains("host"));
    assert_eq!(
        sigv4::parse(&tampered.parts()),
        Err(SigV4Error::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into()
        ))
    );
}

#[test]
fn missing_components_are_listed() {
    let mut received = signed(&Outgoing::default(), SIGNED_AT);
    received.set_header(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cloudtrail/aws4_request",
    );
    assert_eq!(
        sigv4::parse(&received.parts()),
        Err(SigV4Error::IncompleteSignature(
            "Authorization header requires 'Signature' parameter. Authorization header \
             requires 'SignedHeaders' parameter."
                .into()
        ))
    );
}

#[test]
fn components_may_be_separated_by_commas_or_spaces() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let authorization = received.authorization();
    for variant in [
        authorization.replace(", ", ","),
        authorization.replace(", ", " "),
        authorization.replace(", ", " ,  "),
    ] {
        let mut tampered = received.clone();
        tampered.set_header("authorization", &variant);
        tampered.check(SIGNED_AT).expect(&variant);
    }
}

#[test]
fn every_truncated_authorization_header_is_incomplete() {
    let received = signed(
        &Outgoing {
            session_token: Some("token"),
            ..Outgoing::default()
        },
        SIGNED_AT,
    );
    let authorization = received.authorization();
    for len in 0..authorization.len() {
        let mut truncated = received.clone();
        truncated.set_header("authorization", &authorization[..len]);
        let result = sigv4::parse(&truncated.parts());
        assert!(
            matches!(result, Err(SigV4Error::IncompleteSignature(_))),
            "{:?} gave {result:?}",
            &authorization[..len]
        );
    }
}

/// A small deterministic PRNG (xorshift64*), so the fuzz cases are the same on
/// every run and need no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn printable(&mut self) -> u8 {
        b' ' + self.below(95) as u8
    }
}

#[test]
fn random_authorization_headers_are_incomplete() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let received = signed(&Outgoing::default(), SIGNED_AT);
    for _ in 0..2000 {
        let len = rng.below(200);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.printable()).collect();
        // Half of them look like SigV4 at first glance.
        if rng.below(2) == 0 {
            let mut prefixed = b"AWS4-HMAC-SHA256 ".to_vec();
            prefixed.append(&mut bytes);
            bytes = prefixed;
        }
        let mut fuzzed = received.clone();
        fuzzed.headers.insert(
            "authorization",
            HeaderValue::from_bytes(&bytes).expect("printable ASCII is a valid header value"),
        );
        let result = sigv4::parse(&fuzzed.parts());
        assert!(
            matches!(result, Err(SigV4Error::IncompleteSignature(_))),
            "{:?} gave {result:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn mutated_authorization_headers_never_verify_or_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let authorization = received.authorization().into_bytes();
    for _ in 0..3000 {
        let mut bytes = authorization.clone();
        for _ in 0..=rng.below(3) {
            let position = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[position] = rng.printable(),
                1 => {
                    bytes.remove(position);
                }
                _ => bytes.insert(position, rng.printable()),
            }
        }
        if bytes == authorization {
            continue;
        }
        let mut fuzzed = received.clone();
        fuzzed.headers.insert(
            "authorization",
            HeaderValue::from_bytes(&bytes).expect("printable ASCII"),
        );
        // Parsing may succeed (a mutation can keep the shape), but then the
        // signature must not verify; a handful of mutations are harmless
        // respellings (whitespace between components) and do verify.
        if let Ok(claim) = sigv4::parse(&fuzzed.parts()) {
            // The access key id is not under the signature: it selects the
            // secret. A mutated id is a different key, looked up by the
            // caller, so there is nothing to verify here.
            if claim.access_key_id != AKID {
                continue;
            }
            let verdict = sigv4::verify(&fuzzed.parts(), &claim, &secret(), SIGNED_AT);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let respelling = text.split_whitespace().collect::<String>()
                == String::from_utf8_lossy(&authorization)
                    .split_whitespace()
                    .collect::<String>()
                || text.replace(',', "")
                    == String::from_utf8_lossy(&authorization).replace(',', "");
            if verdict.is_ok() {
                assert!(respelling, "{text:?} verified");
            }
        }
    }
}

#[test]
fn random_presigned_queries_never_panic() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let received = presigned("s3", "/bucket/key", "", StdDuration::from_secs(60));
    let pieces = [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=",
        "X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
        "X-Amz-Credential=%2F%2F%2F%2F",
        "X-Amz-Date=20260101T003000Z",
        "X-Amz-Date=99999999T999999Z",
        "X-Amz-Expires=60",
        "X-Amz-Expires=-1",
        "X-Amz-Expires=18446744073709551616",
        "X-Amz-SignedHeaders=host",
        "X-Amz-SignedHeaders=",
        "X-Amz-Signature=00",
        "X-Amz-Security-Token=%FF%FE",
        "%",
        "&",
        "=",
        "a=%zz",
    ];
    for _ in 0..2000 {
        let count = rng.below(9);
        let query: Vec<&str> = (0..count)
            .map(|_| pieces[rng.below(pieces.len())])
            .collect();
        let mut fuzzed = received.clone();
        fuzzed.query = query.join("&");
        if let Ok(claim) = sigv4::parse(&fuzzed.parts()) {
            assert!(sigv4::verify(&fuzzed.parts(), &claim, &secret(), SIGNED_AT).is_err());
        }
    }
    // The untouched URL still verifies, for contrast.
    received.check(SIGNED_AT).expect("verifies");
}

#[test]
fn odd_requests_never_panic() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let odd_paths = [
        "",
        "//",
        "/%",
        "/%zz/..",
        "/../../..",
        "/\u{1F600}",
        "/a/./b/../../../c/",
    ];
    let odd_queries = ["&&&", "=", "==", "%", "a=%ZZ&b", "X-Amz-Signature"];
    for path in odd_paths {
        for query in odd_queries {
            for service in ["cloudtrail", "s3"] {
                let mut odd = received.clone();
                odd.path = path.into();
                odd.query = query.into();
                let authorization = odd
                    .authorization()
                    .replace("/cloudtrail/", &format!("/{service}/"));
                odd.set_header("authorization", &authorization);
                odd.headers.append(
                    "x-amz-target",
                    HeaderValue::from_bytes(b"\xff\xfe obs-text").expect("obs-text is allowed"),
                );
                let req = odd.parts();
                if let Ok(claim) = sigv4::parse(&req) {
                    assert!(sigv4::verify(&req, &claim, &secret(), SIGNED_AT).is_err());
                }
            }
        }
    }
}

#[test]
fn duplicate_date_or_authorization_headers_are_incomplete() {
    let received = signed(&Outgoing::default(), SIGNED_AT);
    let mut doubled = received.clone();
    doubled
        .headers
        .append("x-amz-date", HeaderValue::from_static("20260101T003000Z"));
    assert!(matches!(
        sigv4::parse(&doubled.parts()),
        Err(SigV4Error::IncompleteSignature(_))
    ));
    let mut doubled = received.clone();
    let authorization = HeaderValue::from_str(&received.authorization()).expect("ascii");
    doubled.headers.append("authorization", authorization);
    assert!(matches!(
        sigv4::parse(&doubled.parts()),
        Err(SigV4Error::IncompleteSignature(_))
    ));
}
