//! [`TenantRepository`] on SQLite.

use async_trait::async_trait;
use diesel::prelude::*;
use portal_auth_domain::{Tenant, TenantId, TenantName, TenantSlug};
use portal_auth_ports::{StoreResult, TenantRepository};

use crate::schema::tenants;
use crate::store::SqliteStore;

/// A stored tenant, before its values are checked.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tenants, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct TenantRow {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl TenantRow {
    /// The tenant, or `None` when a stored value does not parse: a damaged
    /// row is treated as absent rather than half-trusted.
    pub(crate) fn into_tenant(self) -> Option<Tenant> {
        Some(Tenant {
            id: TenantId::parse(&self.id)?,
            slug: TenantSlug::parse(&self.slug).ok()?,
            name: TenantName::parse(&self.name).ok()?,
        })
    }
}

#[async_trait]
impl TenantRepository for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let row = (
            tenants::id.eq(tenant.id.to_string()),
            tenants::slug.eq(tenant.slug.as_str().to_owned()),
            tenants::name.eq(tenant.name.as_str().to_owned()),
        );
        self.write(move |conn| {
            diesel::insert_into(tenants::table)
                .values(row)
                .execute(conn)
                .map(drop)
        })
        .await
    }

    async fn find_tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        let id = id.to_string();
        self.read(move |conn| {
            tenants::table
                .filter(tenants::id.eq(id))
                .select(TenantRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.and_then(TenantRow::into_tenant))
    }

    async fn find_tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        let slug = slug.as_str().to_owned();
        self.read(move |conn| {
            tenants::table
                .filter(tenants::slug.eq(slug))
                .select(TenantRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.and_then(TenantRow::into_tenant))
    }
}
