//! Trusted devices in memory.

use async_trait::async_trait;
use portal_auth_domain::{Timestamp, TokenHash, UserId};
use portal_auth_ports::{DeviceRepository, StoreResult};

use crate::MemoryStore;

#[async_trait]
impl DeviceRepository for MemoryStore {
    async fn trust_device(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(user)?;
            if state.devices.contains_key(token) {
                return Err(crate::duplicate_token("device token"));
            }
            state.devices.insert(*token, (user, expires_at));
            Ok(())
        })
    }

    async fn is_trusted_device(
        &self,
        token: &TokenHash,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.with(|state| {
            let found = state.devices.get(token);
            Ok(found
                .is_some_and(|(owner, expires_at)| *owner == user && !expires_at.has_passed(now)))
        })
    }

    async fn forget_devices(&self, user: UserId) -> StoreResult<()> {
        self.with(|state| {
            state.devices.retain(|_, (owner, _)| *owner != user);
            Ok(())
        })
    }
}
