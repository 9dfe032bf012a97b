//! [`SessionRepository`] on SQLite: sessions and their refresh tokens.
//!
//! A refresh token is active while `rotated_at` is null. Rotation is one
//! `BEGIN IMMEDIATE` transaction whose first statement is a conditional
//! `UPDATE … WHERE rotated_at IS NULL RETURNING session_id`: whichever call
//! changes the row wins, and every other call sees no row and answers
//! `false`, so one token never yields two successors.

use async_trait::async_trait;
use diesel::prelude::*;
use portal_auth_domain::refresh::RotatedToken;
use portal_auth_domain::session::Session;
use portal_auth_domain::{Amr, SessionId, TenantId, Timestamp, TokenHash, UserId};
use portal_auth_ports::{RefreshRecord, RefreshState, SessionRepository, StoreResult};

use crate::schema::{refresh_tokens, sessions};
use crate::store::SqliteStore;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite))]
struct SessionRow {
    id: String,
    user_id: String,
    tenant_id: String,
    amr: String,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::sqlite::Sqlite))]
struct TokenRow {
    successor_hash: Option<Vec<u8>>,
    rotated_at: Option<i64>,
}

/// The presented token, its session, and the successor's `rotated_at` when
/// the successor exists (`Some(None)`: it exists and is still active).
type StoredRefresh = (TokenRow, SessionRow, Option<Option<i64>>);

#[async_trait]
impl SessionRepository for SqliteStore {
    async fn create_session(&self, session: &Session, refresh: &TokenHash) -> StoreResult<()> {
        let session_row = (
            sessions::id.eq(session.id.to_string()),
            sessions::user_id.eq(session.user_id.to_string()),
            sessions::tenant_id.eq(session.tenant_id.to_string()),
            sessions::amr.eq(session.amr.as_stored()),
            sessions::created_at.eq(session.created_at.unix()),
            sessions::last_used_at.eq(session.last_used_at.unix()),
            sessions::expires_at.eq(session.expires_at.unix()),
            sessions::revoked_at.eq(session.revoked.then_some(session.created_at.unix())),
        );
        let token_row = (
            refresh_tokens::token_hash.eq(refresh.as_bytes().to_vec()),
            refresh_tokens::session_id.eq(session.id.to_string()),
            refresh_tokens::created_at.eq(session.created_at.unix()),
        );
        self.write(move |conn| {
            diesel::insert_into(sessions::table)
                .values(session_row)
                .execute(conn)?;
            diesel::insert_into(refresh_tokens::table)
                .values(token_row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn find_refresh(&self, token: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
        let token = token.as_bytes().to_vec();
        let stored = self.read(move |conn| load_refresh(conn, token)).await?;
        Ok(stored.and_then(into_record))
    }

    async fn rotate_refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let presented = presented.as_bytes().to_vec();
        let successor = successor.as_bytes().to_vec();
        self.write(move |conn| rotate(conn, presented, successor, now.unix()))
            .await
    }

    async fn revoke_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()> {
        let id = id.to_string();
        // Only a live session is touched, so the first revocation time stays.
        self.write(move |conn| {
            diesel::update(sessions::table.find(id))
                .filter(sessions::revoked_at.is_null())
                .set(sessions::revoked_at.eq(now.unix()))
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        tenant: Option<TenantId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let user = user.to_string();
        let tenant = tenant.map(|id| id.to_string());
        self.write(move |conn| {
            let mut query = diesel::update(sessions::table)
                .filter(sessions::user_id.eq(user))
                .filter(sessions::revoked_at.is_null())
                .into_boxed();
            if let Some(tenant) = tenant {
                query = query.filter(sessions::tenant_id.eq(tenant));
            }
            query
                .set(sessions::revoked_at.eq(now.unix()))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}

/// Marks `presented` rotated, stores `successor` as active and records the
/// session's use, inside the caller's `BEGIN IMMEDIATE` transaction.
///
/// A token of a revoked session is not rotated: a refresh racing a logout
/// must not mint tokens for the session being ended.
fn rotate(
    conn: &mut SqliteConnection,
    presented: Vec<u8>,
    successor: Vec<u8>,
    now: i64,
) -> QueryResult<bool> {
    let live_sessions = sessions::table
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id);
    let session: Option<String> = diesel::update(refresh_tokens::table.find(presented))
        .filter(refresh_tokens::rotated_at.is_null())
        .filter(refresh_tokens::session_id.eq_any(live_sessions))
        .set((
            refresh_tokens::rotated_at.eq(now),
            refresh_tokens::successor_hash.eq(&successor),
        ))
        .returning(refresh_tokens::session_id)
        .get_result(conn)
        .optional()?;
    let Some(session) = session else {
        return Ok(false);
    };

    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(successor),
            refresh_tokens::session_id.eq(&session),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(sessions::table.find(session))
        .set(sessions::last_used_at.eq(now))
        .execute(conn)?;
    Ok(true)
}

fn load_refresh(conn: &mut SqliteConnection, token: Vec<u8>) -> QueryResult<Option<StoredRefresh>> {
    let successor = diesel::alias!(refresh_tokens as successor);
    let successor_of_same_session = successor
        .field(refresh_tokens::token_hash)
        .nullable()
        .eq(refresh_tokens::successor_hash)
        .and(
            successor
                .field(refresh_tokens::session_id)
                .eq(refresh_tokens::session_id),
        );
    refresh_tokens::table
        .inner_join(sessions::table)
        .left_join(successor.on(successor_of_same_session))
        .filter(refresh_tokens::token_hash.eq(token))
        .select((
            TokenRow::as_select(),
            SessionRow::as_select(),
            successor.field(refresh_tokens::rotated_at).nullable(),
            successor.field(refresh_tokens::token_hash).nullable(),
        ))
        .first::<(TokenRow, SessionRow, Option<i64>, Option<Vec<u8>>)>(conn)
        .optional()
        .map(|row| {
            row.map(|(token, session, rotated_at, found)| {
                (token, session, found.map(|_| rotated_at))
            })
        })
}

/// The record, or `None` when an identifier does not parse. Anything else
/// that does not parse (an unknown `amr`, a half-rotated token) makes the
/// session read as revoked, never as valid.
fn into_record((token, row, successor): StoredRefresh) -> Option<RefreshRecord> {
    let amr = Amr::from_stored(&row.amr);
    let (state, consistent) = match (token.rotated_at, token.successor_hash) {
        (None, None) => (RefreshState::Active, true),
        (Some(at), Some(_)) => (rotated(at, successor), true),
        (Some(at), None) => (rotated(at, None), false),
        (None, Some(_)) => (RefreshState::Active, false),
    };
    let session = Session {
        id: SessionId::parse(&row.id)?,
        user_id: UserId::parse(&row.user_id)?,
        tenant_id: TenantId::parse(&row.tenant_id)?,
        amr: amr.unwrap_or(Amr::Password),
        created_at: Timestamp::from_unix(row.created_at),
        last_used_at: Timestamp::from_unix(row.last_used_at),
        expires_at: Timestamp::from_unix(row.expires_at),
        revoked: row.revoked_at.is_some() || amr.is_none() || !consistent,
    };
    Some(RefreshRecord { session, state })
}

/// A rotated token's state; its successor counts as active only if it
/// exists in the same session and has not been rotated in turn.
fn rotated(at: i64, successor: Option<Option<i64>>) -> RefreshState {
    RefreshState::Rotated(RotatedToken {
        rotated_at: Timestamp::from_unix(at),
        successor_active: matches!(successor, Some(None)),
    })
}
