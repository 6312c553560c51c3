//! [`SecretKey`]: the type a secret access key travels in.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret access key.
///
/// * `Debug` and `Display` print `SecretKey(***)`, so a key cannot leak through
///   a log line or an error message by accident.
/// * The bytes are zeroized when the value is dropped.
/// * `==` compares in constant time (for equal lengths).
/// * It can be deserialized (for configuration files) but deliberately does
///   not implement `Serialize`: writing a secret out must be an explicit
///   [`SecretKey::expose`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret access key.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself. Every call site is a place where the secret leaves
    /// this type; keep them few and never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

impl From<String> for SecretKey {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let key = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
        assert_eq!(format!("{key}"), "SecretKey(***)");
        assert_eq!(format!("{:?}", Some(&key)), "Some(SecretKey(***))");
    }

    #[test]
    fn expose_returns_the_secret() {
        let key = SecretKey::new("s3cr3t");
        assert_eq!(key.expose(), "s3cr3t");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(SecretKey::new("a"), SecretKey::new("a"));
        assert_ne!(SecretKey::new("a"), SecretKey::new("b"));
        assert_ne!(SecretKey::new("a"), SecretKey::new("ab"));
    }

    #[test]
    fn zeroize_clears_the_bytes() {
        let mut key = SecretKey::new("s3cr3t");
        key.zeroize();
        assert_eq!(key.expose(), "");
    }
}
