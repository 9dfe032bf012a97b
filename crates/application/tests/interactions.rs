//! Interactions that state cannot show: calls that must or must not happen.

mod support;

use std::sync::Arc;

use mockall::predicate::eq;
use portal_auth_application::{AuthError, AuthService, AuthSettings, Services};
use portal_auth_ports::{MockPasswordHasher, MockUserRepository, StoreError, Verification};
use support::{PASSWORD, password, world};

#[tokio::test]
async fn an_unknown_email_is_checked_against_the_dummy_hash() {
    let w = world();
    let mut hasher = MockPasswordHasher::new();
    hasher
        .expect_verify()
        .with(mockall::predicate::always(), eq(None::<String>))
        .times(1)
        .returning(|_, _| Ok(Verification::Mismatch));
    hasher.expect_hash().never();
    let services = Services {
        hasher: Arc::new(hasher),
        ..w.services.clone()
    };
    let auth = AuthService::new(w.repos.clone(), services, AuthSettings::default());

    let flow = auth.identify(support::email("nobody@example.com")).await;
    let flow = flow.unwrap_or_else(|e| panic!("{e}"));
    let cmd = portal_auth_application::AuthenticateCommand {
        flow_token: flow.flow_token,
        tenant_id: None,
        password: password(PASSWORD),
        device_token: None,
        client: None,
    };
    assert!(matches!(
        auth.authenticate(cmd).await,
        Err(AuthError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn an_unreachable_store_is_unavailable_and_never_a_client_error() {
    let w = world();
    let mut users = MockUserRepository::new();
    users
        .expect_find_user_by_email()
        .returning(|_| Err(StoreError::Unavailable("connection refused".into())));
    let repos = portal_auth_ports::Repositories {
        users: Arc::new(users),
        ..w.repos.clone()
    };
    let auth = AuthService::new(repos, w.services.clone(), AuthSettings::default());
    let result = auth.identify(support::email("ann@example.com")).await;
    assert!(matches!(result, Err(AuthError::Unavailable(_))));
}

#[tokio::test]
async fn a_current_hash_is_not_rewritten_at_login() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| {
        Ok(Verification::Match {
            needs_rehash: false,
        })
    });
    hasher.expect_hash().never();
    let services = Services {
        hasher: Arc::new(hasher),
        ..w.services.clone()
    };
    let auth = AuthService::new(w.repos.clone(), services, AuthSettings::default());
    let flow = auth.identify(support::email("ann@example.com")).await;
    let cmd = portal_auth_application::AuthenticateCommand {
        flow_token: flow.unwrap_or_else(|e| panic!("{e}")).flow_token,
        tenant_id: None,
        password: password(PASSWORD),
        device_token: None,
        client: None,
    };
    assert!(auth.authenticate(cmd).await.is_ok());
}
