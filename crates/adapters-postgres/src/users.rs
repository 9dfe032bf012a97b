//! [`UserRepository`] on PostgreSQL.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use portal_auth_domain::{Email, Membership, MembershipStatus, Secret, TenantId, User, UserId};
use portal_auth_ports::{StoreError, StoreResult, UserRecord, UserRepository};
use uuid::Uuid;

use crate::PostgresStore;
use crate::convert::{TenantRow, tenant};
use crate::error::{damaged, query_error};
use crate::schema::{memberships, tenants, users};

type UserRow = (Uuid, String, String, bool);
type MembershipRow = Option<(String, Uuid, String, String)>;

/// The user and every membership, in the order the port promises (tenant
/// name in binary collation, see the migration, then id), as one statement
/// so the record is one consistent snapshot.
macro_rules! user_with_memberships {
    () => {
        users::table
            .left_join(memberships::table.inner_join(tenants::table))
            .select((
                (
                    users::id,
                    users::email,
                    users::password_hash,
                    users::disabled,
                ),
                (
                    memberships::status,
                    tenants::id,
                    tenants::slug,
                    tenants::name,
                )
                    .nullable(),
            ))
            .order_by((tenants::name.asc(), tenants::id.asc()))
    };
}

fn record(rows: Vec<(UserRow, MembershipRow)>) -> StoreResult<Option<UserRecord>> {
    let Some(((id, email, password_hash, disabled), _)) = rows.first().cloned() else {
        return Ok(None);
    };
    let memberships = rows
        .into_iter()
        .filter_map(|(_, membership)| membership)
        .map(|(status, id, slug, name)| {
            Ok(Membership {
                tenant: tenant((id, slug, name) as TenantRow)?,
                status: MembershipStatus::from_stored(&status),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let user = User {
        id: UserId::from_uuid(id),
        email: Email::from_stored(&email).map_err(|_| damaged("user email"))?,
        disabled,
    };
    Ok(Some(UserRecord {
        user,
        password_hash: Secret::new(password_hash),
        memberships,
    }))
}

/// An update that touched no row means the user does not exist.
fn one_row(updated: usize) -> StoreResult<()> {
    if updated == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl UserRepository for PostgresStore {
    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::insert_into(users::table)
            .values((
                users::id.eq(user.id.as_uuid()),
                users::email.eq(user.email.as_str()),
                users::password_hash.eq(password_hash),
                users::disabled.eq(user.disabled),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let mut conn = self.conn().await?;
        let rows = user_with_memberships!()
            .filter(users::email.eq(email.as_str()))
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        record(rows)
    }

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let mut conn = self.conn().await?;
        let rows = user_with_memberships!()
            .filter(users::id.eq(id.as_uuid()))
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        record(rows)
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let updated = diesel::update(users::table.find(id.as_uuid()))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        one_row(updated)
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let updated = diesel::update(users::table.find(id.as_uuid()))
            .set((
                users::disabled.eq(disabled),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        one_row(updated)
    }

    async fn set_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        status: MembershipStatus,
    ) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        // One upsert, so concurrent changes of one membership never race
        // into a duplicate-key error; a missing user or tenant is a foreign
        // key violation, mapped to NotFound.
        diesel::insert_into(memberships::table)
            .values((
                memberships::user_id.eq(user.as_uuid()),
                memberships::tenant_id.eq(tenant.as_uuid()),
                memberships::status.eq(status.as_str()),
            ))
            .on_conflict((memberships::user_id, memberships::tenant_id))
            .do_update()
            .set(memberships::status.eq(excluded(memberships::status)))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}
