//! [`SessionRepository`] in memory.

use async_trait::async_trait;
use portal_auth_domain::refresh::RotatedToken;
use portal_auth_domain::session::Session;
use portal_auth_domain::{SessionId, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{RefreshRecord, RefreshState, SessionRepository, StoreError, StoreResult};

use crate::{MemoryStore, RefreshToken, State, duplicate_token};

impl State {
    fn refresh_state(&self, token: &RefreshToken) -> RefreshState {
        let Some(rotated_at) = token.rotated_at else {
            return RefreshState::Active;
        };
        // A successor that cannot be found reads as inactive: fail closed.
        let successor_active = token
            .successor
            .and_then(|successor| self.refresh_tokens.get(&successor))
            .is_some_and(|successor| successor.rotated_at.is_none());
        RefreshState::Rotated(RotatedToken {
            rotated_at,
            successor_active,
        })
    }

    fn new_refresh_token(&mut self, digest: TokenHash, session: SessionId) -> StoreResult<()> {
        if self.refresh_tokens.contains_key(&digest) {
            return Err(duplicate_token("refresh token"));
        }
        let token = RefreshToken {
            session,
            rotated_at: None,
            successor: None,
        };
        self.refresh_tokens.insert(digest, token);
        Ok(())
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn create_session(&self, session: &Session, refresh: &TokenHash) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(session.user_id)?;
            state.require_tenant(session.tenant_id)?;
            if state.sessions.contains_key(&session.id) {
                return Err(StoreError::Unavailable("duplicate session id".to_owned()));
            }
            state.new_refresh_token(*refresh, session.id)?;
            state.sessions.insert(session.id, session.clone());
            Ok(())
        })
    }

    async fn find_refresh(&self, token: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
        self.with(|state| {
            let Some(stored) = state.refresh_tokens.get(token) else {
                return Ok(None);
            };
            let Some(session) = state.sessions.get(&stored.session) else {
                return Ok(None);
            };
            Ok(Some(RefreshRecord {
                session: session.clone(),
                state: state.refresh_state(stored),
            }))
        })
    }

    async fn rotate_refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.with(|state| {
            let session = match state.refresh_tokens.get(presented) {
                Some(token) if token.rotated_at.is_none() => token.session,
                _ => return Ok(false),
            };
            if state.sessions.get(&session).is_none_or(|s| s.revoked) {
                return Ok(false);
            }
            // The successor is stored first: if it cannot be, nothing changes.
            state.new_refresh_token(*successor, session)?;
            if let Some(token) = state.refresh_tokens.get_mut(presented) {
                token.rotated_at = Some(now);
                token.successor = Some(*successor);
            }
            if let Some(session) = state.sessions.get_mut(&session) {
                session.last_used_at = now;
            }
            Ok(true)
        })
    }

    async fn revoke_session(&self, id: SessionId, _now: Timestamp) -> StoreResult<()> {
        self.with(|state| {
            if let Some(session) = state.sessions.get_mut(&id) {
                session.revoked = true;
            }
            Ok(())
        })
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        tenant: Option<TenantId>,
        _now: Timestamp,
    ) -> StoreResult<()> {
        self.with(|state| {
            let sessions = state
                .sessions
                .values_mut()
                .filter(|s| s.user_id == user && tenant.is_none_or(|tenant| s.tenant_id == tenant));
            for session in sessions {
                session.revoked = true;
            }
            Ok(())
        })
    }
}
