//! Interactions that state cannot show: calls that must or must not happen.

mod support;

use std::sync::Arc;

use mockall::predicate::eq;
use portal_auth_application::{AuthError, AuthService, AuthSettings, Services, VerifyMfaCommand};
use portal_auth_domain::flow::{FlowTicket, MfaChallenge};
use portal_auth_domain::{Timestamp, TokenHash, UserId};
use portal_auth_ports::{EmailCodeStored, StoreResult, TicketRepository};
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

/// The memory store's tickets, except that every MFA token has already been
/// taken by a concurrent verification when this one tries to consume it.
struct LosesTheRace(Arc<dyn TicketRepository>);

#[async_trait::async_trait]
impl TicketRepository for LosesTheRace {
    async fn insert_flow(&self, t: &TokenHash, f: &FlowTicket) -> StoreResult<()> {
        self.0.insert_flow(t, f).await
    }
    async fn find_flow(&self, t: &TokenHash) -> StoreResult<Option<FlowTicket>> {
        self.0.find_flow(t).await
    }
    async fn reserve_flow_attempt(&self, t: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.0.reserve_flow_attempt(t, now).await
    }
    async fn release_flow_attempt(&self, t: &TokenHash) -> StoreResult<()> {
        self.0.release_flow_attempt(t).await
    }
    async fn consume_flow(&self, t: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.0.consume_flow(t, now).await
    }
    async fn insert_challenge(&self, t: &TokenHash, c: &MfaChallenge) -> StoreResult<()> {
        self.0.insert_challenge(t, c).await
    }
    async fn find_challenge(&self, t: &TokenHash) -> StoreResult<Option<MfaChallenge>> {
        self.0.find_challenge(t).await
    }
    async fn reserve_challenge_attempt(&self, t: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        self.0.reserve_challenge_attempt(t, now).await
    }
    async fn consume_challenge(&self, _: &TokenHash, _: Timestamp) -> StoreResult<bool> {
        Ok(false)
    }
    async fn revoke_user_tickets(&self, u: UserId, now: Timestamp) -> StoreResult<()> {
        self.0.revoke_user_tickets(u, now).await
    }
    async fn store_email_code(
        &self,
        t: &TokenHash,
        c: &TokenHash,
        now: Timestamp,
        interval: u64,
        max: u32,
    ) -> StoreResult<EmailCodeStored> {
        self.0.store_email_code(t, c, now, interval, max).await
    }
    async fn email_code(&self, t: &TokenHash) -> StoreResult<Option<TokenHash>> {
        self.0.email_code(t).await
    }
}

#[tokio::test]
async fn a_backup_code_that_loses_the_race_for_its_mfa_token_is_given_back() {
    let w = world();
    let id = w.user_in("mfa@example.com", &["acme"]).await;
    w.admin
        .enroll_totp("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let codes = w
        .admin
        .backup_codes("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let losing = portal_auth_ports::Repositories {
        tickets: Arc::new(LosesTheRace(w.repos.tickets.clone())),
        ..w.repos.clone()
    };
    let racing = AuthService::new(losing, w.services.clone(), AuthSettings::default());
    let verify = |token: &str| VerifyMfaCommand {
        mfa_token: token.to_owned(),
        user_id: id.clone(),
        method: "backup_code".into(),
        code: Some(codes[0].expose().clone()),
        trust_device: false,
        client: None,
    };

    let pending = w.pending_mfa("mfa@example.com").await;
    let lost = racing.verify_mfa(verify(&pending.mfa_token)).await;
    assert!(matches!(lost, Err(AuthError::InvalidMfaToken)));
    let again = w.pending_mfa("mfa@example.com").await;
    assert!(w.auth.verify_mfa(verify(&again.mfa_token)).await.is_ok());
}
