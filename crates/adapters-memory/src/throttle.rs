//! Throttle counters in memory.

use async_trait::async_trait;
use portal_auth_domain::{Timestamp, TokenHash};
use portal_auth_ports::{StoreResult, ThrottleRepository, ThrottleState};

use crate::MemoryStore;

#[async_trait]
impl ThrottleRepository for MemoryStore {
    async fn record_failure(
        &self,
        key: &TokenHash,
        now: Timestamp,
        window_secs: u64,
    ) -> StoreResult<ThrottleState> {
        self.with(|state| {
            let fresh = ThrottleState {
                failures: 0,
                window_ends_at: now + window_secs,
            };
            let entry = state.throttle.entry(*key).or_insert(fresh);
            if entry.window_ends_at.has_passed(now) {
                *entry = fresh;
            }
            entry.failures += 1;
            Ok(*entry)
        })
    }

    async fn throttle_state(&self, key: &TokenHash, now: Timestamp) -> StoreResult<ThrottleState> {
        self.with(|state| {
            let current = state
                .throttle
                .get(key)
                .filter(|s| !s.window_ends_at.has_passed(now));
            Ok(current.copied().unwrap_or(ThrottleState {
                failures: 0,
                window_ends_at: now,
            }))
        })
    }

    async fn clear_failures(&self, key: &TokenHash) -> StoreResult<()> {
        self.with(|state| {
            state.throttle.remove(key);
            Ok(())
        })
    }
}
