//! Refresh-token rotation policy.
//!
//! Every refresh rotates the token: the presented one is marked rotated and a
//! successor takes its place. Browsers refresh from several tabs at once, so
//! a token presented again shortly after its rotation is answered with the
//! same successor instead of being called stolen. Any other reuse is theft
//! (OAuth 2.0 Security BCP, refresh token rotation) and ends the session.

use crate::Timestamp;

/// The stored state of a refresh token that could not be rotated because it
/// was no longer active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotatedToken {
    pub rotated_at: Timestamp,
    /// Whether the successor is still the session's newest token.
    pub successor_active: bool,
}

/// What to do with a token presented after its rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReuseVerdict {
    /// A concurrent refresh from another tab: hand out the same successor.
    SameSuccessor,
    /// A replay: revoke the whole session.
    Theft,
}

/// Judges a replayed token. Inside the grace window, and only while the
/// successor has not been rotated in turn, the replay is benign; a grace of
/// zero makes every replay theft.
pub fn judge_reuse(token: RotatedToken, now: Timestamp, grace_secs: u64) -> ReuseVerdict {
    let age = now - token.rotated_at;
    let within_grace = i64::try_from(grace_secs).is_ok_and(|grace| age < grace);
    if within_grace && token.successor_active {
        ReuseVerdict::SameSuccessor
    } else {
        ReuseVerdict::Theft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotated_at(secs: i64, successor_active: bool) -> RotatedToken {
        RotatedToken {
            rotated_at: Timestamp::from_unix(secs),
            successor_active,
        }
    }

    #[test]
    fn reuse_verdicts() {
        let cases = [
            // (rotated at, successor active, now, grace, verdict)
            (100, true, 100, 10, ReuseVerdict::SameSuccessor),
            (100, true, 109, 10, ReuseVerdict::SameSuccessor),
            (100, true, 110, 10, ReuseVerdict::Theft),
            (100, false, 101, 10, ReuseVerdict::Theft),
            (100, true, 100, 0, ReuseVerdict::Theft),
        ];
        for (at, active, now, grace, verdict) in cases {
            let got = judge_reuse(rotated_at(at, active), Timestamp::from_unix(now), grace);
            assert_eq!(
                got, verdict,
                "rotated {at}, active {active}, now {now}, grace {grace}"
            );
        }
    }
}
