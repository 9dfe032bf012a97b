//! [`FactorRepository`] on PostgreSQL.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use portal_auth_domain::{Secret, Timestamp, TokenHash, UserId};
use portal_auth_ports::{FactorRepository, Factors, StoreResult, TotpFactor};

use crate::PostgresStore;
use crate::convert::{hash_bytes, to_db_time};
use crate::error::query_error;
use crate::schema::{backup_codes, email_factors, totp_factors, users};

async fn load_factors(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<Factors> {
    let id = user.as_uuid();
    let totp: Option<(Vec<u8>, Option<i64>)> = totp_factors::table
        .find(id)
        .select((totp_factors::secret, totp_factors::last_step))
        .first(conn)
        .await
        .optional()?;
    let email: i64 = email_factors::table
        .filter(email_factors::user_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    let unused: i64 = backup_codes::table
        .filter(backup_codes::user_id.eq(id))
        .filter(backup_codes::used_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    Ok(Factors {
        totp: totp.map(|(secret, last_step)| TotpFactor {
            secret: Secret::new(secret),
            last_step,
        }),
        email: email > 0,
        backup_codes_left: u32::try_from(unused).unwrap_or(u32::MAX),
    })
}

async fn replace_codes(
    conn: &mut AsyncPgConnection,
    user: UserId,
    codes: &[TokenHash],
) -> QueryResult<()> {
    // Locking the user row first serialises replacements for one user: two
    // interleaved delete-then-insert runs would otherwise leave the union
    // of both sets of codes. No row means no such user.
    users::table
        .find(user.as_uuid())
        .select(users::id)
        .for_update()
        .first::<uuid::Uuid>(conn)
        .await?;
    diesel::delete(backup_codes::table.filter(backup_codes::user_id.eq(user.as_uuid())))
        .execute(conn)
        .await?;
    if codes.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = codes
        .iter()
        .map(|code| {
            (
                backup_codes::user_id.eq(user.as_uuid()),
                backup_codes::code_hash.eq(hash_bytes(code)),
            )
        })
        .collect();
    diesel::insert_into(backup_codes::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl FactorRepository for PostgresStore {
    async fn factors(&self, user: UserId) -> StoreResult<Factors> {
        let mut conn = self.conn().await?;
        // One snapshot across the three tables.
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(async |conn| load_factors(conn, user).await)
            .await
            .map_err(query_error)
    }

    async fn set_totp(&self, user: UserId, secret: &Secret<Vec<u8>>) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::insert_into(totp_factors::table)
            .values((
                totp_factors::user_id.eq(user.as_uuid()),
                totp_factors::secret.eq(secret.expose()),
            ))
            .on_conflict(totp_factors::user_id)
            .do_update()
            .set((
                totp_factors::secret.eq(excluded(totp_factors::secret)),
                totp_factors::last_step.eq(None::<i64>),
                totp_factors::created_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn enable_email(&self, user: UserId) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::insert_into(email_factors::table)
            .values(email_factors::user_id.eq(user.as_uuid()))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        // One conditional update: under concurrency PostgreSQL re-checks the
        // condition after a competing update commits, so a step is
        // accepted once and a later step is never overwritten by an earlier.
        let updated = diesel::update(totp_factors::table.find(user.as_uuid()))
            .filter(
                totp_factors::last_step
                    .is_null()
                    .or(totp_factors::last_step.lt(step)),
            )
            .set(totp_factors::last_step.eq(step))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn replace_backup_codes(&self, user: UserId, codes: &[TokenHash]) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        conn.transaction(async |conn| replace_codes(conn, user, codes).await)
            .await
            .map_err(query_error)
    }

    async fn consume_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let updated = diesel::update(backup_codes::table.find((user.as_uuid(), hash_bytes(code))))
            .filter(backup_codes::used_at.is_null())
            .set(backup_codes::used_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(updated == 1)
    }

    async fn restore_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        used_at: Timestamp,
    ) -> StoreResult<()> {
        let used_at = to_db_time(used_at)?;
        let mut conn = self.conn().await?;
        diesel::update(backup_codes::table.find((user.as_uuid(), hash_bytes(code))))
            .filter(backup_codes::used_at.eq(used_at))
            .set(backup_codes::used_at.eq(None::<chrono::DateTime<chrono::Utc>>))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}
