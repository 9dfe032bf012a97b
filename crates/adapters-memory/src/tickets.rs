//! [`TicketRepository`] in memory.

use async_trait::async_trait;
use portal_auth_domain::flow::{FlowTicket, MAX_ATTEMPTS, MfaChallenge};
use portal_auth_domain::{Timestamp, TokenHash, UserId};
use portal_auth_ports::{EmailCodeStored, RefusedSend, StoreResult, TicketRepository};

use crate::{MemoryStore, duplicate_token};

#[async_trait]
impl TicketRepository for MemoryStore {
    async fn insert_flow(&self, token: &TokenHash, ticket: &FlowTicket) -> StoreResult<()> {
        self.with(|state| {
            if let Some(subject) = ticket.subject {
                state.require_user(subject)?;
            }
            if state.flows.contains_key(token) {
                return Err(duplicate_token("flow token"));
            }
            let fresh = FlowTicket {
                attempts: 0,
                consumed: false,
                ..ticket.clone()
            };
            state.flows.insert(*token, fresh);
            Ok(())
        })
    }

    async fn find_flow(&self, token: &TokenHash) -> StoreResult<Option<FlowTicket>> {
        self.with(|state| Ok(state.flows.get(token).cloned()))
    }

    async fn reserve_flow_attempt(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.with(|state| match state.flows.get_mut(token) {
            Some(ticket) if ticket.accepts_attempt(now) => {
                ticket.attempts += 1;
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn release_flow_attempt(&self, token: &TokenHash) -> StoreResult<()> {
        self.with(|state| {
            if let Some(ticket) = state.flows.get_mut(token) {
                ticket.attempts = ticket.attempts.saturating_sub(1);
            }
            Ok(())
        })
    }

    async fn consume_flow(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.with(|state| match state.flows.get_mut(token) {
            Some(ticket) if !ticket.consumed && !ticket.expires_at.has_passed(now) => {
                ticket.consumed = true;
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn insert_challenge(
        &self,
        token: &TokenHash,
        challenge: &MfaChallenge,
    ) -> StoreResult<()> {
        self.with(|state| {
            state.require_user(challenge.user_id)?;
            state.require_tenant(challenge.tenant_id)?;
            if state.challenges.contains_key(token) {
                return Err(duplicate_token("MFA token"));
            }
            let fresh = MfaChallenge {
                failures: 0,
                consumed: false,
                ..challenge.clone()
            };
            state.challenges.insert(*token, fresh);
            Ok(())
        })
    }

    async fn find_challenge(&self, token: &TokenHash) -> StoreResult<Option<MfaChallenge>> {
        self.with(|state| Ok(state.challenges.get(token).cloned()))
    }

    async fn reserve_challenge_attempt(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.with(|state| match state.challenges.get_mut(token) {
            Some(c) if is_open(c, now) && c.failures < MAX_ATTEMPTS => {
                c.failures += 1;
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn consume_challenge(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.with(|state| match state.challenges.get_mut(token) {
            Some(c) if is_open(c, now) => {
                c.consumed = true;
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn revoke_user_tickets(&self, user: UserId, _now: Timestamp) -> StoreResult<()> {
        self.with(|state| {
            let flows = state.flows.values_mut();
            for ticket in flows.filter(|t| t.subject == Some(user)) {
                ticket.consumed = true;
            }
            let challenges = state.challenges.values_mut();
            for challenge in challenges.filter(|c| c.user_id == user) {
                challenge.consumed = true;
            }
            Ok(())
        })
    }

    async fn store_email_code(
        &self,
        token: &TokenHash,
        code: &TokenHash,
        now: Timestamp,
        min_interval_secs: u64,
        max_sends: u32,
    ) -> StoreResult<EmailCodeStored> {
        self.with(|state| {
            let live = state
                .challenges
                .get(token)
                .is_some_and(|c| is_open(c, now) && c.failures < MAX_ATTEMPTS);
            let entry = state.email_codes.entry(*token).or_insert(crate::EmailCode {
                digest: None,
                sends: 0,
                last_sent_at: None,
            });
            let spaced = entry
                .last_sent_at
                .is_none_or(|last| (last + min_interval_secs).has_passed(now));
            if !(live && entry.sends < max_sends && spaced) {
                let found = RefusedSend {
                    live,
                    sends: entry.sends,
                    last_sent_at: entry.last_sent_at,
                };
                let refusal = EmailCodeStored::refusal(found, now, min_interval_secs, max_sends);
                return Ok(refusal);
            }
            entry.digest = Some(*code);
            entry.sends += 1;
            entry.last_sent_at = Some(now);
            Ok(EmailCodeStored::Stored)
        })
    }

    async fn email_code(&self, token: &TokenHash) -> StoreResult<Option<TokenHash>> {
        self.with(|state| Ok(state.email_codes.get(token).and_then(|c| c.digest)))
    }
}

fn is_open(challenge: &MfaChallenge, now: Timestamp) -> bool {
    !challenge.consumed && !challenge.expires_at.has_passed(now)
}
