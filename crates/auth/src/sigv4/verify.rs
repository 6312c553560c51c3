//! [`verify`]: recompute a request's signature with the secret and compare.
//!
//! # Why the canonicalization here is hand-written
//!
//! The signing side uses the `aws-sigv4` crate, the well-kept implementation
//! the AWS SDK for Rust uses. It cannot verify: it decides by itself which
//! headers to sign (everything minus a fixed exclusion list), while a verifier
//! must canonicalize exactly the `SignedHeaders` list the *client* chose, and
//! no maintained crate verifies with a client-chosen list. So the canonical
//! request is built in `canonical.rs`, and pinned two ways: to AWS's published
//! SigV4 test suite (`tests/vectors/`) and to requests `aws-sigv4` signs
//! (`tests/sign_verify.rs`). The HMAC and the comparison are the `hmac`
//! crate's; the comparison is constant-time (`verify_slice`).

use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::canonical::{payload_hash, string_to_sign, CanonicalParts, CanonicalUri, UriEncoding};
use super::parse::{format_amz_date, parse_amz_date};
use super::{Claim, RequestParts, SigV4Error, SCOPE_TERMINATOR, SIGNATURE_MISMATCH_MESSAGE};
use crate::SecretKey;

type HmacSha256 = Hmac<Sha256>;

/// How strict [`verify_with`] is. [`verify`] uses
/// [`VerifyOptions::for_service`] for the claim's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Largest accepted distance between `X-Amz-Date` and the server clock,
    /// either way. AWS uses 15 minutes. For presigned URLs it bounds only how
    /// far in the future `X-Amz-Date` may be; the past is bounded by
    /// `X-Amz-Expires`.
    pub max_skew: Duration,
    /// How the canonical URI is derived from the path (see [`UriEncoding`]).
    pub uri_encoding: UriEncoding,
    /// Whether `x-amz-content-sha256: UNSIGNED-PAYLOAD` (and, for presigned
    /// URLs, an implied unsigned payload) is honoured. AWS allows it for S3
    /// only; elsewhere the body is always part of the signature.
    pub allow_unsigned_payload: bool,
}

impl VerifyOptions {
    /// What AWS does for `service`: 15 minutes of skew; for `"s3"` single URI
    /// encoding and unsigned payloads allowed, for every other service double
    /// URI encoding and signed payloads only.
    pub fn for_service(service: &str) -> Self {
        Self {
            max_skew: Duration::minutes(15),
            uri_encoding: UriEncoding::for_service(service),
            allow_unsigned_payload: service == "s3",
        }
    }
}

/// Verifies `claim` (from [`crate::sigv4::parse`] on the same `req`) with the
/// secret of its access key, at time `now`, using the rules AWS applies to the
/// claim's service ([`VerifyOptions::for_service`]).
///
/// In order, it checks that:
/// 1. the scope date is the date of `X-Amz-Date`;
/// 2. `X-Amz-Date` is within 15 minutes of `now`, either way, or for a
///    presigned URL, not more than 15 minutes ahead and not past
///    `X-Amz-Date + X-Amz-Expires`;
/// 3. `x-amz-content-sha256`, if sent (and not `UNSIGNED-PAYLOAD`), is the
///    SHA-256 of `req.body`;
/// 4. the signature matches, compared in constant time.
pub fn verify(
    req: &RequestParts<'_>,
    claim: &Claim,
    secret: &SecretKey,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    verify_with(
        req,
        claim,
        secret,
        now,
        &VerifyOptions::for_service(&claim.service),
    )
}

/// [`verify`] with explicit [`VerifyOptions`].
pub fn verify_with(
    req: &RequestParts<'_>,
    claim: &Claim,
    secret: &SecretKey,
    now: OffsetDateTime,
    options: &VerifyOptions,
) -> Result<(), SigV4Error> {
    check(req, claim, now, options, |claim| {
        signing_key(secret, &claim.date, &claim.region, &claim.service)
    })
}

/// [`verify`] with the signing key taken from `keys` when its scope is the one it last
/// derived: what a server does for every request of a busy access key.
pub fn verify_memoized(
    req: &RequestParts<'_>,
    claim: &Claim,
    keys: &SigningKeys,
    now: OffsetDateTime,
) -> Result<(), SigV4Error> {
    let options = VerifyOptions::for_service(&claim.service);
    check(req, claim, now, &options, |claim| keys.for_scope(claim))
}

/// A secret access key and the signing key of the scope it last signed for.
///
/// Deriving a signing key costs four HMACs, and a client signs with one scope (day, region,
/// service) for a whole day; profiles of a busy server showed the derivation as a seventh of
/// verifying. The remembered key is as secret as the secret itself: it lives behind this type,
/// is zeroized when replaced or dropped, and is never shown.
pub struct SigningKeys {
    secret: SecretKey,
    last: Mutex<Option<ScopedKey>>,
}

struct ScopedKey {
    date: String,
    region: String,
    service: String,
    key: Zeroizing<[u8; 32]>,
}

impl SigningKeys {
    pub fn new(secret: SecretKey) -> Self {
        Self {
            secret,
            last: Mutex::new(None),
        }
    }

    fn for_scope(&self, claim: &Claim) -> Result<Zeroizing<[u8; 32]>, SigV4Error> {
        // A panic while holding the lock leaves either a whole entry or none.
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = last.as_ref() {
            if k.date == claim.date && k.region == claim.region && k.service == claim.service {
                return Ok(k.key.clone());
            }
        }
        let key = signing_key(&self.secret, &claim.date, &claim.region, &claim.service)?;
        *last = Some(ScopedKey {
            date: claim.date.clone(),
            region: claim.region.clone(),
            service: claim.service.clone(),
            key: key.clone(),
        });
        Ok(key)
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys").finish_non_exhaustive()
    }
}

/// The checks of [`verify`], with the signing key from `key` (called once the claim's dates
/// and payload hash have passed).
fn check(
    req: &RequestParts<'_>,
    claim: &Claim,
    now: OffsetDateTime,
    options: &VerifyOptions,
    key: impl FnOnce(&Claim) -> Result<Zeroizing<[u8; 32]>, SigV4Error>,
) -> Result<(), SigV4Error> {
    let signed_at = parse_amz_date(&claim.amz_date).ok_or_else(|| {
        SigV4Error::IncompleteSignature(
            "Date must be in ISO-8601 'basic format' (yyyymmddThhmmssZ).".into(),
        )
    })?;
    let amz_day = claim.amz_date.get(..8).unwrap_or_default();
    if claim.date != amz_day {
        return Err(SigV4Error::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{amz_day}', from '{}'.",
            claim.date, claim.amz_date
        )));
    }
    check_clock(claim, signed_at, now, options.max_skew)?;

    let payload = payload_hash(req, claim, options.allow_unsigned_payload)?;
    let parts = CanonicalParts::new(req, claim, &payload)?;
    let signing_key = key(claim)?;

    let mut tried: Vec<String> = Vec::with_capacity(2);
    for candidate in CanonicalUri::candidates(options.uri_encoding) {
        let uri = candidate.apply(req.path);
        if tried.contains(&uri) {
            continue;
        }
        let canonical = parts.with_uri(req.method, &uri);
        let mut mac = hmac_with_key(signing_key.as_slice())?;
        mac.update(string_to_sign(claim, &canonical).as_bytes());
        if mac.verify_slice(claim.signature()).is_ok() {
            return Ok(());
        }
        tried.push(uri);
    }
    Err(SigV4Error::InvalidSignature(
        SIGNATURE_MISMATCH_MESSAGE.into(),
    ))
}

/// The clock rules, with AWS's messages.
fn check_clock(
    claim: &Claim,
    signed_at: OffsetDateTime,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let stamp = |at: OffsetDateTime| format_amz_date(at).unwrap_or_else(|| "?".into());
    let minutes = max_skew.whole_minutes();
    // `checked_*`: a clock near the end of time must not overflow into a panic.
    if let Some(latest) = now.checked_add(max_skew) {
        if signed_at > latest {
            return Err(SigV4Error::SignatureExpired(format!(
                "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
                claim.amz_date,
                stamp(latest),
                stamp(now),
            )));
        }
    }
    match claim.expires {
        Some(expires) if claim.presigned => {
            let expires = Duration::seconds(i64::try_from(expires).unwrap_or(i64::MAX));
            let expired_at = signed_at.checked_add(expires);
            if expired_at.is_some_and(|at| now > at) {
                return Err(SigV4Error::PresignedExpired {
                    expired_at: expired_at.map_or_else(|| "?".into(), stamp),
                    server_time: stamp(now),
                });
            }
        }
        _ => {
            if let Some(earliest) = now.checked_sub(max_skew) {
                if signed_at < earliest {
                    return Err(SigV4Error::SignatureExpired(format!(
                        "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
                        claim.amz_date,
                        stamp(earliest),
                        stamp(now),
                    )));
                }
            }
        }
    }
    Ok(())
}

fn hmac_with_key(key: &[u8]) -> Result<HmacSha256, SigV4Error> {
    // HMAC takes keys of any length, so this cannot fail; the error path only
    // exists because the `KeyInit` trait is shared with fixed-key MACs.
    <HmacSha256 as Mac>::new_from_slice(key)
        .map_err(|_| SigV4Error::Signing("HMAC rejected its key".into()))
}

fn hmac_step(key: &[u8], data: &str) -> Result<Zeroizing<[u8; 32]>, SigV4Error> {
    let mut mac = hmac_with_key(key)?;
    mac.update(data.as_bytes());
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
/// Every intermediate key is zeroized when dropped.
fn signing_key(
    secret: &SecretKey,
    date: &str,
    region: &str,
    service: &str,
) -> Result<Zeroizing<[u8; 32]>, SigV4Error> {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let k_date = hmac_step(&seed, date)?;
    let k_region = hmac_step(k_date.as_slice(), region)?;
    let k_service = hmac_step(k_region.as_slice(), service)?;
    hmac_step(k_service.as_slice(), SCOPE_TERMINATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(date: &str, region: &str, service: &str) -> Claim {
        Claim {
            date: date.into(),
            region: region.into(),
            service: service.into(),
            access_key_id: "AKIDEXAMPLE".into(),
            signed_headers: vec!["host".into()],
            amz_date: format!("{date}T000000Z"),
            security_token: None,
            presigned: false,
            expires: None,
            signature: [0; 32],
        }
    }

    #[test]
    fn memoized_signing_keys_follow_the_scope() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let keys = SigningKeys::new(SecretKey::new(secret));
        for (date, region, service) in [
            ("20120215", "us-east-1", "iam"),
            ("20120215", "us-east-1", "iam"),
            ("20120216", "us-east-1", "iam"),
            ("20120216", "eu-west-1", "iam"),
            ("20120216", "eu-west-1", "s3"),
            ("20120215", "us-east-1", "iam"),
        ] {
            let fresh = signing_key(&SecretKey::new(secret), date, region, service).unwrap();
            let memo = keys.for_scope(&claim(date, region, service)).unwrap();
            assert_eq!(
                memo.as_slice(),
                fresh.as_slice(),
                "{date} {region} {service}"
            );
        }
    }

    #[test]
    fn signing_key_matches_aws_documentation_example() {
        // From AWS's "Examples of how to derive a signing key for Signature
        // Version 4" (secret, 20120215, us-east-1, iam).
        let key = signing_key(
            &SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        )
        .expect("hmac accepts any key");
        assert_eq!(
            hex::encode(key.as_slice()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
