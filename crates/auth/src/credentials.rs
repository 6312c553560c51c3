//! Long-term and temporary credentials at rest.
//!
//! SigV4 needs the secret access key itself to recompute a signature, so secrets cannot be stored
//! hashed. They are stored sealed instead: AES-256-GCM under the installation's master key
//! ([`Vault`]), which lives in its own file (mode 0600) beside the database, never in it. A copy
//! of the database alone reveals no secret.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::principal::Identity;
use crate::secret::SecretKey;

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a sealed secret could not be opened (wrong master key or corrupt data)")]
pub struct VaultError;

impl Vault {
    pub fn new(master_key: &[u8; 32]) -> Self {
        Vault {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(master_key)),
        }
    }

    /// `base64(nonce || ciphertext)`; a fresh random nonce each time.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce: [u8; 12] = rand::thread_rng().gen();
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<SecretKey, VaultError> {
        let raw = B64.decode(sealed).map_err(|_| VaultError)?;
        if raw.len() < 12 {
            return Err(VaultError);
        }
        let (nonce, ct) = raw.split_at(12);
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| VaultError)?;
        String::from_utf8(pt)
            .map(SecretKey::new)
            .map_err(|_| VaultError)
    }
}

/// `Active` or `Inactive`, as IAM spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

/// An access key as stored (state kind [`ACCESS_KEY_KIND`], global, id = access key id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account_id: String,
    pub identity: Identity,
    /// The secret, sealed by the [`Vault`].
    pub sealed_secret: String,
    pub status: KeyStatus,
    /// ISO-8601.
    pub created: String,
    /// Temporary credentials: the session token (sealed), expiry (Unix seconds) and session data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<TemporarySession>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemporarySession {
    pub sealed_token: String,
    pub expires: i64,
    pub creation_date: String,
    pub mfa_authenticated: bool,
    /// The session policy, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The state kind under which access keys are stored, in the global (`""`) account.
pub const ACCESS_KEY_KIND: &str = "access_key";

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A new access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 base-32 characters.
pub fn new_access_key_id(temporary: bool) -> String {
    let prefix = if temporary { "ASIA" } else { "AKIA" };
    format!("{prefix}{}", random_string(KEY_ALPHABET, 16))
}

/// A new 40-character secret access key.
pub fn new_secret_access_key() -> SecretKey {
    SecretKey::new(random_string(SECRET_ALPHABET, 40))
}

/// A unique id in IAM's style: a four-letter prefix (`AIDA` users, `AROA` roles) and 17 base-32
/// characters.
pub fn new_unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_string(KEY_ALPHABET, 17))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let v = Vault::new(&[7u8; 32]);
        let sealed = v.seal("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert!(!sealed.contains("wJalr"));
        assert_eq!(
            v.open(&sealed).expect("opens").expose(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        );
        assert!(Vault::new(&[8u8; 32]).open(&sealed).is_err());
        assert!(v.open("not base64!").is_err());
        assert!(v.open("").is_err());
        assert_ne!(v.seal("x"), v.seal("x"), "fresh nonce each time");
    }

    #[test]
    fn generated_ids_have_aws_shapes() {
        let k = new_access_key_id(false);
        assert!(k.starts_with("AKIA") && k.len() == 20);
        assert!(new_access_key_id(true).starts_with("ASIA"));
        assert_eq!(new_secret_access_key().expose().len(), 40);
        assert_eq!(new_unique_id("AIDA").len(), 21);
    }
}
