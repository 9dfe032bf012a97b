//! Cases for [`SessionRepository`](crate::SessionRepository) and
//! [`StoreHealth`](crate::StoreHealth).

use portal_auth_domain::refresh::RotatedToken;
use portal_auth_domain::session::Session;
use portal_auth_domain::{Amr, SessionId, Timestamp, TokenHash};

use super::{
    Must, NOW, new_session, stored_session, stored_session_of, stored_tenant, stored_user, token,
    unique_bytes,
};
use crate::{RefreshRecord, RefreshState, Repositories};

async fn refresh(repos: &Repositories, hash: &TokenHash) -> RefreshRecord {
    let found = repos.sessions.find_refresh(hash).await.must("find_refresh");
    found.unwrap_or_else(|| panic!("refresh token not found"))
}

async fn rotate(repos: &Repositories, presented: &TokenHash, now: i64) -> (TokenHash, bool) {
    let successor = token();
    let at = Timestamp::from_unix(now);
    let rotated = repos
        .sessions
        .rotate_refresh(presented, &successor, at)
        .await;
    (successor, rotated.must("rotate_refresh"))
}

fn rotated(at: i64, successor_active: bool) -> RefreshState {
    RefreshState::Rotated(RotatedToken {
        rotated_at: Timestamp::from_unix(at),
        successor_active,
    })
}

async fn is_revoked(repos: &Repositories, hash: &TokenHash) -> bool {
    refresh(repos, hash).await.session.revoked
}

pub async fn a_created_session_is_found_by_its_refresh_token_as_active(repos: Repositories) {
    let (session, hash) = stored_session(&repos).await;

    let found = refresh(&repos, &hash).await;

    let expected = RefreshRecord {
        session,
        state: RefreshState::Active,
    };
    assert_eq!(found, expected);
}

pub async fn an_unknown_refresh_token_is_not_found(repos: Repositories) {
    stored_session(&repos).await;

    let found = repos.sessions.find_refresh(&token()).await;

    assert_eq!(found.must("find_refresh"), None);
}

pub async fn session_fields_round_trip_for_every_amr(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;

    for (amr, created) in [
        (Amr::Password, 1_600_000_000),
        (Amr::PasswordAndOtp, 1_700_000_123),
    ] {
        let created_at = Timestamp::from_unix(created);
        let session = Session {
            amr,
            created_at,
            last_used_at: created_at + 17,
            expires_at: created_at + 2_592_000,
            ..new_session(&user, &tenant)
        };
        let hash = token();
        let stored = repos.sessions.create_session(&session, &hash).await;
        stored.must("create_session");

        assert_eq!(refresh(&repos, &hash).await.session, session);
    }
}

pub async fn a_refresh_token_rotates_once(repos: Repositories) {
    let (_, first) = stored_session(&repos).await;

    let (second, once) = rotate(&repos, &first, NOW.unix() + 5).await;
    let (third, twice) = rotate(&repos, &first, NOW.unix() + 6).await;

    assert!(once, "the first rotation of an active token succeeds");
    assert!(!twice, "a rotated token does not rotate again");
    assert_eq!(refresh(&repos, &second).await.state, RefreshState::Active);
    let third = repos
        .sessions
        .find_refresh(&third)
        .await
        .must("find_refresh");
    assert_eq!(third, None, "a refused rotation stores no successor");
}

pub async fn a_rotated_token_tells_when_it_was_rotated_and_that_its_successor_is_active(
    repos: Repositories,
) {
    let (session, first) = stored_session(&repos).await;

    let (second, _) = rotate(&repos, &first, NOW.unix() + 5).await;

    let old = refresh(&repos, &first).await;
    assert_eq!(old.state, rotated(NOW.unix() + 5, true));
    assert_eq!(old.session.id, session.id);
    assert!(!old.session.revoked);
    assert_eq!(refresh(&repos, &second).await.session.id, session.id);
}

pub async fn rotation_records_the_last_use_of_the_session(repos: Repositories) {
    let (session, first) = stored_session(&repos).await;
    let later = NOW.unix() + 3600;

    let (second, _) = rotate(&repos, &first, later).await;

    let expected = Session {
        last_used_at: Timestamp::from_unix(later),
        ..session
    };
    assert_eq!(refresh(&repos, &second).await.session, expected);
    assert_eq!(refresh(&repos, &first).await.session, expected);
}

pub async fn rotating_an_unknown_token_is_refused(repos: Repositories) {
    stored_session(&repos).await;

    let (successor, rotated) = rotate(&repos, &token(), NOW.unix()).await;

    assert!(!rotated);
    let found = repos.sessions.find_refresh(&successor).await;
    assert_eq!(found.must("find_refresh"), None);
}

pub async fn a_successor_rotated_in_turn_is_no_longer_active(repos: Repositories) {
    let (_, first) = stored_session(&repos).await;
    let (second, _) = rotate(&repos, &first, NOW.unix() + 5).await;

    let (third, rotated_again) = rotate(&repos, &second, NOW.unix() + 8).await;

    assert!(rotated_again);
    assert_eq!(
        refresh(&repos, &first).await.state,
        rotated(NOW.unix() + 5, false)
    );
    assert_eq!(
        refresh(&repos, &second).await.state,
        rotated(NOW.unix() + 8, true)
    );
    assert_eq!(refresh(&repos, &third).await.state, RefreshState::Active);
}

pub async fn revoking_a_session_revokes_every_token_of_it(repos: Repositories) {
    let (session, first) = stored_session(&repos).await;
    let (second, _) = rotate(&repos, &first, NOW.unix() + 5).await;

    let revoked = repos.sessions.revoke_session(session.id, NOW + 10).await;

    revoked.must("revoke_session");
    assert!(is_revoked(&repos, &first).await);
    assert!(is_revoked(&repos, &second).await);
    // Revocation ends the session; which token is the newest does not change.
    assert_eq!(
        refresh(&repos, &first).await.state,
        rotated(NOW.unix() + 5, true)
    );
    assert_eq!(refresh(&repos, &second).await.state, RefreshState::Active);
}

pub async fn revoking_a_session_is_idempotent_and_ignores_unknown_ids(repos: Repositories) {
    let (session, hash) = stored_session(&repos).await;

    let first = repos.sessions.revoke_session(session.id, NOW + 1).await;
    let again = repos.sessions.revoke_session(session.id, NOW + 2).await;
    let unknown_id = SessionId::from_random(unique_bytes());
    let unknown = repos.sessions.revoke_session(unknown_id, NOW + 3).await;

    first.must("revoke_session");
    again.must("revoke_session again");
    unknown.must("revoke_session of an unknown id");
    assert!(is_revoked(&repos, &hash).await);
}

pub async fn revoking_a_session_spares_other_sessions(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Acme").await;
    let (ended, ended_hash) = stored_session_of(&repos, &user, &tenant).await;
    let (_, kept_hash) = stored_session_of(&repos, &user, &tenant).await;

    repos
        .sessions
        .revoke_session(ended.id, NOW)
        .await
        .must("revoke_session");

    assert!(is_revoked(&repos, &ended_hash).await);
    assert!(!is_revoked(&repos, &kept_hash).await);
}

pub async fn revoking_every_session_of_a_user_spares_other_users(repos: Repositories) {
    let user = stored_user(&repos).await;
    let bystander = stored_user(&repos).await;
    let (acme, globex) = (
        stored_tenant(&repos, "Acme").await,
        stored_tenant(&repos, "Globex").await,
    );
    let (_, in_acme) = stored_session_of(&repos, &user, &acme).await;
    let (_, in_globex) = stored_session_of(&repos, &user, &globex).await;
    let (_, theirs) = stored_session_of(&repos, &bystander, &acme).await;

    let revoked = repos
        .sessions
        .revoke_user_sessions(user.id, None, NOW)
        .await;

    revoked.must("revoke_user_sessions");
    assert!(is_revoked(&repos, &in_acme).await);
    assert!(is_revoked(&repos, &in_globex).await);
    assert!(!is_revoked(&repos, &theirs).await);
}

pub async fn revoking_a_users_sessions_in_one_tenant_spares_their_other_tenants(
    repos: Repositories,
) {
    let user = stored_user(&repos).await;
    let bystander = stored_user(&repos).await;
    let (acme, globex) = (
        stored_tenant(&repos, "Acme").await,
        stored_tenant(&repos, "Globex").await,
    );
    let (_, in_acme) = stored_session_of(&repos, &user, &acme).await;
    let (_, also_in_acme) = stored_session_of(&repos, &user, &acme).await;
    let (_, in_globex) = stored_session_of(&repos, &user, &globex).await;
    let (_, theirs) = stored_session_of(&repos, &bystander, &acme).await;

    let revoked = repos
        .sessions
        .revoke_user_sessions(user.id, Some(acme.id), NOW)
        .await;

    revoked.must("revoke_user_sessions in one tenant");
    assert!(is_revoked(&repos, &in_acme).await);
    assert!(is_revoked(&repos, &also_in_acme).await);
    assert!(!is_revoked(&repos, &in_globex).await);
    assert!(!is_revoked(&repos, &theirs).await);
}

pub async fn the_store_answers_a_ping(repos: Repositories) {
    repos.health.ping().await.must("ping");
}

pub async fn a_token_of_a_revoked_session_does_not_rotate(repos: Repositories) {
    let user = stored_user(&repos).await;
    let tenant = stored_tenant(&repos, "Revoked Rotation").await;
    let session = new_session(&user, &tenant);
    let (first, next) = (token(), token());
    repos
        .sessions
        .create_session(&session, &first)
        .await
        .must("create_session");
    repos
        .sessions
        .revoke_session(session.id, NOW)
        .await
        .must("revoke");
    let rotated = repos
        .sessions
        .rotate_refresh(&first, &next, NOW + 1)
        .await
        .must("rotate");
    assert!(!rotated, "a revoked session minted a successor");
    assert!(
        repos
            .sessions
            .find_refresh(&next)
            .await
            .must("find")
            .is_none()
    );
}
