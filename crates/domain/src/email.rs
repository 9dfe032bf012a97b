//! Email addresses: one normalisation for storage, uniqueness, lookup and
//! throttle keys, and a deliberately narrow syntax.
//!
//! Normalisation trims Unicode white space, applies NFC, then the full
//! default lowercase mapping (`str::to_lowercase`). It never case-folds or
//! applies NFKC: those would merge distinct mailboxes (a dotless `ı`, a long
//! `ſ`, full-width letters) into the ASCII address they imitate.

use std::fmt;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

const MAX_BYTES: usize = 254;
const MAX_LOCAL_BYTES: usize = 64;
const MAX_LABEL_BYTES: usize = 63;

/// A syntactically valid, normalised email address.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a string is not an acceptable email address. The `Display` text is
/// the reason shown to the client after `value is not a valid email address: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("An email address must have an @-sign.")]
    MissingAt,
    #[error("The email address contains more than one @-sign.")]
    SeveralAts,
    #[error("There must be something before the @-sign.")]
    EmptyLocalPart,
    #[error("There must be something after the @-sign.")]
    EmptyDomain,
    #[error("The email address is too long ({0} bytes too many).")]
    TooLong(usize),
    #[error("The email address is too long before the @-sign ({0} bytes too many).")]
    LocalPartTooLong(usize),
    #[error("The email address contains invalid characters before the @-sign: {0}.")]
    InvalidLocalCharacter(String),
    #[error(
        "An email address cannot have a period at the start, at the end or twice in a row before the @-sign."
    )]
    LocalPartDots,
    #[error("The part after the @-sign contains invalid characters: {0}.")]
    InvalidDomainCharacter(String),
    #[error("The part after the @-sign is not valid. It should have a period.")]
    SingleLabelDomain,
    #[error(
        "An email address cannot have a period at the start, at the end or twice in a row after the @-sign."
    )]
    EmptyDomainLabel,
    #[error("A label after the @-sign is longer than 63 characters.")]
    DomainLabelTooLong,
    #[error("A label after the @-sign cannot start or end with a hyphen.")]
    DomainLabelHyphen,
}

impl Email {
    /// Normalises and validates an address as typed.
    ///
    /// # Errors
    ///
    /// Returns the first rule the normalised address breaks.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let normalised: String = raw.trim().nfc().collect::<String>().to_lowercase();
        validate(&normalised)?;
        Ok(Self(normalised))
    }

    /// Rebuilds an address read back from storage, where it was kept in
    /// its normalised form: checked again, but not normalised again.
    /// Lowercasing can leave a sequence that NFC would compose (`J` with a
    /// combining caron becomes `j` + caron, which composes to `ǰ`), so a
    /// second normalisation could turn a stored address into another string.
    ///
    /// # Errors
    ///
    /// The rule a damaged stored value breaks; callers treat it as absent.
    pub fn from_stored(stored: &str) -> Result<Self, EmailError> {
        validate(stored)?;
        Ok(Self(stored.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, for messages that must not show the whole
    /// address (logs keep only a hint of it).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Debug for Email {
    /// Logs must never carry a full address, so `Debug` shows the domain only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email(…@{})", self.domain())
    }
}

fn validate(address: &str) -> Result<(), EmailError> {
    let (local, domain) = match address.split_once('@') {
        None => return Err(EmailError::MissingAt),
        Some((_, domain)) if domain.contains('@') => return Err(EmailError::SeveralAts),
        Some(parts) => parts,
    };
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    validate_local(local)?;
    validate_domain(domain)?;
    if address.len() > MAX_BYTES {
        return Err(EmailError::TooLong(address.len() - MAX_BYTES));
    }
    if local.len() > MAX_LOCAL_BYTES {
        return Err(EmailError::LocalPartTooLong(local.len() - MAX_LOCAL_BYTES));
    }
    Ok(())
}

fn validate_local(local: &str) -> Result<(), EmailError> {
    let bad: String = local
        .chars()
        .filter(|&c| c != '.' && !is_local_char(c))
        .collect();
    if !bad.is_empty() {
        return Err(EmailError::InvalidLocalCharacter(quote_chars(&bad)));
    }
    if local.split('.').any(str::is_empty) {
        return Err(EmailError::LocalPartDots);
    }
    Ok(())
}

fn is_local_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    }
    use GeneralCategory as G;
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
            | G::NonspacingMark
            | G::SpacingMark
            | G::EnclosingMark
            | G::DecimalNumber
            | G::LetterNumber
            | G::OtherNumber
    )
}

fn validate_domain(domain: &str) -> Result<(), EmailError> {
    let bad: String = domain
        .chars()
        .filter(|&c| c != '.' && !(c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    if !bad.is_empty() {
        return Err(EmailError::InvalidDomainCharacter(quote_chars(&bad)));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return Err(EmailError::EmptyDomainLabel);
    }
    if labels.len() < 2 {
        return Err(EmailError::SingleLabelDomain);
    }
    if labels.iter().any(|label| label.len() > MAX_LABEL_BYTES) {
        return Err(EmailError::DomainLabelTooLong);
    }
    if labels
        .iter()
        .any(|label| label.starts_with('-') || label.ends_with('-'))
    {
        return Err(EmailError::DomainLabelHyphen);
    }
    Ok(())
}

/// Lists offending characters once each, escaping the invisible ones so the
/// message shows what was actually sent.
fn quote_chars(chars: &str) -> String {
    let mut seen = Vec::new();
    for c in chars.chars() {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen.iter()
        .map(|&c| {
            if c.is_control() || c.is_whitespace() || !c.is_ascii() && !is_local_char(c) {
                format!("U+{:04X}", u32::from(c))
            } else {
                format!("'{c}'")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Option<String> {
        Email::parse(raw).ok().map(|e| e.as_str().to_owned())
    }

    #[test]
    fn case_and_surrounding_space_do_not_make_a_new_address() {
        assert_eq!(
            parsed("  User@Example.COM\u{3000}").as_deref(),
            Some("user@example.com")
        );
    }

    #[test]
    fn lookalike_letters_keep_their_identity() {
        // Dotless i, long s, full-width a and Cyrillic e are distinct mailboxes.
        for (raw, ascii) in [
            ("\u{131}van@example.com", "ivan@example.com"),
            ("\u{17f}am@example.com", "sam@example.com"),
            ("\u{ff41}nn@example.com", "ann@example.com"),
            ("\u{435}ve@example.com", "eve@example.com"),
        ] {
            assert_ne!(parsed(raw).as_deref(), Some(ascii), "{raw}");
        }
    }

    #[test]
    fn the_kelvin_sign_is_canonically_a_k() {
        assert_eq!(
            parsed("\u{212a}im@example.com").as_deref(),
            Some("kim@example.com")
        );
    }

    #[test]
    fn final_sigma_follows_the_full_lowercase_mapping() {
        assert_eq!(
            parsed("ΟΔΟΣ@example.com").as_deref(),
            Some("οδος@example.com")
        );
    }

    #[test]
    fn combining_sequences_are_composed() {
        assert_eq!(
            parsed("jose\u{301}@example.com").as_deref(),
            Some("jos\u{e9}@example.com")
        );
    }

    #[test]
    fn accepted_addresses() {
        for raw in [
            "a@b.co",
            "first.last+tag@example.test",
            "o'brien@example.org",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "用户@xn--fiqs8s.example",
            "x@a-b.example",
        ] {
            assert!(Email::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn rejected_addresses() {
        for raw in [
            "",
            "plain",
            "a@@b.co",
            "@b.co",
            "a@",
            "a@localhost",
            ".a@b.co",
            "a.@b.co",
            "a..b@b.co",
            "a@b..co",
            "a@.b.co",
            "a@-b.co",
            "a@b-.co",
            "\"quoted\"@b.co",
            "Name <a@b.co>",
            "a@[127.0.0.1]",
            "a b@b.co",
            "a\u{200b}@b.co",
            "a\u{0}@b.co",
            "a@bücher.de",
            "a@b_c.co",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn length_limits_count_bytes_after_normalisation() {
        let local = "a".repeat(64);
        assert!(Email::parse(&format!("{local}@b.co")).is_ok());
        assert_eq!(
            Email::parse(&format!("{local}a@b.co")),
            Err(EmailError::LocalPartTooLong(1))
        );
        let label = "d".repeat(63);
        let domain = format!("{label}.{label}.{label}.{}", "d".repeat(60));
        assert_eq!(
            Email::parse(&format!("a@{domain}")).map(|e| e.as_str().len()),
            Ok(254)
        );
        assert_eq!(
            Email::parse(&format!("ab@{domain}")),
            Err(EmailError::TooLong(1))
        );
        assert_eq!(
            Email::parse(&format!("a@{}.co", "d".repeat(64))),
            Err(EmailError::DomainLabelTooLong)
        );
    }

    #[test]
    fn a_stored_address_is_rebuilt_exactly_as_stored() {
        let stored = Email::parse("J\u{30c}ohn@example.com").map(|e| e.as_str().to_owned());
        let stored = stored.unwrap_or_default();
        assert_eq!(stored, "j\u{30c}ohn@example.com");
        assert_eq!(
            Email::from_stored(&stored).map(|e| e.as_str().to_owned()),
            Ok(stored)
        );
        assert!(Email::from_stored("not an address").is_err());
    }

    #[test]
    fn debug_shows_only_the_domain() {
        let printed = format!("{:?}", Email::parse("secret.person@example.com"));
        assert!(!printed.contains("secret.person"));
    }
}
