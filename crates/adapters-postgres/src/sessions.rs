//! [`SessionRepository`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use portal_auth_domain::refresh::RotatedToken;
use portal_auth_domain::session::Session;
use portal_auth_domain::{Amr, SessionId, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{RefreshRecord, RefreshState, SessionRepository, StoreResult};
use uuid::Uuid;

use crate::PostgresStore;
use crate::convert::{from_db_time, hash_bytes, to_db_time};
use crate::error::query_error;
use crate::schema::{refresh_tokens, sessions};

diesel::alias!(refresh_tokens as next_token: NextToken);

type SessionRow = (
    Uuid,
    Uuid,
    Uuid,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The presented token's rotation time, and its successor's digest and
/// rotation time when the successor row exists.
type RefreshRow = (
    SessionRow,
    Option<DateTime<Utc>>,
    Option<(Vec<u8>, Option<DateTime<Utc>>)>,
);

/// A session whose `amr` does not parse reads as revoked: it can mint no
/// token, whatever the rest of the row says.
fn session(row: SessionRow) -> Session {
    let (id, user_id, tenant_id, amr, created_at, last_used_at, expires_at, revoked_at) = row;
    let parsed = Amr::from_stored(&amr);
    Session {
        id: SessionId::from_uuid(id),
        user_id: UserId::from_uuid(user_id),
        tenant_id: TenantId::from_uuid(tenant_id),
        amr: parsed.unwrap_or(Amr::Password),
        created_at: from_db_time(created_at),
        last_used_at: from_db_time(last_used_at),
        expires_at: from_db_time(expires_at),
        revoked: revoked_at.is_some() || parsed.is_none(),
    }
}

/// A rotated token whose successor row is missing reads as having no
/// active successor, so its reuse is judged theft rather than benign.
fn refresh_record((session_row, rotated_at, successor): RefreshRow) -> RefreshRecord {
    let state = match rotated_at {
        None => RefreshState::Active,
        Some(rotated_at) => RefreshState::Rotated(RotatedToken {
            rotated_at: from_db_time(rotated_at),
            successor_active: matches!(successor, Some((_, None))),
        }),
    };
    RefreshRecord {
        session: session(session_row),
        state,
    }
}

async fn insert_session(
    conn: &mut AsyncPgConnection,
    session: &Session,
    refresh: &TokenHash,
) -> QueryResult<()> {
    let (created_at, last_used_at, expires_at) = session_times(session)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session.id.as_uuid()),
            sessions::user_id.eq(session.user_id.as_uuid()),
            sessions::tenant_id.eq(session.tenant_id.as_uuid()),
            sessions::amr.eq(session.amr.as_stored()),
            sessions::created_at.eq(created_at),
            sessions::last_used_at.eq(last_used_at),
            sessions::expires_at.eq(expires_at),
            sessions::revoked_at.eq(session.revoked.then_some(created_at)),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash_bytes(refresh)),
            refresh_tokens::session_id.eq(session.id.as_uuid()),
            refresh_tokens::created_at.eq(created_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

type SessionTimes = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

fn session_times(session: &Session) -> QueryResult<SessionTimes> {
    let time = |t| to_db_time(t).map_err(|e| diesel::result::Error::SerializationError(e.into()));
    Ok((
        time(session.created_at)?,
        time(session.last_used_at)?,
        time(session.expires_at)?,
    ))
}

/// The rotation itself. The session row is claimed first, only while it is
/// not revoked: that row lock orders the rotation against a concurrent
/// logout or reuse revocation, so a refresh racing one never mints tokens
/// for a session that has just ended. Then the conditional update decides:
/// only the call that finds `rotated_at` still null changes the row, and
/// PostgreSQL makes any concurrent call wait for it and then find the row
/// rotated.
async fn rotate(
    conn: &mut AsyncPgConnection,
    presented: &TokenHash,
    successor: &TokenHash,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let owner = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_bytes(presented)))
        .select(refresh_tokens::session_id);
    let live: Option<Uuid> = diesel::update(sessions::table)
        .filter(sessions::id.eq_any(owner))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::last_used_at.eq(now))
        .returning(sessions::id)
        .get_result(conn)
        .await
        .optional()?;
    if live.is_none() {
        return Ok(false);
    }

    let session: Option<Uuid> = diesel::update(refresh_tokens::table.find(hash_bytes(presented)))
        .filter(refresh_tokens::rotated_at.is_null())
        .set((
            refresh_tokens::rotated_at.eq(now),
            refresh_tokens::successor_hash.eq(hash_bytes(successor)),
        ))
        .returning(refresh_tokens::session_id)
        .get_result(conn)
        .await
        .optional()?;
    let Some(session) = session else {
        return Ok(false);
    };

    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash_bytes(successor)),
            refresh_tokens::session_id.eq(session),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(true)
}

#[async_trait]
impl SessionRepository for PostgresStore {
    async fn create_session(&self, session: &Session, refresh: &TokenHash) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| insert_session(conn, session, refresh).await)
            .await
            .map_err(query_error)
    }

    async fn find_refresh(&self, token: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
        let mut conn = self.conn().await?;
        let next_hash = next_token.field(refresh_tokens::token_hash);
        let next_rotated_at = next_token.field(refresh_tokens::rotated_at);
        let row: Option<RefreshRow> = refresh_tokens::table
            .inner_join(sessions::table)
            .left_join(next_token.on(next_hash.nullable().eq(refresh_tokens::successor_hash)))
            .filter(refresh_tokens::token_hash.eq(hash_bytes(token)))
            .select((
                (
                    sessions::id,
                    sessions::user_id,
                    sessions::tenant_id,
                    sessions::amr,
                    sessions::created_at,
                    sessions::last_used_at,
                    sessions::expires_at,
                    sessions::revoked_at,
                ),
                refresh_tokens::rotated_at,
                (next_hash, next_rotated_at).nullable(),
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(row.map(refresh_record))
    }

    async fn rotate_refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| rotate(conn, presented, successor, now).await)
            .await
            .map_err(query_error)
    }

    async fn revoke_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        // The first revocation's time is kept.
        diesel::update(sessions::table.find(id.as_uuid()))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        tenant: Option<TenantId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let of_user = sessions::table
            .filter(sessions::user_id.eq(user.as_uuid()))
            .filter(sessions::revoked_at.is_null());
        let revoke = sessions::revoked_at.eq(now);
        let revoked = match tenant {
            Some(tenant) => {
                let in_tenant = of_user.filter(sessions::tenant_id.eq(tenant.as_uuid()));
                diesel::update(in_tenant)
                    .set(revoke)
                    .execute(&mut conn)
                    .await
            }
            None => diesel::update(of_user).set(revoke).execute(&mut conn).await,
        };
        revoked.map_err(query_error)?;
        Ok(())
    }
}
