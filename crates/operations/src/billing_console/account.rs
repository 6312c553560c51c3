//! The account's own settings: `SetAccountPreferences` (name, root email, root password).
//!
//! The root password is kept only as an Argon2id hash. Changing the email or the password is for
//! the root user alone and needs the current password, as the console asks for it.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use crate::{Context, Empty};

pub const PROFILE_KIND: &str = "account";
pub const PROFILE_ID: &str = "profile";

/// The account's name, root email and root password hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountProfile {
    pub account_name: String,
    pub email: String,
    /// PHC string of the Argon2id hash.
    pub password_hash: String,
    /// ISO-8601.
    pub created: String,
}

impl AccountProfile {
    /// Hashes a password for storage.
    pub fn hash_password(password: &str) -> Result<String, ApiError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                ApiError::internal()
            })
    }

    pub fn password_matches(&self, password: &str) -> bool {
        PasswordHash::new(&self.password_hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetAccountPreferencesInput {
    account_name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
}

/// At least 8 characters, with three of: upper case, lower case, digit, symbol.
fn strong_enough(p: &str) -> bool {
    let classes = [
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    p.chars().count() >= 8 && classes.iter().filter(|c| **c).count() >= 3
}

fn plausible_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub(crate) fn set_account_preferences(
    cx: &mut Context<'_>,
    input: SetAccountPreferencesInput,
) -> Result<Empty, ApiError> {
    if input.account_name.is_none() && input.email.is_none() && input.password.is_none() {
        return Err(ApiError::validation(
            "Nothing to change: give accountName, email or password.",
        ));
    }
    let mut profile: AccountProfile = cx.get(PROFILE_KIND, PROFILE_ID)?.ok_or_else(|| {
        tracing::error!(account = cx.account_id(), "account has no profile");
        ApiError::internal()
    })?;
    if let Some(name) = input.account_name {
        if name.trim().is_empty() {
            return Err(ApiError::validation("The account name must not be blank."));
        }
        profile.account_name = name;
    }
    if input.email.is_some() || input.password.is_some() {
        if !cx.caller.is_root() {
            return Err(ApiError::access_denied(
                "Only the root user can change the account's email address or password.",
            ));
        }
        let current = input.current_password.as_deref().unwrap_or_default();
        if current.is_empty() {
            return Err(ApiError::validation(
                "currentPassword is required to change the email address or password.",
            ));
        }
        if !profile.password_matches(current) {
            return Err(ApiError::new(
                "IncorrectPasswordException",
                400,
                "The current password is incorrect.",
            ));
        }
    }
    if let Some(email) = input.email {
        if !plausible_email(&email) {
            return Err(ApiError::validation("The email address is not valid."));
        }
        profile.email = email;
    }
    if let Some(password) = input.password {
        if !strong_enough(&password) {
            return Err(ApiError::validation(
                "The password must have at least 8 characters and three of: upper case, lower case, digits, symbols.",
            ));
        }
        profile.password_hash = AccountProfile::hash_password(&password)?;
    }
    cx.put(PROFILE_KIND, PROFILE_ID, &profile)?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_and_hashes() {
        assert!(strong_enough("Correct-Horse-9"));
        assert!(!strong_enough("short1A"));
        assert!(!strong_enough("alllowercase"));
        let p = AccountProfile {
            account_name: "a".into(),
            email: "root@example.com".into(),
            password_hash: AccountProfile::hash_password("Correct-Horse-9").expect("hash"),
            created: String::new(),
        };
        assert!(!p.password_hash.contains("Correct-Horse-9"));
        assert!(p.password_matches("Correct-Horse-9"));
        assert!(!p.password_matches("Correct-Horse-8"));
    }

    #[test]
    fn emails() {
        assert!(plausible_email("billing@example.com"));
        assert!(!plausible_email("billing@example"));
        assert!(!plausible_email("@example.com"));
        assert!(!plausible_email("a b@example.com"));
    }
}
