//! Cases for [`TenantRepository`](crate::TenantRepository).

use portal_auth_domain::Tenant;

use super::{Must, assert_conflict, new_tenant, stored_tenant};
use crate::Repositories;

pub async fn a_created_tenant_is_found_by_id_and_by_slug(repos: Repositories) {
    let tenant = stored_tenant(&repos, "Acme Corp").await;

    let by_id = repos.tenants.find_tenant_by_id(tenant.id).await;
    let by_slug = repos.tenants.find_tenant_by_slug(&tenant.slug).await;

    assert_eq!(by_id.must("find_tenant_by_id"), Some(tenant.clone()));
    assert_eq!(by_slug.must("find_tenant_by_slug"), Some(tenant));
}

pub async fn an_unknown_tenant_is_not_found(repos: Repositories) {
    stored_tenant(&repos, "Someone Else").await;
    let unknown = new_tenant("Nobody");

    let by_id = repos.tenants.find_tenant_by_id(unknown.id).await;
    let by_slug = repos.tenants.find_tenant_by_slug(&unknown.slug).await;

    assert_eq!(by_id.must("find_tenant_by_id"), None);
    assert_eq!(by_slug.must("find_tenant_by_slug"), None);
}

pub async fn a_taken_tenant_slug_is_a_conflict(repos: Repositories) {
    let first = stored_tenant(&repos, "First").await;
    let second = Tenant {
        slug: first.slug.clone(),
        ..new_tenant("Second")
    };

    assert_conflict(repos.tenants.create_tenant(&second).await, "tenant_slug");

    let kept = repos.tenants.find_tenant_by_slug(&first.slug).await;
    assert_eq!(kept.must("find_tenant_by_slug"), Some(first));
    let rejected = repos.tenants.find_tenant_by_id(second.id).await;
    assert_eq!(rejected.must("find_tenant_by_id"), None);
}
