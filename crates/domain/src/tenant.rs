//! Tenants: the organisations a user belongs to.

use crate::TenantId;

/// A tenant as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub name: TenantName,
}

/// A short, URL-safe handle: lowercase ASCII letters, digits and single
/// hyphens, 1 to 63 characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

/// A display name: 1 to 200 characters with no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("a slug is 1 to 63 lowercase letters, digits or inner hyphens")]
    InvalidSlug,
    #[error("a name is 1 to 200 characters without control characters")]
    InvalidName,
}

impl TenantSlug {
    /// # Errors
    ///
    /// [`TenantError::InvalidSlug`] for anything outside the slug alphabet.
    pub fn parse(raw: &str) -> Result<Self, TenantError> {
        let ok = (1..=63).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(TenantError::InvalidSlug)
        }
    }

    /// Derives a slug from a display name: ASCII letters and digits kept and
    /// lowercased, every other run of characters becomes one hyphen.
    ///
    /// # Errors
    ///
    /// [`TenantError::InvalidSlug`] when nothing usable is left.
    pub fn from_name(name: &TenantName) -> Result<Self, TenantError> {
        let mut slug = String::new();
        for c in name.as_str().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_end_matches('-').chars().take(63).collect();
        Self::parse(slug.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TenantName {
    /// # Errors
    ///
    /// [`TenantError::InvalidName`] for an empty, overlong or control-laden name.
    pub fn parse(raw: &str) -> Result<Self, TenantError> {
        let trimmed = raw.trim();
        let ok = !trimmed.is_empty()
            && trimmed.chars().count() <= 200
            && !trimmed.chars().any(char::is_control);
        if ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(TenantError::InvalidName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_from_names() {
        let name = TenantName::parse("  Acme Corp. (EU) ").map_err(|e| e.to_string());
        let slug = name.and_then(|n| TenantSlug::from_name(&n).map_err(|e| e.to_string()));
        assert_eq!(
            slug.map(|s| s.as_str().to_owned()),
            Ok("acme-corp-eu".to_owned())
        );
    }

    #[test]
    fn slug_syntax() {
        for good in ["a", "acme", "acme-2", "0x"] {
            assert!(TenantSlug::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "Acme", "a b", "ä", &"a".repeat(64)] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_without_letters_gives_no_slug() {
        let name = TenantName::parse("Ωμέγα");
        assert!(name.is_ok_and(|n| TenantSlug::from_name(&n).is_err()));
    }
}
