//! Authentication: from a signed request to a [`Principal`].
//!
//! SigV4 says whether the signature is right; this module says whose key it is. It looks the
//! access key up in the store, opens its sealed secret, verifies the signature in constant time,
//! and for temporary credentials checks the session token (also in constant time) and expiry.

use billtrail_auth::credentials::{AccessKeyRecord, KeyStatus, ACCESS_KEY_KIND};
use billtrail_auth::principal::{Principal, Session};
use billtrail_auth::sigv4::{self, Claim, RequestParts, SigV4Error};
use billtrail_protocol::ApiError;
use billtrail_store::Key;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use billtrail_operations::Env;

/// Errors are spelled the JSON 1.1 way; Query services respell them at the edge.
fn sig_error(e: SigV4Error) -> ApiError {
    ApiError::new(e.code(), e.status(), e.to_string())
}

fn unrecognized() -> ApiError {
    ApiError::new(
        "UnrecognizedClientException",
        400,
        "The security token included in the request is invalid.",
    )
}

/// Authenticates a request; returns who signed it and what the signature claims (service and
/// region of the scope).
pub fn authenticate(env: &Env, parts: &RequestParts<'_>) -> Result<(Principal, Claim), ApiError> {
    let claim = sigv4::parse(parts).map_err(sig_error)?;
    let record: AccessKeyRecord = env
        .store
        .get(&Key::global(ACCESS_KEY_KIND, &claim.access_key_id))
        .map_err(|e| {
            tracing::error!(error = %e, "access key lookup failed");
            ApiError::internal()
        })?
        .ok_or_else(unrecognized)?;
    if record.status != KeyStatus::Active {
        return Err(unrecognized());
    }
    let secret = env.vault.open(&record.sealed_secret).map_err(|e| {
        tracing::error!(error = %e, key = %record.access_key_id, "cannot open a stored secret");
        ApiError::internal()
    })?;
    let now = OffsetDateTime::now_utc();
    sigv4::verify(parts, &claim, &secret, now).map_err(sig_error)?;

    let session = match &record.session {
        None => {
            if claim.security_token.is_some() {
                return Err(unrecognized());
            }
            None
        }
        Some(s) => {
            let sent = claim.security_token.as_deref().unwrap_or_default();
            let token = env
                .vault
                .open(&s.sealed_token)
                .map_err(|_| ApiError::internal())?;
            if !bool::from(sent.as_bytes().ct_eq(token.expose().as_bytes())) {
                return Err(unrecognized());
            }
            if now.unix_timestamp() >= s.expires {
                return Err(ApiError::new(
                    "ExpiredTokenException",
                    400,
                    "The security token included in the request is expired",
                ));
            }
            Some(Session {
                creation_date: s.creation_date.clone(),
                mfa_authenticated: s.mfa_authenticated,
                policy: s.policy.clone(),
            })
        }
    };
    Ok((
        Principal {
            account_id: record.account_id,
            identity: record.identity,
            access_key_id: Some(record.access_key_id),
            session,
        },
        claim,
    ))
}
