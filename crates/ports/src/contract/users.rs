//! Cases for [`UserRepository`](crate::UserRepository) and the memberships
//! a [`UserRecord`] carries.

use portal_auth_domain::{MembershipStatus, TenantId, User, UserId};

use super::{
    HASH, Must, assert_conflict, assert_not_found, email, new_tenant, new_user, stored_tenant,
    stored_user, unique_bytes,
};
use crate::{Repositories, UserRecord};

async fn record(repos: &Repositories, id: UserId) -> UserRecord {
    let found = repos
        .users
        .find_user_by_id(id)
        .await
        .must("find_user_by_id");
    found.unwrap_or_else(|| panic!("user {id} not found"))
}

fn tenant_names(record: &UserRecord) -> Vec<&str> {
    record
        .memberships
        .iter()
        .map(|m| m.tenant.name.as_str())
        .collect()
}

pub async fn a_created_user_is_found_by_email_and_by_id_without_memberships(repos: Repositories) {
    let user = new_user();
    repos
        .users
        .create_user(&user, HASH)
        .await
        .must("create_user");

    let by_email = repos.users.find_user_by_email(&user.email).await;
    let by_id = repos.users.find_user_by_id(user.id).await;

    for found in [
        by_email.must("find_user_by_email"),
        by_id.must("find_user_by_id"),
    ] {
        let found = found.unwrap_or_else(|| panic!("created user not found"));
        assert_eq!(found.user, user);
        assert_eq!(found.password_hash.expose(), HASH);
        assert!(found.memberships.is_empty());
    }
}

pub async fn an_unknown_user_is_not_found(repos: Repositories) {
    stored_user(&repos).await;
    let unknown = new_user();

    let by_email = repos.users.find_user_by_email(&unknown.email).await;
    let by_id = repos.users.find_user_by_id(unknown.id).await;

    assert_eq!(by_email.must("find_user_by_email"), None);
    assert_eq!(by_id.must("find_user_by_id"), None);
}

pub async fn a_taken_email_is_a_conflict(repos: Repositories) {
    let first = stored_user(&repos).await;
    let second = User {
        email: first.email.clone(),
        ..new_user()
    };

    assert_conflict(
        repos.users.create_user(&second, "other").await,
        "user_email",
    );

    assert_eq!(record(&repos, first.id).await.password_hash.expose(), HASH);
    let rejected = repos.users.find_user_by_id(second.id).await;
    assert_eq!(rejected.must("find_user_by_id"), None);
}

pub async fn a_user_is_found_by_any_spelling_of_the_same_address(repos: Repositories) {
    let user = stored_user(&repos).await;
    let shouted = format!("  {}  ", user.email.as_str().to_uppercase());

    let found = repos.users.find_user_by_email(&email(&shouted)).await;

    let found = found.must("find_user_by_email").map(|r| r.user);
    assert_eq!(found, Some(user));
}

pub async fn a_new_password_hash_replaces_the_old_one(repos: Repositories) {
    let user = stored_user(&repos).await;

    let result = repos.users.set_password_hash(user.id, "$new$hash").await;

    result.must("set_password_hash");
    assert_eq!(
        record(&repos, user.id).await.password_hash.expose(),
        "$new$hash"
    );
}

pub async fn setting_the_password_hash_of_an_unknown_user_is_not_found(repos: Repositories) {
    let result = repos
        .users
        .set_password_hash(new_user().id, "$new$hash")
        .await;

    assert_not_found(result, "set_password_hash of an unknown user");
}

pub async fn a_user_can_be_disabled_and_enabled_again(repos: Repositories) {
    let user = stored_user(&repos).await;

    repos
        .users
        .set_disabled(user.id, true)
        .await
        .must("disable");
    assert!(record(&repos, user.id).await.user.disabled);

    repos
        .users
        .set_disabled(user.id, false)
        .await
        .must("enable");
    assert!(!record(&repos, user.id).await.user.disabled);
}

pub async fn disabling_an_unknown_user_is_not_found(repos: Repositories) {
    let result = repos.users.set_disabled(new_user().id, true).await;

    assert_not_found(result, "set_disabled of an unknown user");
}

pub async fn a_membership_is_created_and_its_status_changed_in_place(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;
    let set = |status| repos.users.set_membership(user.id, tenant.id, status);

    set(MembershipStatus::Active).await.must("add membership");
    let added = record(&repos, user.id).await.memberships;
    set(MembershipStatus::Suspended).await.must("suspend");
    let suspended = record(&repos, user.id).await.memberships;

    assert_eq!(added.len(), 1);
    assert_eq!(added[0].tenant, tenant);
    assert_eq!(added[0].status, MembershipStatus::Active);
    assert_eq!(suspended.len(), 1);
    assert_eq!(suspended[0].status, MembershipStatus::Suspended);
}

pub async fn a_membership_needs_an_existing_user_and_tenant(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;
    let active = MembershipStatus::Active;

    let no_user = repos.users.set_membership(new_user().id, tenant.id, active);
    assert_not_found(no_user.await, "membership of an unknown user");
    let no_tenant = TenantId::from_random(unique_bytes());
    let no_tenant = repos.users.set_membership(user.id, no_tenant, active);
    assert_not_found(no_tenant.await, "membership in an unknown tenant");

    assert!(record(&repos, user.id).await.memberships.is_empty());
}

pub async fn memberships_are_ordered_by_tenant_name_then_id(repos: Repositories) {
    let user = stored_user(&repos).await;
    let mut twins = [new_tenant("Mid"), new_tenant("Mid")];
    twins.sort_by_key(|t| t.id);
    let tenants = [
        new_tenant("Zeta"),
        twins[1].clone(),
        new_tenant("Alpha"),
        twins[0].clone(),
    ];
    for tenant in &tenants {
        repos
            .tenants
            .create_tenant(tenant)
            .await
            .must("create_tenant");
        let set = repos
            .users
            .set_membership(user.id, tenant.id, MembershipStatus::Active);
        set.await.must("set_membership");
    }

    let found = record(&repos, user.id).await;

    assert_eq!(tenant_names(&found), ["Alpha", "Mid", "Mid", "Zeta"]);
    assert_eq!(found.memberships[1].tenant.id, twins[0].id);
    assert_eq!(found.memberships[2].tenant.id, twins[1].id);
}

pub async fn active_tenants_leave_out_suspended_memberships(repos: Repositories) {
    let user = stored_user(&repos).await;
    for (name, status) in [
        ("Charlie", MembershipStatus::Active),
        ("Bravo", MembershipStatus::Suspended),
        ("Alpha", MembershipStatus::Active),
    ] {
        let tenant = stored_tenant(&repos, name).await;
        let set = repos.users.set_membership(user.id, tenant.id, status);
        set.await.must("set_membership");
    }

    let found = record(&repos, user.id).await;
    let by_email = repos.users.find_user_by_email(&user.email).await;

    assert_eq!(tenant_names(&found), ["Alpha", "Bravo", "Charlie"]);
    let active: Vec<String> = found
        .active_tenants()
        .into_iter()
        .map(|t| t.name.as_str().to_owned())
        .collect();
    assert_eq!(active, ["Alpha", "Charlie"]);
    assert_eq!(by_email.must("find_user_by_email"), Some(found));
}

pub async fn changes_to_one_user_leave_another_untouched(repos: Repositories) {
    let changed = stored_user(&repos).await;
    let bystander = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Shared").await;
    let set = repos
        .users
        .set_membership(bystander.id, tenant.id, MembershipStatus::Active);
    set.await.must("bystander membership");

    repos
        .users
        .set_password_hash(changed.id, "$new")
        .await
        .must("set_password_hash");
    repos
        .users
        .set_disabled(changed.id, true)
        .await
        .must("set_disabled");
    let suspend = MembershipStatus::Suspended;
    let set = repos.users.set_membership(changed.id, tenant.id, suspend);
    set.await.must("changed membership");

    let untouched = record(&repos, bystander.id).await;
    assert_eq!(untouched.user, bystander);
    assert_eq!(untouched.password_hash.expose(), HASH);
    assert_eq!(untouched.active_tenants(), vec![tenant]);
}
