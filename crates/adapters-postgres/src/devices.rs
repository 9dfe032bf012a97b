//! [`DeviceRepository`] on PostgreSQL.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use portal_auth_domain::{Timestamp, TokenHash, UserId};
use portal_auth_ports::{DeviceRepository, StoreResult};

use crate::PostgresStore;
use crate::convert::{hash_bytes, to_db_time};
use crate::error::query_error;
use crate::schema::trusted_devices;

#[async_trait]
impl DeviceRepository for PostgresStore {
    async fn trust_device(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let expires_at = to_db_time(expires_at)?;
        let mut conn = self.conn().await?;
        // An unknown user breaks the foreign key, which `query_error` maps
        // to `NotFound`; a repeated digest is a broken random source and
        // reads as unavailable, as for every other token table.
        diesel::insert_into(trusted_devices::table)
            .values((
                trusted_devices::token_hash.eq(hash_bytes(token)),
                trusted_devices::user_id.eq(user.as_uuid()),
                trusted_devices::expires_at.eq(expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn is_trusted_device(
        &self,
        token: &TokenHash,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let now = to_db_time(now)?;
        let mut conn = self.conn().await?;
        // The owner is part of the condition: a token trusted for one user
        // must never vouch for another.
        diesel::select(diesel::dsl::exists(
            trusted_devices::table
                .find(hash_bytes(token))
                .filter(trusted_devices::user_id.eq(user.as_uuid()))
                .filter(trusted_devices::expires_at.gt(now)),
        ))
        .get_result(&mut conn)
        .await
        .map_err(query_error)
    }

    async fn forget_devices(&self, user: UserId) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::delete(trusted_devices::table.filter(trusted_devices::user_id.eq(user.as_uuid())))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}
