//! [`TicketRepository`] on PostgreSQL.
//!
//! Every reservation and consumption is one `UPDATE` whose `WHERE` holds the
//! whole rule (unconsumed, unexpired, below the limit), judged by its
//! affected-row count. PostgreSQL re-checks the condition of a row another
//! transaction has just changed, so concurrent calls can never together
//! exceed the limit or consume twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use portal_auth_domain::flow::{FlowTicket, MAX_ATTEMPTS, MfaChallenge};
use portal_auth_domain::{Email, MfaMethod, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{EmailCodeStored, RefusedSend, StoreResult, TicketRepository};
use uuid::Uuid;

use crate::PostgresStore;
use crate::convert::{counter, from_db_time, hash_bytes, seconds_before, to_db_time};
use crate::error::{damaged, query_error};
use crate::schema::{flow_tickets, mfa_challenges};

/// The limit as the column's type; a constant that fits easily.
const LIMIT: i32 = MAX_ATTEMPTS as i32;

type FlowRow = (
    Option<Uuid>,
    String,
    i32,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

type ChallengeRow = (
    Uuid,
    Uuid,
    String,
    i32,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

fn flow_ticket(
    (user_id, email, attempts, consumed_at, expires_at): FlowRow,
) -> StoreResult<FlowTicket> {
    Ok(FlowTicket {
        subject: user_id.map(UserId::from_uuid),
        email: Email::from_stored(&email).map_err(|_| damaged("flow ticket email"))?,
        attempts: counter(attempts),
        expires_at: from_db_time(expires_at),
        consumed: consumed_at.is_some(),
    })
}

/// An unknown method name is dropped, so a damaged row can only offer less.
fn methods(stored: &str) -> Vec<MfaMethod> {
    stored
        .split_whitespace()
        .filter_map(MfaMethod::parse)
        .collect()
}

fn stored_methods(methods: &[MfaMethod]) -> String {
    let names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    names.join(" ")
}

/// What the email-code classification reads of a challenge.
type EmailSendRow = (
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    i32,
    i32,
    Option<DateTime<Utc>>,
);

/// Why a refused `store_email_code` write refused, in the order the port
/// (and the in-memory reference) judges: liveness, then the send limit,
/// then the spacing. Read-only; it never turns a refusal into `Stored`.
fn refusal(
    row: Option<EmailSendRow>,
    now: Timestamp,
    min_interval_secs: u64,
    max_sends: u32,
) -> EmailCodeStored {
    let Some((consumed_at, expires_at, failures, sends, sent_at)) = row else {
        return EmailCodeStored::NotLive;
    };
    let found = RefusedSend {
        live: consumed_at.is_none()
            && !from_db_time(expires_at).has_passed(now)
            && counter(failures) < MAX_ATTEMPTS,
        sends: counter(sends),
        last_sent_at: sent_at.map(from_db_time),
    };
    EmailCodeStored::refusal(found, now, min_interval_secs, max_sends)
}

fn challenge(row: ChallengeRow) -> MfaChallenge {
    let (user_id, tenant_id, stored, failures, consumed_at, expires_at) = row;
    MfaChallenge {
        user_id: UserId::from_uuid(user_id),
        tenant_id: TenantId::from_uuid(tenant_id),
        methods: methods(&stored),
        failures: counter(failures),
        expires_at: from_db_time(expires_at),
        consumed: consumed_at.is_some(),
    }
}

#[async_trait]
impl TicketRepository for PostgresStore {
    async fn insert_flow(&self, token: &TokenHash, ticket: &FlowTicket) -> StoreResult<()> {
        let expires_at = to_db_time(ticket.expires_at)?;
        let mut conn = self.conn().await?;
        diesel::insert_into(flow_tickets::table)
            .values((
                flow_tickets::token_hash.eq(hash_bytes(token)),
                flow_tickets::user_id.eq(ticket.subject.map(|id| id.as_uuid())),
                flow_tickets::email.eq(ticket.email.as_str()),
                flow_tickets::expires_at.eq(expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn find_flow(&self, token: &TokenHash) -> StoreResult<Option<FlowTicket>> {
        let mut conn = self.conn().await?;
        let row: Option<FlowRow> = flow_tickets::table
            .find(hash_bytes(token))
            .select((
                flow_tickets::user_id,
                flow_tickets::email,
                flow_tickets::attempts,
                flow_tickets::consumed_at,
                flow_tickets::expires_at,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        row.map(flow_ticket).transpose()
    }

    async fn reserve_flow_attempt(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let updated = diesel::update(flow_tickets::table.find(hash_bytes(token)))
            .filter(flow_tickets::consumed_at.is_null())
            .filter(flow_tickets::expires_at.gt(now))
            .filter(flow_tickets::attempts.lt(LIMIT))
            .set(flow_tickets::attempts.eq(flow_tickets::attempts + 1))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn release_flow_attempt(&self, token: &TokenHash) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::update(flow_tickets::table.find(hash_bytes(token)))
            .filter(flow_tickets::attempts.gt(0))
            .set(flow_tickets::attempts.eq(flow_tickets::attempts - 1))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn consume_flow(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let updated = diesel::update(flow_tickets::table.find(hash_bytes(token)))
            .filter(flow_tickets::consumed_at.is_null())
            .filter(flow_tickets::expires_at.gt(now))
            .set(flow_tickets::consumed_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn insert_challenge(
        &self,
        token: &TokenHash,
        challenge: &MfaChallenge,
    ) -> StoreResult<()> {
        let expires_at = to_db_time(challenge.expires_at)?;
        let mut conn = self.conn().await?;
        diesel::insert_into(mfa_challenges::table)
            .values((
                mfa_challenges::token_hash.eq(hash_bytes(token)),
                mfa_challenges::user_id.eq(challenge.user_id.as_uuid()),
                mfa_challenges::tenant_id.eq(challenge.tenant_id.as_uuid()),
                mfa_challenges::methods.eq(stored_methods(&challenge.methods)),
                mfa_challenges::expires_at.eq(expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn find_challenge(&self, token: &TokenHash) -> StoreResult<Option<MfaChallenge>> {
        let mut conn = self.conn().await?;
        let row: Option<ChallengeRow> = mfa_challenges::table
            .find(hash_bytes(token))
            .select((
                mfa_challenges::user_id,
                mfa_challenges::tenant_id,
                mfa_challenges::methods,
                mfa_challenges::failures,
                mfa_challenges::consumed_at,
                mfa_challenges::expires_at,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(row.map(challenge))
    }

    async fn reserve_challenge_attempt(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let updated = diesel::update(mfa_challenges::table.find(hash_bytes(token)))
            .filter(mfa_challenges::consumed_at.is_null())
            .filter(mfa_challenges::expires_at.gt(now))
            .filter(mfa_challenges::failures.lt(LIMIT))
            .set(mfa_challenges::failures.eq(mfa_challenges::failures + 1))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn consume_challenge(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let updated = diesel::update(mfa_challenges::table.find(hash_bytes(token)))
            .filter(mfa_challenges::consumed_at.is_null())
            .filter(mfa_challenges::expires_at.gt(now))
            .set(mfa_challenges::consumed_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn revoke_user_tickets(&self, user: UserId, now: Timestamp) -> StoreResult<()> {
        let now = to_db_time(now)?;
        let id = user.as_uuid();
        let mut conn = self.conn().await?;
        // Marked consumed, so every later reservation and consumption fails
        // on its own condition.
        conn.transaction(async |conn| {
            diesel::update(flow_tickets::table)
                .filter(flow_tickets::user_id.eq(id))
                .filter(flow_tickets::consumed_at.is_null())
                .set(flow_tickets::consumed_at.eq(now))
                .execute(conn)
                .await?;
            diesel::update(mfa_challenges::table)
                .filter(mfa_challenges::user_id.eq(id))
                .filter(mfa_challenges::consumed_at.is_null())
                .set(mfa_challenges::consumed_at.eq(now))
                .execute(conn)
                .await
        })
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn store_email_code(
        &self,
        token: &TokenHash,
        code: &TokenHash,
        now: Timestamp,
        min_interval_secs: u64,
        max_sends: u32,
    ) -> StoreResult<EmailCodeStored> {
        let spaced_since = to_db_time(seconds_before(now, min_interval_secs))?;
        let at = to_db_time(now)?;
        // A limit beyond what the column counts is clamped to its maximum;
        // no real configuration comes near it.
        let send_limit = i32::try_from(max_sends).unwrap_or(i32::MAX);
        let token = hash_bytes(token);
        let mut conn = self.conn().await?;
        // The whole rule is in the WHERE, so of concurrent sends PostgreSQL
        // lets one update the row and re-checks the others against what it
        // wrote: they then fail on the spacing or the count.
        let updated = diesel::update(mfa_challenges::table.find(&token))
            .filter(mfa_challenges::consumed_at.is_null())
            .filter(mfa_challenges::expires_at.gt(at))
            .filter(mfa_challenges::failures.lt(LIMIT))
            .filter(mfa_challenges::email_sends.lt(send_limit))
            .filter(
                mfa_challenges::email_sent_at
                    .is_null()
                    .or(mfa_challenges::email_sent_at.le(spaced_since)),
            )
            .set((
                mfa_challenges::email_code_hash.eq(hash_bytes(code)),
                mfa_challenges::email_sends.eq(mfa_challenges::email_sends + 1),
                mfa_challenges::email_sent_at.eq(at),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        if updated == 1 {
            return Ok(EmailCodeStored::Stored);
        }
        let row: Option<EmailSendRow> = mfa_challenges::table
            .find(&token)
            .select((
                mfa_challenges::consumed_at,
                mfa_challenges::expires_at,
                mfa_challenges::failures,
                mfa_challenges::email_sends,
                mfa_challenges::email_sent_at,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(refusal(row, now, min_interval_secs, max_sends))
    }

    async fn email_code(&self, token: &TokenHash) -> StoreResult<Option<TokenHash>> {
        let mut conn = self.conn().await?;
        let stored: Option<Option<Vec<u8>>> = mfa_challenges::table
            .find(hash_bytes(token))
            .select(mfa_challenges::email_code_hash)
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        // A digest of the wrong length reads as no code, so nothing matches.
        Ok(stored
            .flatten()
            .and_then(|bytes| TokenHash::from_slice(&bytes)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use portal_auth_domain::Timestamp;
    use portal_auth_ports::EmailCodeStored;

    use super::{EmailSendRow, refusal};

    const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

    fn at(time: Timestamp) -> DateTime<Utc> {
        DateTime::from_timestamp(time.unix(), 0).unwrap_or_else(|| panic!("in range"))
    }

    fn row(sends: i32, sent_at: Option<Timestamp>) -> EmailSendRow {
        (None, at(NOW + 300), 0, sends, sent_at.map(at))
    }

    #[test]
    fn a_refusal_is_classified_in_the_ports_order() {
        assert_eq!(refusal(None, NOW, 30, 3), EmailCodeStored::NotLive);
        let consumed = (Some(at(NOW)), at(NOW + 300), 0, 3, Some(at(NOW)));
        assert_eq!(
            refusal(Some(consumed), NOW, 30, 3),
            EmailCodeStored::NotLive
        );
        let spent = Some(row(3, Some(NOW)));
        assert_eq!(refusal(spent, NOW, 30, 3), EmailCodeStored::TooMany);
        let recent = Some(row(1, Some(NOW)));
        assert_eq!(
            refusal(recent, NOW + 10, 30, 3),
            EmailCodeStored::TooSoon {
                retry_after_secs: 20
            }
        );
    }

    #[test]
    fn a_row_that_changed_after_the_refusal_is_never_reported_stored() {
        for sendable in [row(0, None), row(1, Some(NOW))] {
            assert_eq!(
                refusal(Some(sendable), NOW + 60, 30, 3),
                EmailCodeStored::TooSoon {
                    retry_after_secs: 1
                }
            );
        }
    }
}
