//! Passwords as the service receives them.
//!
//! NIST SP 800-63B §5.1.1.2: passwords are normalised (NFKC here) before
//! hashing so the same characters typed on different keyboards match, and
//! nothing is ever truncated.

use unicode_normalization::UnicodeNormalization;

use crate::Secret;

/// The longest password accepted, in Unicode scalar values as sent.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The shortest password a new one may be (NIST SP 800-63B's floor).
pub const MIN_NEW_PASSWORD_CHARS: usize = 8;

/// A password, normalised with NFKC. Its `Debug` redacts.
#[derive(Debug, Clone)]
pub struct Password(Secret<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is longer than {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password is shorter than {MIN_NEW_PASSWORD_CHARS} characters")]
    TooShort,
}

impl Password {
    /// A password presented at login: any length up to the maximum.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`] past [`MAX_PASSWORD_CHARS`].
    pub fn presented(raw: &str) -> Result<Self, PasswordError> {
        if raw.chars().count() > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(Secret::new(raw.nfkc().collect())))
    }

    /// A password being set: the login rules plus a minimum length.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooShort`] or [`PasswordError::TooLong`].
    pub fn new_password(raw: &str) -> Result<Self, PasswordError> {
        let password = Self::presented(raw)?;
        if password.0.expose().chars().count() < MIN_NEW_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_are_unified() {
        let full_width = Password::presented("\u{ff30}assword");
        assert_eq!(
            full_width.map(|p| p.expose().to_owned()),
            Ok("Password".to_owned())
        );
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(Password::presented(&"é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert_eq!(
            Password::presented(&"a".repeat(MAX_PASSWORD_CHARS + 1)).err(),
            Some(PasswordError::TooLong)
        );
    }

    #[test]
    fn nothing_is_truncated() {
        let long = "x".repeat(1000) + "tail";
        assert_eq!(
            Password::presented(&long).map(|p| p.expose().len()),
            Ok(1004)
        );
    }

    #[test]
    fn new_passwords_have_a_floor() {
        assert_eq!(
            Password::new_password("short").err(),
            Some(PasswordError::TooShort)
        );
        assert!(Password::new_password("long enough").is_ok());
    }
}
