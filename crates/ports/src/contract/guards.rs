//! Cases for the abuse guards: [`ThrottleRepository`](crate::ThrottleRepository),
//! [`DeviceRepository`](crate::DeviceRepository) and the email codes of
//! [`TicketRepository`](crate::TicketRepository).

use std::sync::Arc;

use tokio::sync::Barrier;

use super::{Must, NOW, stored_challenge, stored_user, token};
use crate::{EmailCodeStored, Repositories, ThrottleState};

const WINDOW: u64 = 900;

pub async fn failures_are_counted_within_a_window(repos: Repositories) {
    let key = token();
    let first = repos
        .throttle
        .record_failure(&key, NOW, WINDOW)
        .await
        .must("record");
    assert_eq!(
        first,
        ThrottleState {
            failures: 1,
            window_ends_at: NOW + WINDOW
        }
    );
    let second = repos
        .throttle
        .record_failure(&key, NOW + 10, WINDOW)
        .await
        .must("record");
    assert_eq!(
        second,
        ThrottleState {
            failures: 2,
            window_ends_at: NOW + WINDOW
        }
    );
    let state = repos
        .throttle
        .throttle_state(&key, NOW + 20)
        .await
        .must("state");
    assert_eq!(state.failures, 2);
    assert_eq!(state.window_ends_at, NOW + WINDOW);
}

pub async fn a_failure_after_the_window_starts_a_new_one(repos: Repositories) {
    let key = token();
    repos
        .throttle
        .record_failure(&key, NOW, WINDOW)
        .await
        .must("record");
    repos
        .throttle
        .record_failure(&key, NOW, WINDOW)
        .await
        .must("record");
    let ended = repos
        .throttle
        .throttle_state(&key, NOW + WINDOW)
        .await
        .must("state");
    assert_eq!(ended.failures, 0);
    let restarted = repos
        .throttle
        .record_failure(&key, NOW + WINDOW, WINDOW)
        .await
        .must("record");
    assert_eq!(
        restarted,
        ThrottleState {
            failures: 1,
            window_ends_at: NOW + 2 * WINDOW
        }
    );
}

pub async fn an_unknown_key_has_no_failures_and_keys_are_independent(repos: Repositories) {
    let (a, b) = (token(), token());
    assert_eq!(
        repos
            .throttle
            .throttle_state(&a, NOW)
            .await
            .must("state")
            .failures,
        0
    );
    repos
        .throttle
        .record_failure(&a, NOW, WINDOW)
        .await
        .must("record");
    assert_eq!(
        repos
            .throttle
            .throttle_state(&b, NOW)
            .await
            .must("state")
            .failures,
        0
    );
}

pub async fn clearing_a_key_forgets_its_failures(repos: Repositories) {
    let key = token();
    repos
        .throttle
        .record_failure(&key, NOW, WINDOW)
        .await
        .must("record");
    repos.throttle.clear_failures(&key).await.must("clear");
    assert_eq!(
        repos
            .throttle
            .throttle_state(&key, NOW)
            .await
            .must("state")
            .failures,
        0
    );
    repos
        .throttle
        .clear_failures(&token())
        .await
        .must("clearing an unknown key");
}

pub async fn concurrent_failures_are_all_counted(repos: Repositories) {
    let key = token();
    let barrier = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (repos, barrier) = (repos.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                repos
                    .throttle
                    .record_failure(&key, NOW, WINDOW)
                    .await
                    .must("record");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("task: {e}"));
    }
    assert_eq!(
        repos
            .throttle
            .throttle_state(&key, NOW)
            .await
            .must("state")
            .failures,
        20
    );
}

pub async fn a_trusted_device_is_trusted_for_its_user_until_it_expires(repos: Repositories) {
    let (user, other) = (stored_user(&repos).await, stored_user(&repos).await);
    let device = token();
    repos
        .devices
        .trust_device(&device, user.id, NOW + 100)
        .await
        .must("trust");
    assert!(
        repos
            .devices
            .is_trusted_device(&device, user.id, NOW)
            .await
            .must("check")
    );
    assert!(
        !repos
            .devices
            .is_trusted_device(&device, other.id, NOW)
            .await
            .must("check")
    );
    assert!(
        !repos
            .devices
            .is_trusted_device(&device, user.id, NOW + 100)
            .await
            .must("check")
    );
    assert!(
        !repos
            .devices
            .is_trusted_device(&token(), user.id, NOW)
            .await
            .must("check")
    );
}

pub async fn forgetting_devices_ends_every_device_of_that_user_only(repos: Repositories) {
    let (user, other) = (stored_user(&repos).await, stored_user(&repos).await);
    let (a, b, c) = (token(), token(), token());
    repos
        .devices
        .trust_device(&a, user.id, NOW + 100)
        .await
        .must("trust");
    repos
        .devices
        .trust_device(&b, user.id, NOW + 100)
        .await
        .must("trust");
    repos
        .devices
        .trust_device(&c, other.id, NOW + 100)
        .await
        .must("trust");
    repos.devices.forget_devices(user.id).await.must("forget");
    assert!(
        !repos
            .devices
            .is_trusted_device(&a, user.id, NOW)
            .await
            .must("check")
    );
    assert!(
        !repos
            .devices
            .is_trusted_device(&b, user.id, NOW)
            .await
            .must("check")
    );
    assert!(
        repos
            .devices
            .is_trusted_device(&c, other.id, NOW)
            .await
            .must("check")
    );
}

pub async fn an_email_code_is_stored_and_replaced_by_the_next(repos: Repositories) {
    let user = stored_user(&repos).await;
    let challenge = stored_challenge(&repos, &user).await;
    assert_eq!(
        repos
            .tickets
            .email_code(&challenge)
            .await
            .must("email_code"),
        None
    );
    let (first, second) = (token(), token());
    let stored = repos
        .tickets
        .store_email_code(&challenge, &first, NOW, 30, 5)
        .await;
    assert_eq!(stored.must("store"), EmailCodeStored::Stored);
    assert_eq!(
        repos
            .tickets
            .email_code(&challenge)
            .await
            .must("email_code"),
        Some(first)
    );
    let stored = repos
        .tickets
        .store_email_code(&challenge, &second, NOW + 30, 30, 5)
        .await;
    assert_eq!(stored.must("store"), EmailCodeStored::Stored);
    assert_eq!(
        repos
            .tickets
            .email_code(&challenge)
            .await
            .must("email_code"),
        Some(second)
    );
}

pub async fn email_codes_are_spaced_and_limited_per_challenge(repos: Repositories) {
    let user = stored_user(&repos).await;
    let challenge = stored_challenge(&repos, &user).await;
    let store = |at| {
        let repos = repos.clone();
        async move {
            repos
                .tickets
                .store_email_code(&challenge, &token(), at, 30, 3)
                .await
                .must("store")
        }
    };
    assert_eq!(store(NOW).await, EmailCodeStored::Stored);
    assert_eq!(
        store(NOW + 10).await,
        EmailCodeStored::TooSoon {
            retry_after_secs: 20
        }
    );
    assert_eq!(store(NOW + 30).await, EmailCodeStored::Stored);
    assert_eq!(store(NOW + 60).await, EmailCodeStored::Stored);
    assert_eq!(store(NOW + 90).await, EmailCodeStored::TooMany);
}

pub async fn no_email_code_is_stored_for_a_dead_challenge(repos: Repositories) {
    let user = stored_user(&repos).await;
    let consumed = stored_challenge(&repos, &user).await;
    repos
        .tickets
        .consume_challenge(&consumed, NOW)
        .await
        .must("consume");
    for (challenge, at) in [
        (consumed, NOW),
        (stored_challenge(&repos, &user).await, NOW + 300),
        (token(), NOW),
    ] {
        let stored = repos
            .tickets
            .store_email_code(&challenge, &token(), at, 30, 5)
            .await;
        assert_eq!(stored.must("store"), EmailCodeStored::NotLive);
    }
}

pub async fn concurrent_email_sends_let_exactly_one_through(repos: Repositories) {
    let user = stored_user(&repos).await;
    let challenge = stored_challenge(&repos, &user).await;
    let barrier = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (repos, barrier) = (repos.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                repos
                    .tickets
                    .store_email_code(&challenge, &token(), NOW, 30, 5)
                    .await
                    .must("store")
            })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        if task.await.unwrap_or_else(|e| panic!("task: {e}")) == EmailCodeStored::Stored {
            stored += 1;
        }
    }
    assert_eq!(stored, 1);
}
