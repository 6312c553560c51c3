//! The SigV4 canonical request and string to sign, computed from a received
//! request and the claim it carries.
//!
//! Every function here is total: bytes that are not UTF-8, bad percent escapes
//! and odd paths all canonicalize to *something* (which then fails the
//! signature comparison) rather than panicking.

use std::borrow::Cow;

use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use super::{Claim, RequestParts, SigV4Error, ALGORITHM, UNSIGNED_PAYLOAD};

/// RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) pass; every other byte is
/// written `%XX` with uppercase hex, as SigV4 requires.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// [`UNRESERVED`] plus `/`, for encoding a whole path while keeping its
/// segment separators.
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// How the canonical URI is derived from the path as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriEncoding {
    /// Every service except S3: the received path, which the client already
    /// percent-encoded once to put it on the wire, is percent-encoded *again*.
    Double,
    /// S3: each segment is encoded exactly once (decoded, then re-encoded).
    Single,
}

impl UriEncoding {
    /// The rule AWS applies for `service`: [`Single`](Self::Single) for `"s3"`,
    /// [`Double`](Self::Double) for everything else.
    pub fn for_service(service: &str) -> Self {
        if service == "s3" {
            Self::Single
        } else {
            Self::Double
        }
    }
}

/// One way of turning the received path into the canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalUri {
    /// How the path is percent-encoded.
    pub encoding: UriEncoding,
    /// Whether the path is normalized first (RFC 3986 dot-segment removal,
    /// empty segments dropped).
    pub normalize: bool,
}

impl CanonicalUri {
    /// The canonical URIs a verifier tries for `encoding`, most common first.
    ///
    /// * `Double`: the AWS SDKs normalize the path before signing for every
    ///   service but S3, but a client may also sign the path as sent (AWS's
    ///   test suite has both: `get-relative-normalized` and
    ///   `get-relative-unnormalized`). Both canonical forms are a function of
    ///   the received path, so accepting either never lets a signature for
    ///   one path verify for a path that normalizes differently.
    /// * `Single` (S3): no normalization, ever: `a/../b` and `b` are
    ///   different object keys.
    pub fn candidates(encoding: UriEncoding) -> &'static [CanonicalUri] {
        match encoding {
            UriEncoding::Double => &[
                CanonicalUri {
                    encoding: UriEncoding::Double,
                    normalize: true,
                },
                CanonicalUri {
                    encoding: UriEncoding::Double,
                    normalize: false,
                },
            ],
            UriEncoding::Single => &[CanonicalUri {
                encoding: UriEncoding::Single,
                normalize: false,
            }],
        }
    }

    /// The canonical URI for the raw `path` (still percent-encoded as
    /// received).
    pub(crate) fn apply(self, path: &str) -> String {
        let path = if path.is_empty() { "/" } else { path };
        let path = if self.normalize {
            normalize_path(path)
        } else {
            Cow::Borrowed(path)
        };
        match self.encoding {
            // The AWS "double encoding" rule. For every service except S3,
            // each path segment is URI-encoded *twice*: once by the client to
            // put the path on the wire, and once more to canonicalize it. The
            // path we receive is the wire form, so encoding it again here
            // (including its `%`, which becomes `%25`) is the second pass:
            // a key `a:b` travels as `/a%3Ab` and canonicalizes as `/a%253Ab`.
            // The `double-url-encode` and `double-encode-path` vectors pin it.
            UriEncoding::Double => {
                percent_encode(path.as_bytes(), UNRESERVED_AND_SLASH).to_string()
            }
            // S3 is the exception: its canonical URI is encoded exactly once.
            // A client may have used a different but equivalent escape on the
            // wire (`%7e` for `~`, a literal `!`), so each segment is decoded
            // and re-encoded with the SigV4 character set. Splitting on `/`
            // first keeps an encoded slash (`%2F`) inside its segment.
            UriEncoding::Single => path
                .split('/')
                .map(|segment| {
                    let raw: Vec<u8> = percent_decode(segment.as_bytes()).collect();
                    percent_encode(&raw, UNRESERVED).to_string()
                })
                .collect::<Vec<_>>()
                .join("/"),
        }
    }
}

/// RFC 3986 section 5.2.4 dot-segment removal, plus dropping empty segments
/// (`//`), keeping a trailing slash. The result always starts with `/`.
/// This is the normalization the AWS SDKs apply before signing.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.starts_with('/') {
        return normalize_path_owned(&format!("/{path}"));
    }
    if !(path.contains("/.") || path.contains("//")) {
        return Cow::Borrowed(path);
    }
    normalize_path_owned(path)
}

fn normalize_path_owned(path: &str) -> Cow<'static, str> {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    let trailing_slash = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if out.is_empty() || (trailing_slash && !out.ends_with('/')) {
        out.push('/');
    }
    Cow::Owned(out)
}

/// The canonical query string: every parameter decoded (`+` is a space, as in
/// `application/x-www-form-urlencoded` and in `aws-sigv4`), re-encoded with
/// the RFC 3986 unreserved set, sorted by encoded name then encoded value, and
/// joined with `&`. A parameter without `=` gets an empty value. For a
/// presigned URL, `X-Amz-Signature` is left out: it cannot sign itself.
pub(crate) fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = query_decode(name);
            if presigned && name == b"X-Amz-Signature" {
                return None;
            }
            let value = query_decode(value);
            Some((
                percent_encode(&name, UNRESERVED).to_string(),
                percent_encode(&value, UNRESERVED).to_string(),
            ))
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Decodes one query-string component: `+` is a space, `%XX` a byte, and a
/// malformed escape stays as it is.
pub(crate) fn query_decode(component: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = component
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// Canonical form of one header's values: each value trimmed of leading and
/// trailing spaces with runs of spaces collapsed to one, then all values
/// joined with `,` in the order they arrived.
fn canonical_header_value<'v>(values: impl Iterator<Item = &'v [u8]>, out: &mut Vec<u8>) {
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut previous_space = false;
        let start = out.len();
        for &byte in value.iter().skip_while(|&&b| b == b' ') {
            if byte == b' ' {
                if !previous_space {
                    out.push(b' ');
                }
                previous_space = true;
            } else {
                out.push(byte);
                previous_space = false;
            }
        }
        // At most one trailing space survives the collapse above.
        if previous_space && out.len() > start {
            out.pop();
        }
    }
}

/// The payload hash that goes last in the canonical request.
///
/// * `x-amz-content-sha256: UNSIGNED-PAYLOAD` is honoured only when
///   `allow_unsigned_payload` (S3); otherwise the body is hashed, so a
///   non-S3 request that signed `UNSIGNED-PAYLOAD` fails the comparison.
/// * Any other `x-amz-content-sha256` must be the SHA-256 of the body that
///   arrived, else [`SigV4Error::PayloadHashMismatch`]. (Chunked
///   `STREAMING-*` uploads are not supported and fail here.)
/// * Without the header: a presigned S3 URL signs `UNSIGNED-PAYLOAD` (that is
///   what the SDKs do); everything else signs the SHA-256 of the body.
pub(crate) fn payload_hash(
    req: &RequestParts<'_>,
    claim: &Claim,
    allow_unsigned_payload: bool,
) -> Result<String, SigV4Error> {
    let mut sent = req.headers.get_all("x-amz-content-sha256").iter();
    let first = sent.next();
    if sent.next().is_some() {
        return Err(SigV4Error::IncompleteSignature(
            "The request must not carry more than one 'x-amz-content-sha256' header.".into(),
        ));
    }
    match first {
        Some(value) => {
            let value = String::from_utf8_lossy(value.as_bytes());
            if value == UNSIGNED_PAYLOAD && allow_unsigned_payload {
                return Ok(UNSIGNED_PAYLOAD.to_string());
            }
            let computed = hex::encode(Sha256::digest(req.body));
            if value == UNSIGNED_PAYLOAD {
                return Ok(computed);
            }
            if value.eq_ignore_ascii_case(&computed) {
                Ok(value.into_owned())
            } else {
                Err(SigV4Error::PayloadHashMismatch {
                    claimed: value.into_owned(),
                    computed,
                })
            }
        }
        None if claim.presigned && allow_unsigned_payload => Ok(UNSIGNED_PAYLOAD.to_string()),
        None => Ok(hex::encode(Sha256::digest(req.body))),
    }
}

/// The parts of the canonical request that do not depend on how the path is
/// canonicalized; computed once per verification.
pub(crate) struct CanonicalParts {
    /// Canonical query, canonical headers, signed headers and payload hash,
    /// each with its newline: everything after the canonical URI line.
    tail: Vec<u8>,
}

impl CanonicalParts {
    pub(crate) fn new(
        req: &RequestParts<'_>,
        claim: &Claim,
        payload_hash: &str,
    ) -> Result<Self, SigV4Error> {
        let mut tail = Vec::with_capacity(256 + req.query.len());
        tail.extend_from_slice(canonical_query(req.query, claim.presigned).as_bytes());
        tail.push(b'\n');
        for name in &claim.signed_headers {
            let mut values = req.headers.get_all(name.as_str()).iter().peekable();
            if values.peek().is_none() {
                // The client says it signed a header that is not here: the
                // request was altered on the way, or the client is wrong.
                return Err(SigV4Error::InvalidSignature(
                    super::SIGNATURE_MISMATCH_MESSAGE.into(),
                ));
            }
            tail.extend_from_slice(name.as_bytes());
            tail.push(b':');
            canonical_header_value(values.map(|v| v.as_bytes()), &mut tail);
            tail.push(b'\n');
        }
        tail.push(b'\n');
        tail.extend_from_slice(claim.signed_headers.join(";").as_bytes());
        tail.push(b'\n');
        tail.extend_from_slice(payload_hash.as_bytes());
        Ok(Self { tail })
    }

    /// The whole canonical request, with `uri` as the canonical URI.
    pub(crate) fn with_uri(&self, method: &str, uri: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(method.len() + uri.len() + self.tail.len() + 2);
        out.extend_from_slice(method.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(uri.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.tail);
        out
    }
}

/// The canonical request for `req` under `claim`, with the path canonicalized
/// by `uri` and `UNSIGNED-PAYLOAD` honoured when `allow_unsigned_payload`.
///
/// [`crate::sigv4::verify`] builds the same bytes; this is exposed so a
/// caller can log what the server signed when a client's signature does not
/// match (S3 even returns it in the error body).
pub fn canonical_request(
    req: &RequestParts<'_>,
    claim: &Claim,
    uri: CanonicalUri,
    allow_unsigned_payload: bool,
) -> Result<Vec<u8>, SigV4Error> {
    let payload = payload_hash(req, claim, allow_unsigned_payload)?;
    let parts = CanonicalParts::new(req, claim, &payload)?;
    Ok(parts.with_uri(req.method, &uri.apply(req.path)))
}

/// The SigV4 string to sign for `claim` and a canonical request.
pub fn string_to_sign(claim: &Claim, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        claim.amz_date,
        claim.scope(),
        hex::encode(Sha256::digest(canonical_request))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(encoding: UriEncoding, normalize: bool, path: &str) -> String {
        CanonicalUri {
            encoding,
            normalize,
        }
        .apply(path)
    }

    #[test]
    fn double_encoding_encodes_the_wire_form_again() {
        assert_eq!(
            apply(UriEncoding::Double, true, "/functions/arn%3Aaws%3Alambda"),
            "/functions/arn%253Aaws%253Alambda"
        );
        assert_eq!(apply(UriEncoding::Double, true, "/a b"), "/a%20b");
        assert_eq!(apply(UriEncoding::Double, true, ""), "/");
    }

    #[test]
    fn single_encoding_normalizes_escapes_but_not_dots() {
        assert_eq!(
            apply(UriEncoding::Single, false, "/bucket/key%20x"),
            "/bucket/key%20x"
        );
        assert_eq!(apply(UriEncoding::Single, false, "/b/%7e!"), "/b/~%21");
        assert_eq!(apply(UriEncoding::Single, false, "/b/a%2Fb"), "/b/a%2Fb");
        assert_eq!(apply(UriEncoding::Single, false, "/b/../c"), "/b/../c");
        assert_eq!(apply(UriEncoding::Single, false, "/b/%zz"), "/b/%25zz");
    }

    #[test]
    fn normalization_matches_rfc3986() {
        for (raw, normalized) in [
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/../../x", "/x"),
            ("/a/b/.", "/a/b/"),
            ("relative", "/relative"),
            ("/a.b/c..d", "/a.b/c..d"),
        ] {
            assert_eq!(normalize_path(raw), normalized, "normalizing {raw:?}");
        }
    }

    #[test]
    fn query_is_sorted_encoded_and_drops_presigned_signature() {
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b&a=&&c=%7e+x", false), "a=&b=&c=~%20x");
        assert_eq!(canonical_query("k=2&k=1", false), "k=1&k=2");
        assert_eq!(canonical_query("X-Amz-Signature=abc&a=1", true), "a=1");
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&a=1", false),
            "X-Amz-Signature=abc&a=1"
        );
        assert_eq!(canonical_query("", false), "");
        assert_eq!(canonical_query("%=%zz", false), "%25=%25zz");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut out = Vec::new();
        let values: [&[u8]; 3] = [b"  a   b  ", b"c", b"   "];
        canonical_header_value(values.into_iter(), &mut out);
        assert_eq!(out, b"a b,c,");
    }
}
