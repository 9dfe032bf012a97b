//! RFC 6238 time-based one-time passwords: SHA-1, 6 digits, 30 seconds.

use portal_auth_domain::mfa::TOTP_STEP_SECS;
use portal_auth_ports::Totp;
use sha1::Sha1;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, Default)]
pub struct RfcTotp;

impl RfcTotp {
    /// The code of `secret` for time step `step`.
    pub fn code(secret: &[u8], step: i64) -> String {
        let time = u64::try_from(step.saturating_mul(TOTP_STEP_SECS)).unwrap_or(0);
        totp_lite::totp_custom::<Sha1>(TOTP_STEP_SECS as u64, 6, secret, time)
    }
}

impl Totp for RfcTotp {
    fn matches(&self, secret: &[u8], step: i64, code: &str) -> bool {
        let expected = Self::code(secret, step);
        bool::from(expected.as_bytes().ct_eq(code.trim().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed, truncated to 6 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                RfcTotp::code(seed, time / TOTP_STEP_SECS),
                code,
                "at {time}"
            );
        }
    }

    #[test]
    fn a_wrong_or_malformed_code_does_not_match() {
        let seed = b"12345678901234567890";
        assert!(RfcTotp.matches(seed, 1, "287082"));
        assert!(!RfcTotp.matches(seed, 1, "287083"));
        assert!(!RfcTotp.matches(seed, 1, "28708"));
        assert!(!RfcTotp.matches(seed, 1, ""));
    }
}
