//! [`parse`]: read what a request claims about its signature.
//!
//! Parsing is strict about shape and says nothing about truth: a [`Claim`]
//! that comes out of here is well-formed (five-part credential scope, 32-byte
//! signature, a real timestamp, `host` among the signed headers) but not yet
//! verified.

use http::header::{AUTHORIZATION, DATE};
use http::HeaderMap;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::canonical::query_decode;
use super::{Claim, RequestParts, SigV4Error, ALGORITHM, MAX_PRESIGNED_EXPIRES, SCOPE_TERMINATOR};

/// Longest client-supplied token echoed back in an error message.
const ECHO_LIMIT: usize = 64;

/// Reads the SigV4 claim of a request: from the `Authorization` header, or
/// from the `X-Amz-*` query parameters of a presigned URL.
///
/// * Neither present: [`SigV4Error::MissingAuthenticationToken`].
/// * Both present, or either malformed: [`SigV4Error::IncompleteSignature`].
///
/// Never panics, whatever the request holds.
pub fn parse(req: &RequestParts<'_>) -> Result<Claim, SigV4Error> {
    let header = single_header(req.headers, AUTHORIZATION.as_str())?;
    let presigned = query_has_auth_params(req.query);
    match (header, presigned) {
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        )),
        (Some(value), false) => parse_header(value, req.headers),
        (None, true) => parse_query(req.query),
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
    }
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::IncompleteSignature(message.into())
}

/// At most `ECHO_LIMIT` characters of client input, for error messages.
fn echo(s: &str) -> String {
    s.chars().take(ECHO_LIMIT).collect()
}

/// The value of a header that may appear at most once, as ASCII text.
fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, SigV4Error> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(incomplete(format!(
            "The request must not carry more than one '{name}' header."
        )));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| incomplete(format!("The '{name}' header must be ASCII text.")))
}

fn query_has_auth_params(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        let name = query_decode(name);
        name == b"X-Amz-Algorithm" || name == b"X-Amz-Signature" || name == b"X-Amz-Credential"
    })
}

fn parse_header(value: &str, headers: &HeaderMap) -> Result<Claim, SigV4Error> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'. Only '{ALGORITHM}' is accepted.",
            echo(algorithm)
        )));
    }

    // Components are separated by commas, optionally followed by whitespace;
    // some clients use whitespace alone. No component value contains either.
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for token in rest
        .split([',', ' ', '\t'])
        .filter(|token| !token.is_empty())
    {
        let Some((name, component)) = token.split_once('=') else {
            return Err(incomplete(format!(
                "Authorization header component '{}' is not of the form name=value.",
                echo(token)
            )));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(incomplete(format!(
                    "Authorization header has an unknown component '{}'.",
                    echo(other)
                )))
            }
        };
        if slot.replace(component).is_some() {
            return Err(incomplete(format!(
                "Authorization header has more than one '{name}' component."
            )));
        }
    }
    let mut missing = String::new();
    for (name, slot) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if slot.is_none() {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(incomplete(missing.trim_end()));
    };

    let scope = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let signature = parse_signature(signature)?;
    let amz_date = match single_header(headers, "x-amz-date")? {
        Some(value) => checked_amz_date(value)?,
        None => match single_header(headers, DATE.as_str())? {
            Some(value) => http_date_to_amz_date(value)?,
            None => {
                return Err(incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a \
                     'Date' header.",
                ))
            }
        },
    };
    let security_token = single_header(headers, "x-amz-security-token")?.map(str::to_owned);

    Ok(Claim {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        amz_date,
        security_token,
        presigned: false,
        expires: None,
        signature,
    })
}

fn parse_query(query: &str) -> Result<Claim, SigV4Error> {
    const NAMES: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    let mut found: [Option<String>; 7] = Default::default();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = query_decode(name);
        let Some((slot, name)) = found
            .iter_mut()
            .zip(NAMES)
            .find(|(_, known)| name == known.as_bytes())
        else {
            continue;
        };
        let value = String::from_utf8(query_decode(value))
            .map_err(|_| incomplete(format!("The {name} query parameter must be UTF-8.")))?;
        if slot.replace(value).is_some() {
            return Err(incomplete(format!(
                "The {name} query parameter must not appear more than once."
            )));
        }
    }
    let [algorithm, credential, amz_date, expires, signed_headers, signature, security_token] =
        found;
    let (
        Some(algorithm),
        Some(credential),
        Some(amz_date),
        Some(expires),
        Some(signed_headers),
        Some(signature),
    ) = (
        algorithm,
        credential,
        amz_date,
        expires,
        signed_headers,
        signature,
    )
    else {
        return Err(incomplete(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, \
             X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
             X-Amz-Expires parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}', not '{}'.",
            echo(&algorithm)
        )));
    }
    let expires = expires
        .parse::<u64>()
        .ok()
        .filter(|seconds| *seconds <= MAX_PRESIGNED_EXPIRES)
        .ok_or_else(|| {
            incomplete(format!(
                "X-Amz-Expires must be a whole number of seconds no larger than a week \
                 ({MAX_PRESIGNED_EXPIRES})."
            ))
        })?;
    let scope = parse_credential(&credential)?;

    Ok(Claim {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers: parse_signed_headers(&signed_headers)?,
        amz_date: checked_amz_date(&amz_date)?,
        security_token,
        presigned: true,
        expires: Some(expires),
        signature: parse_signature(&signature)?,
    })
}

struct Scope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

/// `AKID/yyyymmdd/region/service/aws4_request`.
fn parse_credential(credential: &str) -> Result<Scope, SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(
            "Credential must have the form \
             <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.",
        ));
    };
    if access_key_id.is_empty() {
        return Err(incomplete("Credential has an empty access key id."));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!(
            "Credential date must be yyyymmdd, not '{}'.",
            echo(date)
        )));
    }
    if region.is_empty() || service.is_empty() {
        return Err(incomplete(
            "Credential should be scoped to a valid region and service.",
        ));
    }
    if *terminator != SCOPE_TERMINATOR {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not '{}'.",
            echo(terminator)
        )));
    }
    Ok(Scope {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
    })
}

/// `host;x-amz-date;...`: lowercase header names, no repeats, `host` among
/// them. The order is kept as sent: it is part of what was signed.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, SigV4Error> {
    let mut names: Vec<String> = Vec::new();
    for name in list.split(';') {
        let valid = !name.is_empty()
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            });
        if !valid {
            return Err(incomplete(format!(
                "SignedHeaders must list lowercase header names separated by ';', got '{}'.",
                echo(list)
            )));
        }
        if names.iter().any(|seen| seen == name) {
            return Err(incomplete(format!(
                "SignedHeaders lists '{}' more than once.",
                echo(name)
            )));
        }
        names.push(name.to_owned());
    }
    if !names.iter().any(|name| name == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

/// 64 hex digits.
fn parse_signature(hex_signature: &str) -> Result<[u8; 32], SigV4Error> {
    let mut signature = [0u8; 32];
    if hex_signature.len() != 64 || hex::decode_to_slice(hex_signature, &mut signature).is_err() {
        return Err(incomplete(
            "Signature must be 64 hexadecimal digits (a SHA-256 HMAC).",
        ));
    }
    Ok(signature)
}

/// Checks an `X-Amz-Date` value and returns it unchanged.
fn checked_amz_date(value: &str) -> Result<String, SigV4Error> {
    parse_amz_date(value)
        .map(|_| value.to_owned())
        .ok_or_else(|| {
            incomplete(format!(
                "Date must be in ISO-8601 'basic format' (yyyymmddThhmmssZ). Got '{}'.",
                echo(value)
            ))
        })
}

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`) as `X-Amz-Date`.
fn http_date_to_amz_date(value: &str) -> Result<String, SigV4Error> {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(value.trim(), format)
        .ok()
        .and_then(|date| format_amz_date(date.assume_utc()))
        .ok_or_else(|| {
            incomplete(format!(
                "The Date header must be an HTTP date such as \
                 'Sun, 06 Nov 1994 08:49:37 GMT'. Got '{}'.",
                echo(value)
            ))
        })
}

/// Parses `yyyymmddThhmmssZ` (exactly 16 characters) as UTC.
pub(crate) fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    let bytes = value.as_bytes();
    let shape_ok = bytes.len() == 16
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 => *b == b'T',
            15 => *b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats a UTC time as `yyyymmddThhmmssZ`; `None` outside years 0..=9999.
pub(crate) fn format_amz_date(at: OffsetDateTime) -> Option<String> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    at.to_offset(time::UtcOffset::UTC).format(format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let at = parse_amz_date("20150830T123600Z").expect("valid date");
        assert_eq!(format_amz_date(at).as_deref(), Some("20150830T123600Z"));
    }

    #[test]
    fn amz_date_rejects_other_shapes() {
        for bad in [
            "",
            "20150830",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150830T256000Z",
            "+0150830T123600Z",
            "20150830t123600z",
            "20150830T123600Z ",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_date_converts() {
        assert_eq!(
            http_date_to_amz_date("Sun, 30 Aug 2015 12:36:00 GMT").as_deref(),
            Ok("20150830T123600Z")
        );
        assert!(http_date_to_amz_date("yesterday").is_err());
    }

    #[test]
    fn signed_headers_must_include_host() {
        assert!(matches!(
            parse_signed_headers("x-amz-date"),
            Err(SigV4Error::IncompleteSignature(_))
        ));
        assert_eq!(
            parse_signed_headers("host;x-amz-date").as_deref(),
            Ok(&["host".to_string(), "x-amz-date".to_string()][..])
        );
        for bad in ["", ";", "host;", "Host", "host;host", "host;a b"] {
            assert!(parse_signed_headers(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credential_needs_five_parts_and_terminator() {
        assert!(parse_credential("AKID/20150830/us-east-1/service/aws4_request").is_ok());
        for bad in [
            "",
            "AKID",
            "AKID/20150830/us-east-1/service",
            "AKID/20150830/us-east-1/service/aws4_request/x",
            "/20150830/us-east-1/service/aws4_request",
            "AKID/2015083/us-east-1/service/aws4_request",
            "AKID/20150830//service/aws4_request",
            "AKID/20150830/us-east-1/service/aws5_request",
        ] {
            assert!(parse_credential(bad).is_err(), "{bad:?}");
        }
    }
}
