//! [`TicketRepository`] on SQLite: flow tickets and MFA challenges.
//!
//! Every change is one conditional `UPDATE` whose `WHERE` clause restates
//! the rule (unconsumed, unexpired, below the limit), judged by how many
//! rows it changed. The check and the change are one statement inside the
//! writer's transaction, so concurrent requests cannot both pass a check
//! that only one of them may pass.

use async_trait::async_trait;
use diesel::prelude::*;
use portal_auth_domain::flow::{FlowTicket, MAX_ATTEMPTS, MfaChallenge};
use portal_auth_domain::{Email, MfaMethod, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{StoreResult, TicketRepository};

use crate::schema::{flow_tickets, mfa_challenges};
use crate::store::SqliteStore;

const LIMIT: i64 = MAX_ATTEMPTS as i64;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = flow_tickets, check_for_backend(diesel::sqlite::Sqlite))]
struct FlowRow {
    user_id: Option<String>,
    email: String,
    attempts: i64,
    consumed_at: Option<i64>,
    expires_at: i64,
}

impl FlowRow {
    /// The ticket, or `None` when a stored value does not parse, which the
    /// caller treats as an unknown token.
    fn into_ticket(self) -> Option<FlowTicket> {
        let subject = match self.user_id {
            Some(id) => Some(UserId::parse(&id)?),
            None => None,
        };
        Some(FlowTicket {
            subject,
            email: Email::parse(&self.email).ok()?,
            attempts: u32::try_from(self.attempts).ok()?,
            expires_at: Timestamp::from_unix(self.expires_at),
            consumed: self.consumed_at.is_some(),
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = mfa_challenges, check_for_backend(diesel::sqlite::Sqlite))]
struct ChallengeRow {
    user_id: String,
    tenant_id: String,
    methods: String,
    failures: i64,
    consumed_at: Option<i64>,
    expires_at: i64,
}

impl ChallengeRow {
    /// The challenge, or `None` when a stored value (an id, a method name)
    /// does not parse, which the caller treats as an unknown token.
    fn into_challenge(self) -> Option<MfaChallenge> {
        let methods = self
            .methods
            .split_whitespace()
            .map(MfaMethod::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(MfaChallenge {
            user_id: UserId::parse(&self.user_id)?,
            tenant_id: TenantId::parse(&self.tenant_id)?,
            methods,
            failures: u32::try_from(self.failures).ok()?,
            expires_at: Timestamp::from_unix(self.expires_at),
            consumed: self.consumed_at.is_some(),
        })
    }
}

fn stored_methods(methods: &[MfaMethod]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn digest(token: &TokenHash) -> Vec<u8> {
    token.as_bytes().to_vec()
}

#[async_trait]
impl TicketRepository for SqliteStore {
    async fn insert_flow(&self, token: &TokenHash, ticket: &FlowTicket) -> StoreResult<()> {
        let row = (
            flow_tickets::token_hash.eq(digest(token)),
            flow_tickets::user_id.eq(ticket.subject.map(|id| id.to_string())),
            flow_tickets::email.eq(ticket.email.as_str().to_owned()),
            flow_tickets::expires_at.eq(ticket.expires_at.unix()),
        );
        self.write(move |conn| {
            diesel::insert_into(flow_tickets::table)
                .values(row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn find_flow(&self, token: &TokenHash) -> StoreResult<Option<FlowTicket>> {
        let token = digest(token);
        let row = self
            .read(move |conn| {
                flow_tickets::table
                    .find(token)
                    .select(FlowRow::as_select())
                    .first(conn)
                    .optional()
            })
            .await?;
        Ok(row.and_then(FlowRow::into_ticket))
    }

    async fn reserve_flow_attempt(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let token = digest(token);
        let changed = self
            .write(move |conn| {
                diesel::update(flow_tickets::table.find(token))
                    .filter(flow_tickets::consumed_at.is_null())
                    .filter(flow_tickets::expires_at.gt(now.unix()))
                    .filter(flow_tickets::attempts.lt(LIMIT))
                    .set(flow_tickets::attempts.eq(flow_tickets::attempts + 1))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn release_flow_attempt(&self, token: &TokenHash) -> StoreResult<()> {
        let token = digest(token);
        self.write(move |conn| {
            diesel::update(flow_tickets::table.find(token))
                .filter(flow_tickets::attempts.gt(0))
                .set(flow_tickets::attempts.eq(flow_tickets::attempts - 1))
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn consume_flow(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let token = digest(token);
        let changed = self
            .write(move |conn| {
                diesel::update(flow_tickets::table.find(token))
                    .filter(flow_tickets::consumed_at.is_null())
                    .filter(flow_tickets::expires_at.gt(now.unix()))
                    .set(flow_tickets::consumed_at.eq(now.unix()))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn insert_challenge(
        &self,
        token: &TokenHash,
        challenge: &MfaChallenge,
    ) -> StoreResult<()> {
        let row = (
            mfa_challenges::token_hash.eq(digest(token)),
            mfa_challenges::user_id.eq(challenge.user_id.to_string()),
            mfa_challenges::tenant_id.eq(challenge.tenant_id.to_string()),
            mfa_challenges::methods.eq(stored_methods(&challenge.methods)),
            mfa_challenges::expires_at.eq(challenge.expires_at.unix()),
        );
        self.write(move |conn| {
            diesel::insert_into(mfa_challenges::table)
                .values(row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn find_challenge(&self, token: &TokenHash) -> StoreResult<Option<MfaChallenge>> {
        let token = digest(token);
        let row = self
            .read(move |conn| {
                mfa_challenges::table
                    .find(token)
                    .select(ChallengeRow::as_select())
                    .first(conn)
                    .optional()
            })
            .await?;
        Ok(row.and_then(ChallengeRow::into_challenge))
    }

    async fn reserve_challenge_attempt(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let token = digest(token);
        let changed = self
            .write(move |conn| {
                diesel::update(mfa_challenges::table.find(token))
                    .filter(mfa_challenges::consumed_at.is_null())
                    .filter(mfa_challenges::expires_at.gt(now.unix()))
                    .filter(mfa_challenges::failures.lt(LIMIT))
                    .set(mfa_challenges::failures.eq(mfa_challenges::failures + 1))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn consume_challenge(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let token = digest(token);
        // No limit on failures here: the attempt that is now succeeding was
        // itself reserved, and may have been the last one allowed.
        let changed = self
            .write(move |conn| {
                diesel::update(mfa_challenges::table.find(token))
                    .filter(mfa_challenges::consumed_at.is_null())
                    .filter(mfa_challenges::expires_at.gt(now.unix()))
                    .set(mfa_challenges::consumed_at.eq(now.unix()))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn revoke_user_tickets(&self, user: UserId, now: Timestamp) -> StoreResult<()> {
        let user = user.to_string();
        self.write(move |conn| {
            diesel::update(flow_tickets::table)
                .filter(flow_tickets::user_id.eq(&user))
                .filter(flow_tickets::consumed_at.is_null())
                .set(flow_tickets::consumed_at.eq(now.unix()))
                .execute(conn)?;
            diesel::update(mfa_challenges::table)
                .filter(mfa_challenges::user_id.eq(&user))
                .filter(mfa_challenges::consumed_at.is_null())
                .set(mfa_challenges::consumed_at.eq(now.unix()))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}
