//! Counting failed attempts per email and per client address.
//!
//! Counts live in the store, so every node sees the same numbers. An
//! unknown email is counted exactly like a real one, so the throttle itself
//! tells nothing about which accounts exist.

use std::net::IpAddr;

use portal_auth_domain::{Email, Timestamp, TokenHash};
use portal_auth_ports::{OpaqueTokens, ThrottleRepository};

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
        Self {
            email: email.map(|e| tokens.digest(&format!("throttle:email:{}", e.as_str()))),
            address: client.map(|ip| tokens.digest(&format!("throttle:address:{ip}"))),
        }
    }

    /// Refuses the attempt while either key is past its limit.
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
                let retry_after_secs = u64::try_from(state.window_ends_at - now)
                    .unwrap_or(1)
                    .max(1);
                tracing::warn!(retry_after_secs, "attempt throttled");
                return Err(AuthError::TooManyAttempts { retry_after_secs });
            }
        }
        Ok(())
    }

    /// Counts a failed password check or second-factor code.
    pub(crate) async fn failed(
        &self,
        repo: &dyn ThrottleRepository,
        limits: ThrottleSettings,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        for key in [self.email, self.address].into_iter().flatten() {
            repo.record_failure(&key, now, limits.window_secs).await?;
        }
        Ok(())
    }

    /// Forgets the email's failures after a completed login. The address
    /// keeps its count: one success must not launder a spraying client.
    pub(crate) async fn succeeded(&self, repo: &dyn ThrottleRepository) -> Result<(), AuthError> {
        if let Some(key) = self.email {
            repo.clear_failures(&key).await?;
        }
        Ok(())
    }
}
