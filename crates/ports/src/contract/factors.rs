//! Cases for [`FactorRepository`](crate::FactorRepository).

use portal_auth_domain::{Secret, TokenHash, UserId};

use super::{Must, NOW, new_user, stored_user, token};
use crate::{Factors, Repositories, TotpFactor};

async fn factors(repos: &Repositories, user: UserId) -> Factors {
    repos.factors.factors(user).await.must("factors")
}

fn secret(byte: u8) -> Secret<Vec<u8>> {
    Secret::new(vec![byte; 20])
}

async fn with_totp(repos: &Repositories) -> UserId {
    let user = stored_user(repos).await.id;
    repos
        .factors
        .set_totp(user, &secret(7))
        .await
        .must("set_totp");
    user
}

async fn with_codes(repos: &Repositories, count: usize) -> (UserId, Vec<TokenHash>) {
    let user = stored_user(repos).await.id;
    let codes: Vec<TokenHash> = (0..count).map(|_| token()).collect();
    let replaced = repos.factors.replace_backup_codes(user, &codes).await;
    replaced.must("replace_backup_codes");
    (user, codes)
}

pub async fn an_unknown_user_has_no_factors(repos: Repositories) {
    stored_user(&repos).await;

    let found = factors(&repos, new_user().id).await;

    assert_eq!(found, Factors::default());
    assert!(!found.any());
}

pub async fn totp_enrolment_stores_the_secret_with_no_accepted_step(repos: Repositories) {
    let user = stored_user(&repos).await.id;
    assert_eq!(factors(&repos, user).await, Factors::default());

    repos
        .factors
        .set_totp(user, &secret(7))
        .await
        .must("set_totp");

    let found = factors(&repos, user).await;
    let expected = TotpFactor {
        secret: secret(7),
        last_step: None,
    };
    assert_eq!(found.totp, Some(expected));
    assert!(!found.email);
    assert!(found.any());
}

pub async fn totp_re_enrolment_replaces_the_secret_and_forgets_the_last_step(repos: Repositories) {
    let user = with_totp(&repos).await;
    let accepted = repos.factors.accept_totp_step(user, 1000).await;
    assert!(accepted.must("accept_totp_step"));

    repos
        .factors
        .set_totp(user, &secret(9))
        .await
        .must("set_totp again");

    let expected = TotpFactor {
        secret: secret(9),
        last_step: None,
    };
    assert_eq!(factors(&repos, user).await.totp, Some(expected));
    let older = repos.factors.accept_totp_step(user, 10).await;
    assert!(older.must("accept_totp_step after re-enrolment"));
}

pub async fn enabling_the_email_factor_twice_changes_nothing(repos: Repositories) {
    let user = stored_user(&repos).await.id;

    repos.factors.enable_email(user).await.must("enable_email");
    let once = factors(&repos, user).await;
    repos
        .factors
        .enable_email(user)
        .await
        .must("enable_email again");
    let twice = factors(&repos, user).await;

    assert!(once.email);
    assert!(once.any());
    assert_eq!(once.totp, None);
    assert_eq!(twice, once);
}

pub async fn a_totp_step_is_accepted_only_when_strictly_later_than_the_last(repos: Repositories) {
    let user = with_totp(&repos).await;
    let mut outcomes = Vec::new();

    for step in [100, 100, 99, 101, 50, 102] {
        let accepted = repos.factors.accept_totp_step(user, step).await;
        outcomes.push((step, accepted.must("accept_totp_step")));
    }

    let expected = [
        (100, true),
        (100, false),
        (99, false),
        (101, true),
        (50, false),
        (102, true),
    ];
    assert_eq!(outcomes, expected);
    let last_step = factors(&repos, user).await.totp.and_then(|t| t.last_step);
    assert_eq!(last_step, Some(102));
}

pub async fn no_totp_step_is_accepted_without_a_totp_factor(repos: Repositories) {
    let user = stored_user(&repos).await.id;
    repos.factors.enable_email(user).await.must("enable_email");

    let known = repos.factors.accept_totp_step(user, 100).await;
    let unknown = repos.factors.accept_totp_step(new_user().id, 100).await;

    assert!(!known.must("accept_totp_step without totp"));
    assert!(!unknown.must("accept_totp_step of an unknown user"));
    assert_eq!(factors(&repos, user).await.totp, None);
}

pub async fn replacing_backup_codes_sets_how_many_are_left(repos: Repositories) {
    let (user, _) = with_codes(&repos, 10).await;

    let found = factors(&repos, user).await;

    assert_eq!(found.backup_codes_left, 10);
    assert!(!found.any(), "backup codes are not a factor of their own");
}

pub async fn a_backup_code_works_once(repos: Repositories) {
    let (user, codes) = with_codes(&repos, 3).await;

    let first = repos
        .factors
        .consume_backup_code(user, &codes[1], NOW)
        .await;
    let again = repos
        .factors
        .consume_backup_code(user, &codes[1], NOW)
        .await;

    assert!(first.must("consume_backup_code"));
    assert!(!again.must("consume_backup_code again"));
    assert_eq!(factors(&repos, user).await.backup_codes_left, 2);
    let other = repos
        .factors
        .consume_backup_code(user, &codes[0], NOW)
        .await;
    assert!(other.must("consume another code"));
    assert_eq!(factors(&repos, user).await.backup_codes_left, 1);
}

pub async fn an_unknown_backup_code_is_refused(repos: Repositories) {
    let (user, _) = with_codes(&repos, 3).await;

    let unknown = repos.factors.consume_backup_code(user, &token(), NOW).await;

    assert!(!unknown.must("consume an unknown code"));
    assert_eq!(factors(&repos, user).await.backup_codes_left, 3);
}

pub async fn replacing_backup_codes_kills_the_old_ones(repos: Repositories) {
    let (user, old) = with_codes(&repos, 3).await;
    let new = [token(), token()];

    let replaced = repos.factors.replace_backup_codes(user, &new).await;

    replaced.must("replace_backup_codes");
    assert_eq!(factors(&repos, user).await.backup_codes_left, 2);
    let stale = repos.factors.consume_backup_code(user, &old[0], NOW).await;
    assert!(!stale.must("consume a replaced code"));
    let fresh = repos.factors.consume_backup_code(user, &new[0], NOW).await;
    assert!(fresh.must("consume a new code"));
    let cleared = repos.factors.replace_backup_codes(user, &[]).await;
    cleared.must("replace_backup_codes with none");
    assert_eq!(factors(&repos, user).await.backup_codes_left, 0);
}

pub async fn factors_belong_to_their_own_user_only(repos: Repositories) {
    let owner = with_totp(&repos).await;
    repos.factors.enable_email(owner).await.must("enable_email");
    let codes = [token()];
    let replaced = repos.factors.replace_backup_codes(owner, &codes).await;
    replaced.must("replace_backup_codes");
    let other = with_totp(&repos).await;

    let foreign_code = repos
        .factors
        .consume_backup_code(other, &codes[0], NOW)
        .await;
    let owner_step = repos.factors.accept_totp_step(owner, 500).await;
    let other_step = repos.factors.accept_totp_step(other, 400).await;

    assert!(!foreign_code.must("consume another user's code"));
    assert!(owner_step.must("owner accepts step 500"));
    assert!(other_step.must("other accepts an earlier step 400"));
    let of_other = factors(&repos, other).await;
    assert!(!of_other.email);
    assert_eq!(of_other.backup_codes_left, 0);
    assert_eq!(of_other.totp.and_then(|t| t.last_step), Some(400));
    assert_eq!(factors(&repos, owner).await.backup_codes_left, 1);
}

pub async fn a_restored_backup_code_works_again_but_only_for_its_own_use(repos: Repositories) {
    let user = stored_user(&repos).await;
    let (code, other) = (token(), token());
    repos
        .factors
        .replace_backup_codes(user.id, &[code, other])
        .await
        .must("replace");
    assert!(
        repos
            .factors
            .consume_backup_code(user.id, &code, NOW)
            .await
            .must("consume")
    );
    repos
        .factors
        .restore_backup_code(user.id, &code, NOW + 1)
        .await
        .must("restore another use");
    assert!(
        !repos
            .factors
            .consume_backup_code(user.id, &code, NOW)
            .await
            .must("consume")
    );
    repos
        .factors
        .restore_backup_code(user.id, &code, NOW)
        .await
        .must("restore");
    assert_eq!(
        repos
            .factors
            .factors(user.id)
            .await
            .must("factors")
            .backup_codes_left,
        2
    );
    assert!(
        repos
            .factors
            .consume_backup_code(user.id, &code, NOW + 2)
            .await
            .must("consume")
    );
}
