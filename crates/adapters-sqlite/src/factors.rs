//! [`FactorRepository`] on SQLite.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use portal_auth_domain::{Secret, Timestamp, TokenHash, UserId};
use portal_auth_ports::{FactorRepository, Factors, StoreResult, TotpFactor};

use crate::schema::{backup_codes, email_factors, totp_factors};
use crate::store::SqliteStore;

/// A user's factors as stored: the TOTP secret and step, whether email is
/// enrolled, and how many backup codes are unused.
type StoredFactors = (Option<(Vec<u8>, Option<i64>)>, bool, i64);

#[async_trait]
impl FactorRepository for SqliteStore {
    async fn factors(&self, user: UserId) -> StoreResult<Factors> {
        let user = user.to_string();
        let (totp, email, codes_left) = self.read(move |conn| load_factors(conn, &user)).await?;
        Ok(Factors {
            totp: totp.map(|(secret, last_step)| TotpFactor {
                secret: Secret::new(secret),
                last_step,
            }),
            email,
            backup_codes_left: u32::try_from(codes_left).unwrap_or(0),
        })
    }

    async fn set_totp(&self, user: UserId, secret: &Secret<Vec<u8>>) -> StoreResult<()> {
        let row = (
            totp_factors::user_id.eq(user.to_string()),
            totp_factors::secret.eq(secret.expose().clone()),
            totp_factors::last_step.eq(None::<i64>),
        );
        // Re-enrolling starts a new secret with no accepted step, so the
        // step is reset along with the secret.
        self.write(move |conn| {
            diesel::insert_into(totp_factors::table)
                .values(row)
                .on_conflict(totp_factors::user_id)
                .do_update()
                .set((
                    totp_factors::secret.eq(excluded(totp_factors::secret)),
                    totp_factors::last_step.eq(None::<i64>),
                ))
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn enable_email(&self, user: UserId) -> StoreResult<()> {
        let user = user.to_string();
        self.write(move |conn| {
            diesel::insert_or_ignore_into(email_factors::table)
                .values(email_factors::user_id.eq(user))
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let user = user.to_string();
        // One conditional update: the comparison and the write are a single
        // statement, so two requests with the same code cannot both pass.
        let changed = self
            .write(move |conn| {
                diesel::update(totp_factors::table.find(user))
                    .filter(
                        totp_factors::last_step
                            .is_null()
                            .or(totp_factors::last_step.lt(step)),
                    )
                    .set(totp_factors::last_step.eq(step))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn replace_backup_codes(&self, user: UserId, codes: &[TokenHash]) -> StoreResult<()> {
        let user = user.to_string();
        let rows: Vec<_> = codes
            .iter()
            .map(|code| {
                (
                    backup_codes::user_id.eq(user.clone()),
                    backup_codes::code_hash.eq(code.as_bytes().to_vec()),
                )
            })
            .collect();
        // Delete and insert in one transaction: no moment exists in which
        // the old codes are gone and the new ones not yet usable.
        self.write(move |conn| {
            diesel::delete(backup_codes::table.filter(backup_codes::user_id.eq(&user)))
                .execute(conn)?;
            if rows.is_empty() {
                return Ok(());
            }
            diesel::insert_or_ignore_into(backup_codes::table)
                .values(rows)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn consume_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let (user, code) = (user.to_string(), code.as_bytes().to_vec());
        let changed = self
            .write(move |conn| {
                diesel::update(backup_codes::table.find((user, code)))
                    .filter(backup_codes::used_at.is_null())
                    .set(backup_codes::used_at.eq(now.unix()))
                    .execute(conn)
            })
            .await?;
        Ok(changed == 1)
    }

    async fn restore_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        used_at: Timestamp,
    ) -> StoreResult<()> {
        let (user, code) = (user.to_string(), code.as_bytes().to_vec());
        self.write(move |conn| {
            diesel::update(backup_codes::table.find((user, code)))
                .filter(backup_codes::used_at.eq(used_at.unix()))
                .set(backup_codes::used_at.eq(None::<i64>))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}

fn load_factors(conn: &mut SqliteConnection, user: &str) -> QueryResult<StoredFactors> {
    let totp = totp_factors::table
        .find(user)
        .select((totp_factors::secret, totp_factors::last_step))
        .first(conn)
        .optional()?;
    let email =
        diesel::select(diesel::dsl::exists(email_factors::table.find(user))).get_result(conn)?;
    let codes_left = backup_codes::table
        .filter(backup_codes::user_id.eq(user))
        .filter(backup_codes::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok((totp, email, codes_left))
}
