//! Cases for [`TicketRepository`](crate::TicketRepository): flow tickets
//! behind flow tokens, MFA challenges behind MFA tokens.

use portal_auth_domain::flow::{FlowTicket, MAX_ATTEMPTS, MfaChallenge};
use portal_auth_domain::{MfaMethod, TokenHash};

use super::{
    Must, NOW, challenge, flow_ticket, stored_challenge, stored_flow, stored_tenant, stored_user,
    token,
};
use crate::Repositories;

async fn flow(repos: &Repositories, hash: &TokenHash) -> FlowTicket {
    let found = repos.tickets.find_flow(hash).await.must("find_flow");
    found.unwrap_or_else(|| panic!("flow ticket not found"))
}

async fn challenge_of(repos: &Repositories, hash: &TokenHash) -> MfaChallenge {
    let found = repos
        .tickets
        .find_challenge(hash)
        .await
        .must("find_challenge");
    found.unwrap_or_else(|| panic!("challenge not found"))
}

/// Reserves flow attempts until refused; answers how many were granted.
async fn reserve_flow_until_refused(repos: &Repositories, hash: &TokenHash) -> u32 {
    let mut granted = 0;
    while repos
        .tickets
        .reserve_flow_attempt(hash, NOW)
        .await
        .must("reserve")
    {
        granted += 1;
        assert!(granted <= MAX_ATTEMPTS, "more than {MAX_ATTEMPTS} attempts");
    }
    granted
}

pub async fn a_flow_ticket_is_stored_fresh_and_found_by_its_digest(repos: Repositories) {
    let user = stored_user(&repos).await;
    let (known, anonymous) = (token(), token());
    let dirty = FlowTicket {
        attempts: 3,
        consumed: true,
        ..flow_ticket(Some(&user), NOW + 600)
    };
    let nobody = flow_ticket(None, NOW + 900);

    repos
        .tickets
        .insert_flow(&known, &dirty)
        .await
        .must("insert_flow");
    repos
        .tickets
        .insert_flow(&anonymous, &nobody)
        .await
        .must("insert_flow");

    let fresh = FlowTicket {
        attempts: 0,
        consumed: false,
        ..dirty
    };
    assert_eq!(flow(&repos, &known).await, fresh);
    assert_eq!(flow(&repos, &anonymous).await, nobody);
}

pub async fn an_unknown_flow_ticket_is_not_found_and_refuses_everything(repos: Repositories) {
    stored_flow(&repos, None).await;
    let unknown = token();

    let found = repos.tickets.find_flow(&unknown).await;
    let reserved = repos.tickets.reserve_flow_attempt(&unknown, NOW).await;
    let released = repos.tickets.release_flow_attempt(&unknown).await;
    let consumed = repos.tickets.consume_flow(&unknown, NOW).await;

    assert_eq!(found.must("find_flow"), None);
    assert!(!reserved.must("reserve_flow_attempt"));
    released.must("release_flow_attempt of an unknown ticket");
    assert!(!consumed.must("consume_flow"));
}

pub async fn a_flow_ticket_allows_the_maximum_of_attempts_then_refuses(repos: Repositories) {
    let hash = stored_flow(&repos, None).await;

    let granted = reserve_flow_until_refused(&repos, &hash).await;

    assert_eq!(granted, MAX_ATTEMPTS);
    assert_eq!(flow(&repos, &hash).await.attempts, MAX_ATTEMPTS);
}

pub async fn a_released_attempt_can_be_made_again_and_never_goes_below_zero(repos: Repositories) {
    let hash = stored_flow(&repos, None).await;
    let release = || repos.tickets.release_flow_attempt(&hash);

    release().await.must("release with no attempt made");
    assert_eq!(flow(&repos, &hash).await.attempts, 0);
    assert_eq!(
        reserve_flow_until_refused(&repos, &hash).await,
        MAX_ATTEMPTS
    );
    release().await.must("release");
    release().await.must("release");

    assert_eq!(flow(&repos, &hash).await.attempts, MAX_ATTEMPTS - 2);
    assert_eq!(reserve_flow_until_refused(&repos, &hash).await, 2);
}

pub async fn a_flow_ticket_is_consumed_once(repos: Repositories) {
    let user = stored_user(&repos).await;
    let hash = stored_flow(&repos, Some(&user)).await;

    let first = repos.tickets.consume_flow(&hash, NOW).await;
    let again = repos.tickets.consume_flow(&hash, NOW).await;

    assert!(first.must("consume_flow"));
    assert!(!again.must("consume_flow again"));
    assert!(flow(&repos, &hash).await.consumed);
}

pub async fn a_consumed_flow_ticket_refuses_attempts(repos: Repositories) {
    let hash = stored_flow(&repos, None).await;
    assert!(repos.tickets.consume_flow(&hash, NOW).await.must("consume"));

    let reserved = repos.tickets.reserve_flow_attempt(&hash, NOW).await;

    assert!(!reserved.must("reserve_flow_attempt"));
    assert_eq!(flow(&repos, &hash).await.attempts, 0);
}

pub async fn an_expired_flow_ticket_is_dead_from_its_own_second(repos: Repositories) {
    let expires_at = NOW + 600;
    let (early, late) = (token(), token());
    for hash in [&early, &late] {
        let ticket = flow_ticket(None, expires_at);
        repos
            .tickets
            .insert_flow(hash, &ticket)
            .await
            .must("insert_flow");
    }
    let last_second = NOW + 599;

    let reserve = |hash, now| repos.tickets.reserve_flow_attempt(hash, now);
    assert!(
        reserve(&early, last_second)
            .await
            .must("reserve before expiry")
    );
    assert!(!reserve(&late, expires_at).await.must("reserve at expiry"));
    assert!(
        !reserve(&late, expires_at + 1)
            .await
            .must("reserve after expiry")
    );
    let consume = |hash, now| repos.tickets.consume_flow(hash, now);
    assert!(!consume(&late, expires_at).await.must("consume at expiry"));
    assert!(
        consume(&early, last_second)
            .await
            .must("consume before expiry")
    );

    assert_eq!(flow(&repos, &late).await.attempts, 0);
    assert!(!flow(&repos, &late).await.consumed);
}

pub async fn an_mfa_challenge_is_stored_fresh_and_found_by_its_digest(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;
    let hash = token();
    let methods = vec![MfaMethod::Totp, MfaMethod::Email, MfaMethod::BackupCode];
    let dirty = MfaChallenge {
        methods: methods.clone(),
        failures: 4,
        consumed: true,
        ..challenge(&user, &tenant, NOW + 300)
    };

    let inserted = repos.tickets.insert_challenge(&hash, &dirty).await;

    inserted.must("insert_challenge");
    let fresh = MfaChallenge {
        failures: 0,
        consumed: false,
        ..dirty
    };
    assert_eq!(challenge_of(&repos, &hash).await, fresh);
    let other = token();
    let only_email = MfaChallenge {
        methods: vec![MfaMethod::Email],
        ..fresh
    };
    let inserted = repos.tickets.insert_challenge(&other, &only_email).await;
    inserted.must("insert_challenge");
    assert_eq!(
        challenge_of(&repos, &other).await.methods,
        [MfaMethod::Email]
    );
}

pub async fn an_unknown_mfa_challenge_is_not_found_and_refuses_everything(repos: Repositories) {
    let user = stored_user(&repos).await;
    stored_challenge(&repos, &user).await;
    let unknown = token();

    let found = repos.tickets.find_challenge(&unknown).await;
    let reserved = repos.tickets.reserve_challenge_attempt(&unknown, NOW).await;
    let consumed = repos.tickets.consume_challenge(&unknown, NOW).await;

    assert_eq!(found.must("find_challenge"), None);
    assert!(!reserved.must("reserve_challenge_attempt"));
    assert!(!consumed.must("consume_challenge"));
}

pub async fn an_mfa_challenge_allows_the_maximum_of_attempts_then_refuses(repos: Repositories) {
    let user = stored_user(&repos).await;
    let hash = stored_challenge(&repos, &user).await;

    let mut granted = 0;
    while repos
        .tickets
        .reserve_challenge_attempt(&hash, NOW)
        .await
        .must("reserve")
    {
        granted += 1;
        assert!(granted <= MAX_ATTEMPTS, "more than {MAX_ATTEMPTS} attempts");
    }

    assert_eq!(granted, MAX_ATTEMPTS);
    assert_eq!(challenge_of(&repos, &hash).await.failures, MAX_ATTEMPTS);
}

pub async fn an_mfa_challenge_is_consumed_once_and_then_refuses_attempts(repos: Repositories) {
    let user = stored_user(&repos).await;
    let hash = stored_challenge(&repos, &user).await;
    assert!(
        repos
            .tickets
            .reserve_challenge_attempt(&hash, NOW)
            .await
            .must("reserve")
    );

    let first = repos.tickets.consume_challenge(&hash, NOW).await;
    let again = repos.tickets.consume_challenge(&hash, NOW).await;
    let reserved = repos.tickets.reserve_challenge_attempt(&hash, NOW).await;

    assert!(first.must("consume_challenge"));
    assert!(!again.must("consume_challenge again"));
    assert!(!reserved.must("reserve after consumption"));
    let stored = challenge_of(&repos, &hash).await;
    assert!(stored.consumed);
    assert_eq!(stored.failures, 1);
}

pub async fn an_expired_mfa_challenge_is_dead_from_its_own_second(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;
    let expires_at = NOW + 300;
    let (early, late) = (token(), token());
    for hash in [&early, &late] {
        let fresh = challenge(&user, &tenant, expires_at);
        repos
            .tickets
            .insert_challenge(hash, &fresh)
            .await
            .must("insert_challenge");
    }
    let last_second = NOW + 299;

    let reserve = |hash, now| repos.tickets.reserve_challenge_attempt(hash, now);
    assert!(
        reserve(&early, last_second)
            .await
            .must("reserve before expiry")
    );
    assert!(!reserve(&late, expires_at).await.must("reserve at expiry"));
    let consume = |hash, now| repos.tickets.consume_challenge(hash, now);
    assert!(!consume(&late, expires_at).await.must("consume at expiry"));
    assert!(
        !consume(&late, expires_at + 60)
            .await
            .must("consume after expiry")
    );
    assert!(
        consume(&early, last_second)
            .await
            .must("consume before expiry")
    );

    let stale = challenge_of(&repos, &late).await;
    assert_eq!((stale.failures, stale.consumed), (0, false));
}

pub async fn revoking_a_users_tickets_kills_their_flows_and_challenges(repos: Repositories) {
    let user = stored_user(&repos).await;
    let flows = [
        stored_flow(&repos, Some(&user)).await,
        stored_flow(&repos, Some(&user)).await,
    ];
    let challenges = [
        stored_challenge(&repos, &user).await,
        stored_challenge(&repos, &user).await,
    ];
    assert!(
        repos
            .tickets
            .reserve_flow_attempt(&flows[0], NOW)
            .await
            .must("reserve")
    );

    let revoked = repos.tickets.revoke_user_tickets(user.id, NOW).await;

    revoked.must("revoke_user_tickets");
    let later = NOW + 1;
    for hash in &flows {
        assert!(!flow(&repos, hash).await.accepts_attempt(later));
        let reserved = repos.tickets.reserve_flow_attempt(hash, later).await;
        assert!(!reserved.must("reserve a revoked flow"));
        assert!(
            !repos
                .tickets
                .consume_flow(hash, later)
                .await
                .must("consume")
        );
    }
    for hash in &challenges {
        let reserved = repos.tickets.reserve_challenge_attempt(hash, later).await;
        assert!(!reserved.must("reserve a revoked challenge"));
        let consumed = repos.tickets.consume_challenge(hash, later).await;
        assert!(!consumed.must("consume a revoked challenge"));
    }
}

pub async fn revoking_a_users_tickets_spares_other_users_and_anonymous_flows(repos: Repositories) {
    let user = stored_user(&repos).await;
    let bystander = stored_user(&repos).await;
    stored_flow(&repos, Some(&user)).await;
    stored_challenge(&repos, &user).await;
    let their_flow = stored_flow(&repos, Some(&bystander)).await;
    let anonymous = stored_flow(&repos, None).await;
    let their_challenge = stored_challenge(&repos, &bystander).await;

    let revoked = repos.tickets.revoke_user_tickets(user.id, NOW).await;

    revoked.must("revoke_user_tickets");
    let later = NOW + 1;
    for hash in [&their_flow, &anonymous] {
        assert!(flow(&repos, hash).await.accepts_attempt(later));
        let reserved = repos.tickets.reserve_flow_attempt(hash, later).await;
        assert!(reserved.must("reserve a spared flow"));
        assert!(
            repos
                .tickets
                .consume_flow(hash, later)
                .await
                .must("consume")
        );
    }
    let reserved = repos
        .tickets
        .reserve_challenge_attempt(&their_challenge, later)
        .await;
    assert!(reserved.must("reserve a spared challenge"));
    let consumed = repos
        .tickets
        .consume_challenge(&their_challenge, later)
        .await;
    assert!(consumed.must("consume a spared challenge"));
}
