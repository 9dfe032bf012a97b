//! Races: the operations the ports call atomic, called many times at once.
//!
//! A store that reads and then writes passes every sequential case and
//! fails these, which is why they exist: on a multi-threaded runtime the
//! calls overlap, so a lost update or a double win shows up as a wrong count.

use portal_auth_domain::flow::MAX_ATTEMPTS;
use portal_auth_domain::{MembershipStatus, Secret, Tenant, TokenHash, User};

use super::{
    HASH, Must, NOW, new_tenant, new_user, race, stored_challenge, stored_flow, stored_session,
    stored_tenant, stored_user, token, winners,
};
use crate::{Repositories, StoreError};

/// How many callers race in each case: well above [`MAX_ATTEMPTS`] and the
/// size of a small connection pool, so callers also queue for connections.
const RACERS: usize = 20;

pub async fn concurrent_rotations_of_one_token_let_exactly_one_through(repos: Repositories) {
    let (session, presented) = stored_session(&repos).await;
    let successors: Vec<TokenHash> = (0..RACERS).map(|_| token()).collect();

    let results = race(RACERS, |i| {
        let (repos, successor) = (repos.clone(), successors[i]);
        async move {
            let rotated = repos
                .sessions
                .rotate_refresh(&presented, &successor, NOW + 1);
            rotated.await
        }
    })
    .await;

    assert_eq!(winners(results), 1);
    let mut stored = Vec::new();
    for successor in &successors {
        if let Some(found) = repos.sessions.find_refresh(successor).await.must("find") {
            assert_eq!(found.session.id, session.id);
            stored.push(found);
        }
    }
    assert_eq!(stored.len(), 1, "exactly one successor is stored");
}

pub async fn concurrent_consumptions_of_a_flow_ticket_let_exactly_one_through(repos: Repositories) {
    let hash = stored_flow(&repos, None).await;

    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.tickets.consume_flow(&hash, NOW).await }
    })
    .await;

    assert_eq!(winners(results), 1);
}

pub async fn concurrent_flow_attempts_never_exceed_the_limit(repos: Repositories) {
    let hash = stored_flow(&repos, None).await;

    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.tickets.reserve_flow_attempt(&hash, NOW).await }
    })
    .await;

    assert_eq!(winners(results), MAX_ATTEMPTS as usize);
    let stored = repos.tickets.find_flow(&hash).await.must("find_flow");
    assert_eq!(stored.map(|t| t.attempts), Some(MAX_ATTEMPTS));
}

pub async fn concurrent_challenge_attempts_never_exceed_the_limit(repos: Repositories) {
    let user = stored_user(&repos).await;
    let hash = stored_challenge(&repos, &user).await;

    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.tickets.reserve_challenge_attempt(&hash, NOW).await }
    })
    .await;

    assert_eq!(winners(results), MAX_ATTEMPTS as usize);
    let stored = repos
        .tickets
        .find_challenge(&hash)
        .await
        .must("find_challenge");
    assert_eq!(stored.map(|c| c.failures), Some(MAX_ATTEMPTS));
}

pub async fn concurrent_consumptions_of_a_challenge_let_exactly_one_through(repos: Repositories) {
    let user = stored_user(&repos).await;
    let hash = stored_challenge(&repos, &user).await;

    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.tickets.consume_challenge(&hash, NOW).await }
    })
    .await;

    assert_eq!(winners(results), 1);
}

pub async fn concurrent_acceptances_of_one_totp_step_let_exactly_one_through(repos: Repositories) {
    let user = stored_user(&repos).await.id;
    let secret = Secret::new(vec![1; 20]);
    repos.factors.set_totp(user, &secret).await.must("set_totp");

    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.factors.accept_totp_step(user, 56_666_667).await }
    })
    .await;

    assert_eq!(winners(results), 1);
}

pub async fn concurrent_acceptances_of_rising_totp_steps_keep_the_latest(repos: Repositories) {
    let user = stored_user(&repos).await.id;
    let secret = Secret::new(vec![1; 20]);
    repos.factors.set_totp(user, &secret).await.must("set_totp");

    let results = race(RACERS, |i| {
        let repos = repos.clone();
        async move { repos.factors.accept_totp_step(user, 1000 + i as i64).await }
    })
    .await;

    assert!(winners(results) >= 1);
    let factors = repos.factors.factors(user).await.must("factors");
    let last_step = factors.totp.and_then(|t| t.last_step);
    assert_eq!(
        last_step,
        Some(1000 + RACERS as i64 - 1),
        "a later step was overwritten"
    );
}

pub async fn concurrent_uses_of_one_backup_code_let_exactly_one_through(repos: Repositories) {
    let user = stored_user(&repos).await.id;
    let codes = [token(), token(), token()];
    let replaced = repos.factors.replace_backup_codes(user, &codes).await;
    replaced.must("replace_backup_codes");

    let code = codes[1];
    let results = race(RACERS, |_| {
        let repos = repos.clone();
        async move { repos.factors.consume_backup_code(user, &code, NOW).await }
    })
    .await;

    assert_eq!(winners(results), 1);
    let factors = repos.factors.factors(user).await.must("factors");
    assert_eq!(factors.backup_codes_left, 2);
}

pub async fn concurrent_sign_ups_with_one_email_let_exactly_one_through(repos: Repositories) {
    let email = new_user().email;

    let results = race(RACERS, |_| {
        let (repos, user) = (
            repos.clone(),
            User {
                email: email.clone(),
                ..new_user()
            },
        );
        async move { repos.users.create_user(&user, HASH).await }
    })
    .await;

    assert_eq!(count_created(results, "user_email"), 1);
    let found = repos
        .users
        .find_user_by_email(&email)
        .await
        .must("find_user_by_email");
    assert!(found.is_some());
}

pub async fn concurrent_tenants_with_one_slug_let_exactly_one_through(repos: Repositories) {
    let slug = new_tenant("Original").slug;

    let results = race(RACERS, |_| {
        let (repos, tenant) = (
            repos.clone(),
            Tenant {
                slug: slug.clone(),
                ..new_tenant("Racer")
            },
        );
        async move { repos.tenants.create_tenant(&tenant).await }
    })
    .await;

    assert_eq!(count_created(results, "tenant_slug"), 1);
    let found = repos.tenants.find_tenant_by_slug(&slug).await.must("find");
    assert!(found.is_some());
}

pub async fn concurrent_membership_changes_leave_one_membership(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;

    let results = race(RACERS, |i| {
        let repos = repos.clone();
        let status = if i % 2 == 0 {
            MembershipStatus::Active
        } else {
            MembershipStatus::Suspended
        };
        async move { repos.users.set_membership(user.id, tenant.id, status).await }
    })
    .await;

    for result in results {
        result.must("set_membership");
    }
    let found = repos
        .users
        .find_user_by_id(user.id)
        .await
        .must("find_user_by_id");
    let memberships = found.map(|r| r.memberships).unwrap_or_default();
    assert_eq!(memberships.len(), 1);
}

/// Counts successes among racing inserts; every loser must be the conflict
/// named `rule`, nothing else.
fn count_created(results: Vec<Result<(), StoreError>>, rule: &str) -> usize {
    results
        .into_iter()
        .filter(|result| match result {
            Ok(()) => true,
            Err(StoreError::Conflict(named)) if *named == rule => false,
            Err(e) => panic!("expected Conflict({rule}), got {e:?}"),
        })
        .count()
}
