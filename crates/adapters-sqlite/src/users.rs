//! [`UserRepository`] on SQLite.

use async_trait::async_trait;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;
use portal_auth_domain::{Email, Membership, MembershipStatus, Secret, TenantId, User, UserId};
use portal_auth_ports::{StoreError, StoreResult, UserRecord, UserRepository};

use crate::schema::{memberships, tenants, users};
use crate::store::SqliteStore;
use crate::tenants::TenantRow;

/// A stored user, before its values are checked.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
struct UserRow {
    id: String,
    email: String,
    password_hash: String,
    disabled: bool,
}

/// A user row and its memberships, read in one snapshot.
type StoredUser = (UserRow, Vec<(TenantRow, String)>);

#[async_trait]
impl UserRepository for SqliteStore {
    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        let row = (
            users::id.eq(user.id.to_string()),
            users::email.eq(user.email.as_str().to_owned()),
            users::password_hash.eq(password_hash.to_owned()),
            users::disabled.eq(user.disabled),
        );
        self.write(move |conn| {
            diesel::insert_into(users::table)
                .values(row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        let email = email.as_str().to_owned();
        let stored = self
            .read(move |conn| load_user(conn, UserKey::Email(email)))
            .await?;
        Ok(stored.and_then(into_record))
    }

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let id = id.to_string();
        let stored = self
            .read(move |conn| load_user(conn, UserKey::Id(id)))
            .await?;
        Ok(stored.and_then(into_record))
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let (id, hash) = (id.to_string(), password_hash.to_owned());
        let changed = self
            .write(move |conn| {
                diesel::update(users::table.find(id))
                    .set((users::password_hash.eq(hash), updated_now()))
                    .execute(conn)
            })
            .await?;
        one_user(changed)
    }

    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        let id = id.to_string();
        let changed = self
            .write(move |conn| {
                diesel::update(users::table.find(id))
                    .set((users::disabled.eq(disabled), updated_now()))
                    .execute(conn)
            })
            .await?;
        one_user(changed)
    }

    async fn set_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        status: MembershipStatus,
    ) -> StoreResult<()> {
        let row = (
            memberships::user_id.eq(user.to_string()),
            memberships::tenant_id.eq(tenant.to_string()),
            memberships::status.eq(status.as_str()),
        );
        // A missing user or tenant breaks a foreign key, which maps to
        // `NotFound`, so no read precedes the write.
        self.write(move |conn| {
            diesel::insert_into(memberships::table)
                .values(row)
                .on_conflict((memberships::user_id, memberships::tenant_id))
                .do_update()
                .set(memberships::status.eq(excluded(memberships::status)))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}

/// `updated_at` follows the store's clock: it is bookkeeping for operators,
/// not an input of any rule, so it is not passed in by the caller.
fn updated_now() -> diesel::dsl::Eq<users::updated_at, diesel::expression::SqlLiteral<BigInt>> {
    users::updated_at.eq(sql::<BigInt>("unixepoch()"))
}

/// No row changed means no such user.
fn one_user(changed: usize) -> StoreResult<()> {
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How a user is looked up.
enum UserKey {
    Email(String),
    Id(String),
}

fn load_user(conn: &mut SqliteConnection, key: UserKey) -> QueryResult<Option<StoredUser>> {
    let query = users::table.select(UserRow::as_select()).into_boxed();
    let query = match key {
        UserKey::Email(email) => query.filter(users::email.eq(email)),
        UserKey::Id(id) => query.filter(users::id.eq(id)),
    };
    let Some(user) = query.first(conn).optional()? else {
        return Ok(None);
    };

    let memberships = memberships::table
        .inner_join(tenants::table)
        .filter(memberships::user_id.eq(&user.id))
        .order((tenants::name.asc(), tenants::id.asc()))
        .select((TenantRow::as_select(), memberships::status))
        .load(conn)?;
    Ok(Some((user, memberships)))
}

/// The record, or `None` when the user row does not parse. A membership
/// whose tenant does not parse is left out, and an unknown status reads as
/// suspended: damage never grants access.
fn into_record((row, memberships): StoredUser) -> Option<UserRecord> {
    let user = User {
        id: UserId::parse(&row.id)?,
        email: Email::from_stored(&row.email).ok()?,
        disabled: row.disabled,
    };
    let memberships = memberships
        .into_iter()
        .filter_map(|(tenant, status)| {
            Some(Membership {
                tenant: tenant.into_tenant()?,
                status: MembershipStatus::from_stored(&status),
            })
        })
        .collect();
    Some(UserRecord {
        user,
        password_hash: Secret::new(row.password_hash),
        memberships,
    })
}
