//! Counting failed attempts per email and per client address.
//!
//! Counts live in the store, so every node sees the same numbers. An
//! unknown email is counted exactly like a real one, so the throttle itself
//! tells nothing about which accounts exist.
//!
//! The email count is taken *before* the password or code is checked, in
//! one atomic write: concurrent guesses cannot all pass a read of the count
//! and only then be counted. Every attempt for an email therefore counts
//! until a login completes, which clears it; a right password that still
//! needs a second factor or a tenant choice is no completed login. The
//! address count, a coarse guard against spraying many emails, counts
//! failures only, after the fact.

use std::net::IpAddr;

use portal_auth_domain::{Email, Timestamp, TokenHash};
use portal_auth_ports::{OpaqueTokens, ThrottleRepository, ThrottleState};

use crate::{AuthError, ThrottleSettings};

/// The throttle keys of one attempt.
pub(crate) struct Attempt {
    email: Option<TokenHash>,
    address: Option<TokenHash>,
}

impl Attempt {
    pub(crate) fn new(
        tokens: &dyn OpaqueTokens,
        email: Option<&Email>,
        client: Option<IpAddr>,
    ) -> Self {
        let address = client.map(network_of);
        Self {
            email: email.map(|e| tokens.digest(&format!("throttle:email:{}", e.as_str()))),
            address: address.map(|net| tokens.digest(&format!("throttle:address:{net}"))),
        }
    }

    /// Refuses the attempt while either key is past its limit. Read-only,
    /// so it can answer before the endpoint's own checks.
    ///
    /// # Errors
    ///
    /// [`AuthError::TooManyAttempts`] with the seconds until the window ends.
    pub(crate) async fn check(
        &self,
        repo: &dyn ThrottleRepository,
        limits: ThrottleSettings,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        let keys = [
            (self.email, limits.failures_per_email),
            (self.address, limits.failures_per_address),
        ];
        for (key, limit) in keys {
            let Some(key) = key else { continue };
            let state = repo.throttle_state(&key, now).await?;
            if state.failures >= limit {
                return Err(throttled(state, now));
            }
        }
        Ok(())
    }

    /// Counts this attempt against the email before its secret is checked,
    /// and refuses it when that takes the email past its limit.
    ///
    /// # Errors
    ///
    /// [`AuthError::TooManyAttempts`].
    pub(crate) async fn count(
        &self,
        repo: &dyn ThrottleRepository,
        limits: ThrottleSettings,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        let Some(key) = self.email else {
            return Ok(());
        };
        let state = repo.record_failure(&key, now, limits.window_secs).await?;
        if state.failures > limits.failures_per_email {
            return Err(throttled(state, now));
        }
        Ok(())
    }

    /// Counts a failed password check or second-factor code against the
    /// client's address (the email was counted before the check).
    pub(crate) async fn failed(
        &self,
        repo: &dyn ThrottleRepository,
        limits: ThrottleSettings,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        if let Some(key) = self.address {
            repo.record_failure(&key, now, limits.window_secs).await?;
        }
        Ok(())
    }

    /// Forgets the email's count after a completed login. The address
    /// keeps its count: one success must not launder a spraying client.
    pub(crate) async fn succeeded(&self, repo: &dyn ThrottleRepository) -> Result<(), AuthError> {
        if let Some(key) = self.email {
            repo.clear_failures(&key).await?;
        }
        Ok(())
    }
}

fn throttled(state: ThrottleState, now: Timestamp) -> AuthError {
    let retry_after_secs = u64::try_from(state.window_ends_at - now)
        .unwrap_or(1)
        .max(1);
    tracing::warn!(retry_after_secs, "attempt throttled");
    AuthError::TooManyAttempts { retry_after_secs }
}

/// The network an address is counted under: an IPv4 address itself (also
/// when written as an IPv4-mapped IPv6 address), and the /64 of an IPv6
/// address, the smallest block a client is usually given, so that one
/// client cannot rotate through its own addresses for fresh budgets.
fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let parse = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            network_of(parse("2001:db8:1:2:aaaa::1")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            network_of(parse("2001:db8:1:2:bbbb::9")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(network_of(parse("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(network_of(parse("203.0.113.7")), "203.0.113.7");
    }
}
