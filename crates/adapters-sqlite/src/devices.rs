//! [`DeviceRepository`] on SQLite: device tokens, by digest, that skip the
//! second factor for one user until they expire.

use async_trait::async_trait;
use diesel::prelude::*;
use portal_auth_domain::{Timestamp, TokenHash, UserId};
use portal_auth_ports::{DeviceRepository, StoreResult};

use crate::schema::trusted_devices;
use crate::store::SqliteStore;

#[async_trait]
impl DeviceRepository for SqliteStore {
    async fn trust_device(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let row = (
            trusted_devices::token_hash.eq(token.as_bytes().to_vec()),
            trusted_devices::user_id.eq(user.to_string()),
            trusted_devices::expires_at.eq(expires_at.unix()),
        );
        // A plain insert: an unknown user breaks the foreign key (NotFound)
        // and a token already stored breaks the key (Conflict), so a digest
        // is never silently moved to another user or given a new expiry.
        self.write(move |conn| {
            diesel::insert_into(trusted_devices::table)
                .values(row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn is_trusted_device(
        &self,
        token: &TokenHash,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let token = token.as_bytes().to_vec();
        let user = user.to_string();
        // The owner and the expiry are part of the query, so a token of
        // another user, or one that has expired, is simply not found.
        self.read(move |conn| {
            diesel::select(diesel::dsl::exists(
                trusted_devices::table
                    .find(token)
                    .filter(trusted_devices::user_id.eq(user))
                    .filter(trusted_devices::expires_at.gt(now.unix())),
            ))
            .get_result(conn)
        })
        .await
    }

    async fn forget_devices(&self, user: UserId) -> StoreResult<()> {
        let user = user.to_string();
        self.write(move |conn| {
            diesel::delete(trusted_devices::table.filter(trusted_devices::user_id.eq(user)))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}
