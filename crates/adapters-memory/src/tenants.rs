//! [`TenantRepository`] in memory.

use async_trait::async_trait;
use portal_auth_domain::{Tenant, TenantId, TenantSlug};
use portal_auth_ports::{StoreError, StoreResult, TenantRepository};

use crate::MemoryStore;

#[async_trait]
impl TenantRepository for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.with(|state| {
            if state.tenants.values().any(|t| t.slug == tenant.slug) {
                return Err(StoreError::Conflict("tenant_slug"));
            }
            if state.tenants.contains_key(&tenant.id) {
                return Err(StoreError::Unavailable("duplicate tenant id".to_owned()));
            }
            state.tenants.insert(tenant.id, tenant.clone());
            Ok(())
        })
    }

    async fn find_tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.with(|state| Ok(state.tenants.get(&id).cloned()))
    }

    async fn find_tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        self.with(|state| Ok(state.tenants.values().find(|t| &t.slug == slug).cloned()))
    }
}
