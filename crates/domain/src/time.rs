//! Points in time, as whole seconds since the Unix epoch.
//!
//! Seconds are the resolution of every rule of the service (JWT `iat` and
//! `exp`, TOTP steps, token lifetimes), so nothing finer is carried.

use std::ops::{Add, Sub};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Whether a deadline at `self` has passed at `now`. A deadline is
    /// inclusive of its own second: a token expiring at T is dead at T.
    pub fn has_passed(self, now: Timestamp) -> bool {
        now.0 >= self.0
    }
}

impl Add<u64> for Timestamp {
    type Output = Timestamp;

    fn add(self, secs: u64) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)),
        )
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = i64;

    fn sub(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_dead_at_its_own_second() {
        let deadline = Timestamp::from_unix(100);
        assert!(!deadline.has_passed(Timestamp::from_unix(99)));
        assert!(deadline.has_passed(Timestamp::from_unix(100)));
    }

    #[test]
    fn adding_a_huge_duration_saturates() {
        assert_eq!(
            Timestamp::from_unix(1) + u64::MAX,
            Timestamp::from_unix(i64::MAX)
        );
    }
}
