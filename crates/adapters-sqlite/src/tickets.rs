//! [`TicketRepository`] on SQLite: flow tickets and MFA challenges.
//!
//! Every change is one conditional `UPDATE` whose `WHERE` clause restates
//! the rule (unconsumed, unexpired, below the limit), judged by how many
//! rows it changed. The check and the change are one statement inside the
//! writer's transaction, so concurrent requests cannot both pass a check
//! that only one of them may pass. When a refused change must say why (an
//! email code sent too soon or too often), the row is read afterwards in
//! the same `BEGIN IMMEDIATE` transaction, so the reason given is the one
//! that refused it.

use async_trait::async_trait;
use diesel::prelude::*;
use portal_auth_domain::flow::{FlowTicket, MAX_ATTEMPTS, MfaChallenge};
use portal_auth_domain::{Email, MfaMethod, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{EmailCodeStored, RefusedSend, StoreResult, TicketRepository};

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
            email: Email::from_stored(&self.email).ok()?,
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

/// What decides whether a challenge may have another email code.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = mfa_challenges, check_for_backend(diesel::sqlite::Sqlite))]
struct SendRow {
    failures: i64,
    consumed_at: Option<i64>,
    expires_at: i64,
    email_sends: i64,
    email_sent_at: Option<i64>,
}

/// The spacing and the cap of email codes, as one call gives them.
#[derive(Debug, Clone, Copy)]
struct SendRules {
    now: Timestamp,
    min_interval_secs: u64,
    max_sends: u32,
}

impl SendRules {
    /// The latest `email_sent_at` that lets a new code go at `now`, that
    /// is `now - interval`, saturating so that no interval can wrap it
    /// into the future.
    fn latest_previous_send(self) -> i64 {
        let interval = i64::try_from(self.min_interval_secs).unwrap_or(i64::MAX);
        self.now.unix().saturating_sub(interval)
    }
}

impl SendRow {
    /// Why the conditional update refused a send, judged in the port's
    /// order: a dead challenge first, then the cap, then the spacing.
    fn refusal(&self, rules: SendRules) -> EmailCodeStored {
        let found = RefusedSend {
            live: self.consumed_at.is_none()
                && self.expires_at > rules.now.unix()
                && self.failures < LIMIT,
            sends: u32::try_from(self.email_sends).unwrap_or(u32::MAX),
            last_sent_at: self.email_sent_at.map(Timestamp::from_unix),
        };
        EmailCodeStored::refusal(found, rules.now, rules.min_interval_secs, rules.max_sends)
    }
}

/// Stores `code` as the challenge's email code when every rule allows it,
/// inside the caller's `BEGIN IMMEDIATE` transaction.
fn store_code(
    conn: &mut SqliteConnection,
    token: &[u8],
    code: Vec<u8>,
    rules: SendRules,
) -> QueryResult<EmailCodeStored> {
    let now = rules.now.unix();
    // The code, the count and the time are set together, as the table's
    // check requires, by one statement whose WHERE restates every rule.
    let changed = diesel::update(mfa_challenges::table.find(token))
        .filter(mfa_challenges::consumed_at.is_null())
        .filter(mfa_challenges::expires_at.gt(now))
        .filter(mfa_challenges::failures.lt(LIMIT))
        .filter(mfa_challenges::email_sends.lt(i64::from(rules.max_sends)))
        .filter(
            mfa_challenges::email_sent_at
                .is_null()
                .or(mfa_challenges::email_sent_at.le(rules.latest_previous_send())),
        )
        .set((
            mfa_challenges::email_code_hash.eq(code),
            mfa_challenges::email_sends.eq(mfa_challenges::email_sends + 1),
            mfa_challenges::email_sent_at.eq(now),
        ))
        .execute(conn)?;
    if changed == 1 {
        return Ok(EmailCodeStored::Stored);
    }
    let row = mfa_challenges::table
        .find(token)
        .select(SendRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map_or(EmailCodeStored::NotLive, |row| row.refusal(rules)))
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

    async fn store_email_code(
        &self,
        token: &TokenHash,
        code: &TokenHash,
        now: Timestamp,
        min_interval_secs: u64,
        max_sends: u32,
    ) -> StoreResult<EmailCodeStored> {
        let (token, code) = (digest(token), digest(code));
        let rules = SendRules {
            now,
            min_interval_secs,
            max_sends,
        };
        self.write(move |conn| store_code(conn, &token, code, rules))
            .await
    }

    async fn email_code(&self, token: &TokenHash) -> StoreResult<Option<TokenHash>> {
        let token = digest(token);
        let stored = self
            .read(move |conn| {
                mfa_challenges::table
                    .find(token)
                    .select(mfa_challenges::email_code_hash)
                    .first::<Option<Vec<u8>>>(conn)
                    .optional()
            })
            .await?;
        // A digest of the wrong length (only damage could store one) reads
        // as no code, so it can never match what a client types.
        Ok(stored
            .flatten()
            .and_then(|bytes| TokenHash::from_slice(&bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix(1_000);

    fn rules(min_interval_secs: u64, max_sends: u32) -> SendRules {
        SendRules {
            now: NOW,
            min_interval_secs,
            max_sends,
        }
    }

    fn sent(email_sends: i64, email_sent_at: Option<i64>) -> SendRow {
        SendRow {
            failures: 0,
            consumed_at: None,
            expires_at: NOW.unix() + 300,
            email_sends,
            email_sent_at,
        }
    }

    #[test]
    fn a_dead_challenge_is_reported_before_the_cap_and_the_spacing() {
        let consumed = SendRow {
            consumed_at: Some(NOW.unix()),
            ..sent(5, Some(NOW.unix()))
        };
        let expired = SendRow {
            expires_at: NOW.unix(),
            ..sent(0, None)
        };
        let exhausted = SendRow {
            failures: LIMIT,
            ..sent(0, None)
        };
        for row in [consumed, expired, exhausted] {
            assert_eq!(row.refusal(rules(30, 5)), EmailCodeStored::NotLive);
        }
    }

    #[test]
    fn the_cap_is_reported_before_the_spacing() {
        let row = sent(3, Some(NOW.unix()));
        assert_eq!(row.refusal(rules(30, 3)), EmailCodeStored::TooMany);
        assert_eq!(
            sent(0, None).refusal(rules(30, 0)),
            EmailCodeStored::TooMany
        );
    }

    #[test]
    fn the_wait_is_what_is_left_of_the_interval_and_never_zero() {
        let row = sent(1, Some(NOW.unix() - 10));
        assert_eq!(
            row.refusal(rules(30, 5)),
            EmailCodeStored::TooSoon {
                retry_after_secs: 20
            }
        );
        let huge = sent(1, Some(NOW.unix())).refusal(rules(u64::MAX, 5));
        assert_eq!(
            huge,
            EmailCodeStored::TooSoon {
                retry_after_secs: u64::try_from(i64::MAX - NOW.unix()).unwrap_or(0)
            }
        );
        let without_a_send = sent(1, None).refusal(rules(0, 5));
        assert_eq!(
            without_a_send,
            EmailCodeStored::TooSoon {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn no_interval_can_push_the_previous_send_limit_past_the_range() {
        assert_eq!(rules(30, 5).latest_previous_send(), NOW.unix() - 30);
        let huge = rules(u64::MAX, 5).latest_previous_send();
        assert_eq!(huge, NOW.unix().saturating_sub(i64::MAX));
    }
}
