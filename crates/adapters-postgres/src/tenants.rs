//! [`TenantRepository`] on PostgreSQL.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use portal_auth_domain::{Tenant, TenantId, TenantSlug};
use portal_auth_ports::{StoreResult, TenantRepository};

use crate::PostgresStore;
use crate::convert::{TenantRow, tenant};
use crate::error::query_error;
use crate::schema::tenants;

#[async_trait]
impl TenantRepository for PostgresStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::insert_into(tenants::table)
            .values((
                tenants::id.eq(tenant.id.as_uuid()),
                tenants::slug.eq(tenant.slug.as_str()),
                tenants::name.eq(tenant.name.as_str()),
            ))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn find_tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        let mut conn = self.conn().await?;
        let row: Option<TenantRow> = tenants::table
            .filter(tenants::id.eq(id.as_uuid()))
            .select((tenants::id, tenants::slug, tenants::name))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        row.map(tenant).transpose()
    }

    async fn find_tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        let mut conn = self.conn().await?;
        let row: Option<TenantRow> = tenants::table
            .filter(tenants::slug.eq(slug.as_str()))
            .select((tenants::id, tenants::slug, tenants::name))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        row.map(tenant).transpose()
    }
}
