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

/// Why a request was not authenticated, before a wire protocol spells it: JSON 1.1 by
/// [`AuthnError::to_api_error`] (Query services respell that at the edge), S3 its own way.
#[derive(Debug)]
pub enum AuthnError {
    /// The signature is malformed, stale or wrong (see [`SigV4Error`]).
    Signature(SigV4Error),
    /// No such access key, or an inactive one.
    UnknownKey,
    /// A session token that does not belong with the key (or one sent with a long-term key).
    InvalidToken,
    /// Temporary credentials past their expiry.
    ExpiredToken,
    /// The store or the vault failed; the detail is logged.
    Internal,
}

impl AuthnError {
    /// As the AWS JSON protocols spell it.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            AuthnError::Signature(e) => ApiError::new(e.code(), e.status(), e.to_string()),
            AuthnError::UnknownKey | AuthnError::InvalidToken => ApiError::new(
                "UnrecognizedClientException",
                400,
                "The security token included in the request is invalid.",
            ),
            AuthnError::ExpiredToken => ApiError::new(
                "ExpiredTokenException",
                400,
                "The security token included in the request is expired",
            ),
            AuthnError::Internal => ApiError::internal(),
        }
    }
}

/// Authenticates a request; returns who signed it and what the signature claims (service and
/// region of the scope).
pub fn authenticate(env: &Env, parts: &RequestParts<'_>) -> Result<(Principal, Claim), ApiError> {
    authenticate_detailed(env, parts).map_err(|e| e.to_api_error())
}

/// [`authenticate`], with the reason for a failure left for the caller's protocol to spell.
pub fn authenticate_detailed(
    env: &Env,
    parts: &RequestParts<'_>,
) -> Result<(Principal, Claim), AuthnError> {
    let claim = sigv4::parse(parts).map_err(AuthnError::Signature)?;
    let record: AccessKeyRecord = env
        .store
        .get(&Key::global(ACCESS_KEY_KIND, &claim.access_key_id))
        .map_err(|e| {
            tracing::error!(error = %e, "access key lookup failed");
            AuthnError::Internal
        })?
        .ok_or(AuthnError::UnknownKey)?;
    if record.status != KeyStatus::Active {
        return Err(AuthnError::UnknownKey);
    }
    let secret = env.vault.open(&record.sealed_secret).map_err(|e| {
        tracing::error!(error = %e, key = %record.access_key_id, "cannot open a stored secret");
        AuthnError::Internal
    })?;
    let now = OffsetDateTime::now_utc();
    sigv4::verify(parts, &claim, &secret, now).map_err(AuthnError::Signature)?;

    let session = match &record.session {
        None => {
            if claim.security_token.is_some() {
                return Err(AuthnError::InvalidToken);
            }
            None
        }
        Some(s) => {
            let sent = claim.security_token.as_deref().unwrap_or_default();
            let token = env
                .vault
                .open(&s.sealed_token)
                .map_err(|_| AuthnError::Internal)?;
            if !bool::from(sent.as_bytes().ct_eq(token.expose().as_bytes())) {
                return Err(AuthnError::InvalidToken);
            }
            if now.unix_timestamp() >= s.expires {
                return Err(AuthnError::ExpiredToken);
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
