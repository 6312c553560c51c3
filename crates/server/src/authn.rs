//! Authentication: from a signed request to a [`Principal`].
//!
//! SigV4 says whether the signature is right; this module says whose key it is. It looks the
//! access key up in the store, opens its sealed secret, verifies the signature in constant time,
//! and for temporary credentials checks the session token (also in constant time) and expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use billtrail_auth::credentials::{AccessKeyRecord, KeyStatus, ACCESS_KEY_KIND};
use billtrail_auth::principal::{Principal, Session};
use billtrail_auth::sigv4::{self, Claim, RequestParts, SigV4Error, SigningKeys};
use billtrail_auth::SecretKey;
use billtrail_protocol::ApiError;
use billtrail_store::Key;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use billtrail_operations::Env;

/// Access keys already looked up and opened, so that a busy key costs neither a store read nor a
/// decryption per request. An entry is used only while the store's installation-wide generation
/// is the one read before the key was (any change to any access key raises it), so a deleted,
/// deactivated or replaced key is refused from the next request on.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, Arc<OpenKey>>>,
}

/// The most keys the cache holds; when full it starts over.
const KEY_CACHE_CAPACITY: usize = 10_000;

/// An access key as authentication needs it: its record, and its secrets opened.
struct OpenKey {
    generation: u64,
    record: AccessKeyRecord,
    secret: SigningKeys,
    /// The session token, for temporary credentials.
    token: Option<SecretKey>,
}

impl KeyCache {
    /// The key `id`, from the cache when still current, else from the store (`None`: no such
    /// key).
    fn get(&self, env: &Env, id: &str) -> Result<Option<Arc<OpenKey>>, AuthnError> {
        let generation = env.store.global_generation();
        if let Some(k) = self.lock().get(id) {
            if k.generation == generation {
                return Ok(Some(k.clone()));
            }
        }
        let Some(record) = env
            .store
            .get::<AccessKeyRecord>(&Key::global(ACCESS_KEY_KIND, id))
            .map_err(|e| {
                tracing::error!(error = %e, "access key lookup failed");
                AuthnError::Internal
            })?
        else {
            self.lock().remove(id);
            return Ok(None);
        };
        let secret = env.vault.open(&record.sealed_secret).map_err(|e| {
            tracing::error!(error = %e, key = %record.access_key_id, "cannot open a stored secret");
            AuthnError::Internal
        })?;
        let token = match &record.session {
            None => None,
            Some(s) => Some(env.vault.open(&s.sealed_token).map_err(|e| {
                tracing::error!(error = %e, key = %record.access_key_id, "cannot open a session token");
                AuthnError::Internal
            })?),
        };
        let open = Arc::new(OpenKey {
            generation,
            record,
            secret: SigningKeys::new(secret),
            token,
        });
        let mut entries = self.lock();
        if entries.len() >= KEY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(id.to_string(), open.clone());
        Ok(Some(open))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OpenKey>>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

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

/// Authenticates a request: who signed it and what the signature claims (service and region of
/// the scope), or why not, for the caller's protocol to spell ([`AuthnError::to_api_error`] for
/// the JSON protocols).
pub fn authenticate_detailed(
    env: &Env,
    keys: &KeyCache,
    parts: &RequestParts<'_>,
) -> Result<(Principal, Claim), AuthnError> {
    let claim = sigv4::parse(parts).map_err(AuthnError::Signature)?;
    authenticate_claim(env, keys, parts, claim)
}

/// [`authenticate_detailed`] for a request whose signature the caller has parsed already.
pub fn authenticate_claim(
    env: &Env,
    keys: &KeyCache,
    parts: &RequestParts<'_>,
    claim: Claim,
) -> Result<(Principal, Claim), AuthnError> {
    let key = keys
        .get(env, &claim.access_key_id)?
        .ok_or(AuthnError::UnknownKey)?;
    let record = &key.record;
    if record.status != KeyStatus::Active {
        return Err(AuthnError::UnknownKey);
    }
    let now = OffsetDateTime::now_utc();
    sigv4::verify_memoized(parts, &claim, &key.secret, now).map_err(AuthnError::Signature)?;

    let session = match (&record.session, &key.token) {
        (None, _) => {
            if claim.security_token.is_some() {
                return Err(AuthnError::InvalidToken);
            }
            None
        }
        (Some(_), None) => return Err(AuthnError::Internal),
        (Some(s), Some(token)) => {
            let sent = claim.security_token.as_deref().unwrap_or_default();
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
            account_id: record.account_id.clone(),
            identity: record.identity.clone(),
            access_key_id: Some(record.access_key_id.clone()),
            session,
        },
        claim,
    ))
}
