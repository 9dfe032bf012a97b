//! Second factors, and the authentication methods recorded in tokens.

/// A way to pass the second step of a login, in the order clients are
/// offered them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MfaMethod {
    Totp,
    Email,
    BackupCode,
}

impl MfaMethod {
    pub const ALL: [MfaMethod; 3] = [Self::Totp, Self::Email, Self::BackupCode];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Email => "email",
            Self::BackupCode => "backup_code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// Authentication method references of RFC 8176, as carried in `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amr {
    /// The password alone (or the password and a trusted device).
    Password,
    /// The password and a one-time code: `["pwd", "otp", "mfa"]`.
    PasswordAndOtp,
}

impl Amr {
    pub const fn values(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"],
            Self::PasswordAndOtp => &["pwd", "otp", "mfa"],
        }
    }

    pub const fn as_stored(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::PasswordAndOtp => "pwd otp mfa",
        }
    }

    /// Reads a stored value; an unknown one is `None` and the session it
    /// belongs to is treated as revoked by the caller.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "pwd" => Some(Self::Password),
            "pwd otp mfa" => Some(Self::PasswordAndOtp),
            _ => None,
        }
    }
}

/// RFC 6238 time steps of 30 seconds.
pub const TOTP_STEP_SECS: i64 = 30;

/// The time steps whose codes are accepted at `unix_secs`: the current one
/// and one step of clock drift each way (RFC 6238 §5.2), newest last.
pub fn totp_candidate_steps(unix_secs: i64) -> [i64; 3] {
    let step = unix_secs.div_euclid(TOTP_STEP_SECS);
    [step - 1, step, step + 1]
}

/// Whether a code for `step` may still be accepted after `last_accepted`:
/// only strictly later steps are, so no code works twice and no older code
/// works after a newer one.
pub fn totp_step_is_fresh(step: i64, last_accepted: Option<i64>) -> bool {
    last_accepted.is_none_or(|last| step > last)
}

/// The canonical form of a backup code as typed: case, spaces and hyphens
/// ignored.
pub fn normalise_backup_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_round_trip_and_unknown_ones_do_not_parse() {
        for method in MfaMethod::ALL {
            assert_eq!(MfaMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(MfaMethod::parse("sms"), None);
        assert_eq!(MfaMethod::parse("TOTP"), None);
    }

    #[test]
    fn amr_values_are_rfc_8176_and_round_trip() {
        assert_eq!(Amr::PasswordAndOtp.values(), ["pwd", "otp", "mfa"]);
        for amr in [Amr::Password, Amr::PasswordAndOtp] {
            assert_eq!(Amr::from_stored(amr.as_stored()), Some(amr));
        }
        assert_eq!(Amr::from_stored("hwk"), None);
    }

    #[test]
    fn totp_accepts_one_step_of_drift_each_way() {
        assert_eq!(totp_candidate_steps(59), [0, 1, 2]);
        assert_eq!(totp_candidate_steps(60), [1, 2, 3]);
    }

    #[test]
    fn a_totp_step_is_accepted_only_after_the_last_one() {
        assert!(totp_step_is_fresh(5, None));
        assert!(totp_step_is_fresh(6, Some(5)));
        assert!(!totp_step_is_fresh(5, Some(5)));
        assert!(!totp_step_is_fresh(4, Some(5)));
    }

    #[test]
    fn backup_codes_ignore_case_spaces_and_hyphens() {
        assert_eq!(normalise_backup_code(" AbCd-EF 12 "), "abcdef12");
    }
}
