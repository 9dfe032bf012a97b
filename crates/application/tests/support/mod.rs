//! A real `AuthService` over the in-memory store and the crypto adapters,
//! with a clock the tests move by hand.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub use portal_auth_adapters_crypto::Argon2Settings;
use portal_auth_adapters_crypto::{
    Argon2Hasher, JwtSettings, JwtTokens, RandomTokens, RfcTotp, SigningKey,
};
use portal_auth_adapters_memory::MemoryStore;
use portal_auth_application::{
    Admin, AuthService, AuthSettings, AuthenticateCommand, IdentifyOutcome, LoginOutcome,
    MfaPending, Services, SignedIn,
};
use portal_auth_domain::{Email, Password, Timestamp};
use portal_auth_ports::{Clock, Repositories};

pub const PASSWORD: &str = "correct horse battery";

/// A clock that stands still until told to move.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0.load(Ordering::SeqCst))
    }
}

pub struct World {
    pub auth: AuthService,
    pub admin: Admin,
    pub repos: Repositories,
    pub clock: Arc<ManualClock>,
    pub services: Services,
}

pub fn cheap_hash() -> Argon2Settings {
    Argon2Settings {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 4,
        max_waiting: 64,
    }
}

pub fn world() -> World {
    world_with(AuthSettings::default(), cheap_hash())
}

pub fn world_with(settings: AuthSettings, hash: Argon2Settings) -> World {
    let clock = Arc::new(ManualClock::default());
    clock.advance(1_700_000_000);
    let key = SigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
    let jwt = JwtSettings {
        issuer: "https://auth.test".into(),
        audience: "portal".into(),
    };
    let services = Services {
        clock: clock.clone(),
        tokens: Arc::new(RandomTokens::new(key.derive_secret("refresh"))),
        hasher: Arc::new(Argon2Hasher::new(hash).unwrap_or_else(|e| panic!("{e}"))),
        access: Arc::new(JwtTokens::new(&key, jwt).unwrap_or_else(|e| panic!("{e}"))),
        totp: Arc::new(RfcTotp),
        mailer: None,
    };
    let repos = Repositories::from_store(Arc::new(MemoryStore::default()));
    World {
        auth: AuthService::new(repos.clone(), services.clone(), settings),
        admin: Admin::new(repos.clone(), services.clone()),
        repos,
        clock,
        services,
    }
}

pub fn email(text: &str) -> Email {
    Email::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn password(text: &str) -> Password {
    Password::presented(text).unwrap_or_else(|e| panic!("{e}"))
}

impl World {
    /// A tenant per slug, and a user who is a member of each.
    pub async fn user_in(&self, address: &str, slugs: &[&str]) -> String {
        for slug in slugs {
            let _ = self
                .admin
                .create_tenant(&format!("Tenant {slug}"), Some(slug))
                .await;
        }
        let tenants: Vec<String> = slugs.iter().map(|s| (*s).to_owned()).collect();
        let user = self.admin.create_user(address, PASSWORD, &tenants).await;
        user.unwrap_or_else(|e| panic!("{e}")).id.to_string()
    }

    pub async fn identify(&self, address: &str) -> IdentifyOutcome {
        self.auth
            .identify(email(address))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn authenticate(
        &self,
        flow_token: &str,
        secret: &str,
        tenant: Option<&str>,
    ) -> Result<LoginOutcome, portal_auth_application::AuthError> {
        let cmd = AuthenticateCommand {
            flow_token: flow_token.to_owned(),
            tenant_id: tenant.map(str::to_owned),
            password: password(secret),
            device_token: None,
            client: None,
        };
        self.auth.authenticate(cmd).await
    }

    /// Identify then authenticate with the right password, expecting tokens.
    pub async fn sign_in(&self, address: &str) -> SignedIn {
        let flow = self.identify(address).await;
        match self.authenticate(&flow.flow_token, PASSWORD, None).await {
            Ok(LoginOutcome::SignedIn(signed_in)) => signed_in,
            other => panic!("expected tokens, got {other:?}"),
        }
    }

    /// Identify then authenticate, expecting a second-factor challenge.
    pub async fn pending_mfa(&self, address: &str) -> MfaPending {
        let flow = self.identify(address).await;
        match self.authenticate(&flow.flow_token, PASSWORD, None).await {
            Ok(LoginOutcome::MfaRequired(pending)) => pending,
            other => panic!("expected MFA_REQUIRED, got {other:?}"),
        }
    }
}
