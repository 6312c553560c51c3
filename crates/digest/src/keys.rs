//! Signing keys: one RSA 2048 key pair per region per rotation period, generated on demand.
//!
//! A key is stored at `Key::global("digest_key", "{region}|{fingerprint}")` ([`StoredKey`]): the
//! public key as base64 PKCS#1 `RSAPublicKey` DER (what `ListPublicKeys` returns and awscli loads
//! with `rsa.PublicKey.load_pkcs1(der, 'DER')`), its fingerprint (lowercase hex MD5 of that DER,
//! reference §3.5), its validity, and the private key **sealed by the [`Vault`]**: the database
//! alone reveals no private key.
//!
//! Rotation is a fixed schedule: time is cut into periods of `rotation` seconds from the Unix
//! epoch; the key of period `i` signs every digest whose end time falls in it and is valid from
//! the period's start to its end plus `overlap`, so consecutive keys overlap (AWS's samples show
//! 30-day keys with overlapping validity). A key is chosen by the digest's *end time*, not by
//! the clock, so re-signing a period after a crash uses the same key, and a digest signed late
//! (catching up after downtime) is still covered by a key valid at its end time, which is what
//! the CLI asks `ListPublicKeys` for.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use billtrail_auth::credentials::Vault;
use billtrail_store::{Key, ReadSide, Store, StoreError};
use md5::{Digest as _, Md5};
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::signature::{SignatureEncoding, Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::DigestError;

/// The store kind of signing keys.
pub const KEY_KIND: &str = "digest_key";

/// RSA modulus size.
pub const KEY_BITS: usize = 2048;

/// When keys rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    /// Length of a rotation period, seconds (default 30 days).
    pub rotation: i64,
    /// How long a key stays valid after its period, seconds (default 1 day).
    pub overlap: i64,
}

impl Default for KeySchedule {
    fn default() -> Self {
        KeySchedule {
            rotation: 30 * 86_400,
            overlap: 86_400,
        }
    }
}

impl KeySchedule {
    /// The start of the period that contains `at`.
    pub fn period_start(&self, at: i64) -> i64 {
        let r = self.rotation.max(1);
        at.div_euclid(r) * r
    }
}

/// A signing key as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub region: String,
    pub fingerprint: String,
    /// Base64 of the PKCS#1 `RSAPublicKey` DER.
    pub public_key: String,
    /// The PKCS#1 private key DER, base64, sealed by the vault.
    pub private_key_sealed: String,
    /// Unix seconds.
    pub validity_start: i64,
    pub validity_end: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("region", &self.region)
            .field("fingerprint", &self.fingerprint)
            .field("validity_start", &self.validity_start)
            .field("validity_end", &self.validity_end)
            .finish_non_exhaustive()
    }
}

/// A public key, as `ListPublicKeys` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// Base64 of the PKCS#1 DER.
    pub value: String,
    pub fingerprint: String,
    pub validity_start: i64,
    pub validity_end: i64,
}

impl From<&StoredKey> for PublicKey {
    fn from(k: &StoredKey) -> Self {
        PublicKey {
            value: k.public_key.clone(),
            fingerprint: k.fingerprint.clone(),
            validity_start: k.validity_start,
            validity_end: k.validity_end,
        }
    }
}

/// Lowercase hex MD5 of a public key's DER: the fingerprint digests name their key by.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

/// The region's keys whose validity overlaps `[start, end]` (Unix seconds), oldest first.
pub fn public_keys(
    read: &dyn ReadSide,
    region: &str,
    start: i64,
    end: i64,
) -> Result<Vec<PublicKey>, StoreError> {
    let mut keys: Vec<PublicKey> = stored_keys(read, region)?
        .iter()
        .filter(|k| k.validity_start <= end && k.validity_end >= start)
        .map(PublicKey::from)
        .collect();
    keys.sort_by(|a, b| {
        (a.validity_start, &a.fingerprint).cmp(&(b.validity_start, &b.fingerprint))
    });
    Ok(keys)
}

/// Every key of the region, as stored.
pub fn stored_keys(read: &dyn ReadSide, region: &str) -> Result<Vec<StoredKey>, StoreError> {
    let prefix = format!("{region}|");
    let mut out = Vec::new();
    for (id, text) in read.scan("", KEY_KIND)? {
        if !id.starts_with(&prefix) {
            continue;
        }
        let k: StoredKey = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("/{KEY_KIND}/{id}"), e.to_string()))?;
        out.push(k);
    }
    Ok(out)
}

/// A private key ready to sign. Debug never shows the key.
pub struct Signer {
    pub fingerprint: String,
    key: rsa::pkcs1v15::SigningKey<Sha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, ***)", self.fingerprint)
    }
}

impl Signer {
    /// RSASSA-PKCS1-v1_5 with SHA-256 ("SHA256withRSA") over `message`, lowercase hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).to_bytes())
    }
}

/// Verifies a SHA256withRSA signature with a base64 PKCS#1 DER public key.
pub fn verify(
    public_key_b64: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, KeyLoadError> {
    let der = B64
        .decode(public_key_b64.trim())
        .map_err(|_| KeyLoadError)?;
    let key = rsa::RsaPublicKey::from_pkcs1_der(&der).map_err(|_| KeyLoadError)?;
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key);
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return Ok(false);
    };
    Ok(verifier.verify(message, &sig).is_ok())
}

/// A public key that is not PKCS#1 DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a PKCS #1 RSA public key")]
pub struct KeyLoadError;

/// A fresh key pair for `region`, valid over `[start, end]`.
pub fn generate(
    vault: &Vault,
    region: &str,
    start: i64,
    end: i64,
    now: i64,
) -> Result<StoredKey, DigestError> {
    let mut rng = rand::thread_rng();
    let private = rsa::RsaPrivateKey::new(&mut rng, KEY_BITS)
        .map_err(|e| DigestError::Key(format!("generating an RSA key: {e}")))?;
    let public_der = private
        .to_public_key()
        .to_pkcs1_der()
        .map_err(|e| DigestError::Key(format!("encoding a public key: {e}")))?;
    let private_der = private
        .to_pkcs1_der()
        .map_err(|e| DigestError::Key(format!("encoding a private key: {e}")))?;
    let private_b64 = zeroize::Zeroizing::new(B64.encode(private_der.as_bytes()));
    Ok(StoredKey {
        region: region.to_string(),
        fingerprint: fingerprint(public_der.as_bytes()),
        public_key: B64.encode(public_der.as_bytes()),
        private_key_sealed: vault.seal(&private_b64),
        validity_start: start,
        validity_end: end,
        created_at: now,
    })
}

/// Opens a stored key's private half.
pub fn signer(vault: &Vault, key: &StoredKey) -> Result<Signer, DigestError> {
    let sealed = vault
        .open(&key.private_key_sealed)
        .map_err(|e| DigestError::Key(format!("key {}: {e}", key.fingerprint)))?;
    let der = zeroize::Zeroizing::new(
        B64.decode(sealed.expose())
            .map_err(|_| DigestError::Key(format!("key {}: not base64", key.fingerprint)))?,
    );
    let private = rsa::RsaPrivateKey::from_pkcs1_der(&der)
        .map_err(|e| DigestError::Key(format!("key {}: {e}", key.fingerprint)))?;
    Ok(Signer {
        fingerprint: key.fingerprint.clone(),
        key: rsa::pkcs1v15::SigningKey::<Sha256>::new(private),
    })
}

/// The key that signs digests ending at `at` in `region`: the key of `at`'s rotation period,
/// generated (and stored, sealed) if it does not exist yet. Two callers racing to create it
/// both end up with the one that committed first.
pub async fn signing_key(
    store: &Store,
    vault: &Vault,
    region: &str,
    at: i64,
    schedule: KeySchedule,
    now: i64,
) -> Result<Signer, DigestError> {
    let start = schedule.period_start(at);
    if let Some(k) = key_for_period(store.read().as_ref(), region, start)? {
        return signer(vault, &k);
    }
    let end = start + schedule.rotation + schedule.overlap;
    let (vault2, region2) = (vault.clone(), region.to_string());
    let fresh = tokio::task::spawn_blocking(move || generate(&vault2, &region2, start, end, now))
        .await
        .map_err(|e| DigestError::Key(format!("key generation stopped: {e}")))??;
    let region2 = region.to_string();
    let kept = store
        .transact(move |t| {
            let prefix = format!("{region2}|");
            for (id, text) in t.scan_text("", KEY_KIND)? {
                if !id.starts_with(&prefix) {
                    continue;
                }
                let k: StoredKey = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("/{KEY_KIND}/{id}"), e.to_string()))?;
                if k.validity_start == start {
                    return Ok(k);
                }
            }
            let id = format!("{}|{}", fresh.region, fresh.fingerprint);
            t.put(&Key::global(KEY_KIND, &id), &fresh)?;
            Ok(fresh)
        })
        .await?;
    tracing::info!(region, fingerprint = %kept.fingerprint, valid_from = kept.validity_start, valid_to = kept.validity_end, "digest signing key ready");
    signer(vault, &kept)
}

fn key_for_period(
    read: &dyn ReadSide,
    region: &str,
    start: i64,
) -> Result<Option<StoredKey>, StoreError> {
    Ok(stored_keys(read, region)?
        .into_iter()
        .find(|k| k.validity_start == start))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fingerprints of the documented samples (reference §3.5): MD5 of the DER.
    #[test]
    fn fingerprint_is_md5_of_der() {
        assert_eq!(fingerprint(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn periods_are_epoch_aligned() {
        let s = KeySchedule::default();
        assert_eq!(s.period_start(0), 0);
        assert_eq!(s.period_start(30 * 86_400 - 1), 0);
        assert_eq!(s.period_start(30 * 86_400), 30 * 86_400);
        assert_eq!(s.period_start(-1), -30 * 86_400);
    }

    #[test]
    fn a_generated_key_signs_what_its_public_half_verifies() {
        let vault = Vault::new(&[7u8; 32]);
        let k = generate(&vault, "us-east-1", 0, 100, 0).unwrap();
        // PKCS#1 RSAPublicKey DER of a 2048-bit key, as the CLI expects (reference §3.5).
        assert!(k.public_key.starts_with("MIIBCgKCAQEA"), "{}", k.public_key);
        let der = B64.decode(&k.public_key).unwrap();
        assert_eq!(k.fingerprint, fingerprint(&der));
        // Sealed: the private key's DER (base64) is nowhere in what is stored. (Sealed text is
        // random base64, so it may hold any three letters such as "MII" by chance; a window of
        // 32 characters of the key it cannot.)
        let private = vault.open(&k.private_key_sealed).unwrap();
        assert!(private.expose().starts_with("MII"));
        for window in private
            .expose()
            .as_bytes()
            .chunks(32)
            .filter(|w| w.len() == 32)
        {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!k.private_key_sealed.contains(window));
        }
        let s = signer(&vault, &k).unwrap();
        let sig = s.sign_hex(b"hello");
        assert_eq!(sig.len(), 512);
        let raw = hex::decode(&sig).unwrap();
        assert_eq!(verify(&k.public_key, b"hello", &raw), Ok(true));
        assert_eq!(verify(&k.public_key, b"hellO", &raw), Ok(false));
        assert_eq!(verify(&k.public_key, b"hello", &raw[1..]), Ok(false));
        assert_eq!(verify("bm90IGEga2V5", b"hello", &raw), Err(KeyLoadError));
        // Deterministic: PKCS#1 v1.5 signs the same message the same way.
        assert_eq!(s.sign_hex(b"hello"), sig);
        assert!(!format!("{s:?} {k:?}").contains(&k.private_key_sealed));
        // Another vault cannot open it.
        assert!(signer(&Vault::new(&[8u8; 32]), &k).is_err());
    }
}
