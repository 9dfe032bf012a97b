//! [`FactorRepository`] in memory.

use async_trait::async_trait;
use portal_auth_domain::mfa::totp_step_is_fresh;
use portal_auth_domain::{Secret, Timestamp, TokenHash, UserId};
use portal_auth_ports::{FactorRepository, Factors, StoreResult, TotpFactor};

use crate::{BackupCode, MemoryStore};

#[async_trait]
impl FactorRepository for MemoryStore {
    async fn factors(&self, user: UserId) -> StoreResult<Factors> {
        self.with(|state| {
            let unused = state.backup_codes.get(&user).map_or(0, |codes| {
                codes.iter().filter(|c| c.used_at.is_none()).count()
            });
            Ok(Factors {
                totp: state.totp.get(&user).cloned(),
                email: state.email_factor.contains(&user),
                backup_codes_left: u32::try_from(unused).unwrap_or(u32::MAX),
            })
        })
    }

    async fn set_totp(&self, user: UserId, secret: &Secret<Vec<u8>>) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(user)?;
            let factor = TotpFactor {
                secret: secret.clone(),
                last_step: None,
            };
            state.totp.insert(user, factor);
            Ok(())
        })
    }

    async fn enable_email(&self, user: UserId) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(user)?;
            state.email_factor.insert(user);
            Ok(())
        })
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        self.with(|state| {
            let Some(factor) = state.totp.get_mut(&user) else {
                return Ok(false);
            };
            if !totp_step_is_fresh(step, factor.last_step) {
                return Ok(false);
            }
            factor.last_step = Some(step);
            Ok(true)
        })
    }

    async fn replace_backup_codes(&self, user: UserId, codes: &[TokenHash]) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(user)?;
            let fresh = codes
                .iter()
                .map(|digest| BackupCode {
                    digest: *digest,
                    used_at: None,
                })
                .collect();
            state.backup_codes.insert(user, fresh);
            Ok(())
        })
    }

    async fn consume_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.with(|state| {
            let unused = state.backup_codes.get_mut(&user).and_then(|codes| {
                codes
                    .iter_mut()
                    .find(|c| c.used_at.is_none() && &c.digest == code)
            });
            let Some(unused) = unused else {
                return Ok(false);
            };
            unused.used_at = Some(now);
            Ok(true)
        })
    }

    async fn restore_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        used_at: Timestamp,
    ) -> StoreResult<()> {
        self.with(|state| {
            let codes = state.backup_codes.get_mut(&user);
            let used = codes.and_then(|codes| {
                codes
                    .iter_mut()
                    .find(|c| &c.digest == code && c.used_at == Some(used_at))
            });
            if let Some(used) = used {
                used.used_at = None;
            }
            Ok(())
        })
    }
}
