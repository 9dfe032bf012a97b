//! Throttling, trusted devices and email codes over the in-memory store.

mod support;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use portal_auth_application::{
    AuthError, AuthService, AuthSettings, AuthenticateCommand, LoginCommand, LoginOutcome,
    MfaOutcome, Services, ThrottleSettings, VerifyMfaCommand,
};
use portal_auth_domain::{Email, MfaMethod, Secret};
use portal_auth_ports::{MailError, Mailer};
use support::{PASSWORD, World, email, password, world, world_with};

fn limits(per_email: u32, per_address: u32) -> AuthSettings {
    let throttle = ThrottleSettings {
        failures_per_email: per_email,
        failures_per_address: per_address,
        window_secs: 900,
    };
    AuthSettings {
        throttle,
        ..AuthSettings::default()
    }
}

fn login(address: &str, secret: &str, client: Option<IpAddr>) -> LoginCommand {
    LoginCommand {
        email: email(address),
        password: password(secret),
        tenant_id: None,
        device_token: None,
        client,
    }
}

#[tokio::test]
async fn failures_past_the_email_limit_are_throttled_for_known_and_unknown_emails() {
    let w = world_with(limits(3, 1000), support::cheap_hash());
    w.user_in("ann@example.com", &["acme"]).await;
    for address in ["ann@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            let wrong = w.auth.login(login(address, "wrong", None)).await;
            assert!(
                matches!(wrong, Err(AuthError::InvalidCredentials)),
                "{address}"
            );
        }
        let throttled = w.auth.login(login(address, PASSWORD, None)).await;
        let Err(AuthError::TooManyAttempts { retry_after_secs }) = throttled else {
            panic!("{address}: expected too_many_attempts, got {throttled:?}");
        };
        assert!((1..=900).contains(&retry_after_secs));
    }
    w.clock.advance(900);
    assert!(
        w.auth
            .login(login("ann@example.com", PASSWORD, None))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_email_limit_spans_flow_tokens_and_applies_before_the_flow_check() {
    let w = world_with(limits(3, 1000), support::cheap_hash());
    w.user_in("ann@example.com", &["acme"]).await;
    for _ in 0..3 {
        let flow = w.identify("ann@example.com").await;
        let wrong = w.authenticate(&flow.flow_token, "wrong", None).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    }
    let flow = w.identify("ANN@example.com").await;
    let throttled = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(throttled, Err(AuthError::TooManyAttempts { .. })));
}

#[tokio::test]
async fn a_success_clears_the_email_count() {
    let w = world_with(limits(3, 1000), support::cheap_hash());
    w.user_in("ann@example.com", &["acme"]).await;
    for _ in 0..2 {
        assert!(
            w.auth
                .login(login("ann@example.com", "wrong", None))
                .await
                .is_err()
        );
    }
    assert!(
        w.auth
            .login(login("ann@example.com", PASSWORD, None))
            .await
            .is_ok()
    );
    for _ in 0..2 {
        assert!(
            w.auth
                .login(login("ann@example.com", "wrong", None))
                .await
                .is_err()
        );
    }
    assert!(
        w.auth
            .login(login("ann@example.com", PASSWORD, None))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn failures_are_also_counted_per_client_address() {
    let w = world_with(limits(100, 4), support::cheap_hash());
    w.user_in("ann@example.com", &["acme"]).await;
    let attacker: IpAddr = [203, 0, 113, 7].into();
    for n in 0..4 {
        let target = format!("victim{n}@example.com");
        assert!(
            w.auth
                .login(login(&target, "guess", Some(attacker)))
                .await
                .is_err()
        );
    }
    let throttled = w
        .auth
        .login(login("ann@example.com", PASSWORD, Some(attacker)))
        .await;
    assert!(matches!(throttled, Err(AuthError::TooManyAttempts { .. })));
    let elsewhere: IpAddr = [198, 51, 100, 1].into();
    assert!(
        w.auth
            .login(login("ann@example.com", PASSWORD, Some(elsewhere)))
            .await
            .is_ok()
    );
}

async fn totp_user(w: &World) -> (String, String) {
    let id = w.user_in("mfa@example.com", &["acme"]).await;
    let totp = w
        .admin
        .enroll_totp("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (id, totp.secret.expose().clone())
}

fn verify(
    token: &str,
    user: &str,
    method: &str,
    code: Option<&str>,
    trust: bool,
) -> VerifyMfaCommand {
    VerifyMfaCommand {
        mfa_token: token.to_owned(),
        user_id: user.to_owned(),
        method: method.to_owned(),
        code: code.map(str::to_owned),
        trust_device: trust,
        client: None,
    }
}

#[tokio::test]
async fn wrong_second_factor_codes_count_against_the_email() {
    // Every attempt counts until a login completes: the right password that
    // opened the challenge is one, and each wrong code another.
    let w = world_with(limits(4, 1000), support::cheap_hash());
    let (id, _) = totp_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    for _ in 0..3 {
        let cmd = verify(&pending.mfa_token, &id, "totp", Some("000000"), false);
        let wrong = w.auth.verify_mfa(cmd).await;
        assert!(matches!(wrong, Err(AuthError::InvalidMfaCode)));
    }
    let flow = w.identify("mfa@example.com").await;
    let throttled = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(throttled, Err(AuthError::TooManyAttempts { .. })));
}

#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_email_limit() {
    let w = std::sync::Arc::new(world_with(limits(3, 1000), support::cheap_hash()));
    w.user_in("ann@example.com", &["acme"]).await;
    let guesses: Vec<_> = (0..12)
        .map(|_| {
            let w = w.clone();
            tokio::spawn(async move { w.auth.login(login("ann@example.com", "wrong", None)).await })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        let outcome = guess.await.unwrap_or_else(|e| panic!("{e}"));
        if matches!(outcome, Err(AuthError::InvalidCredentials)) {
            checked += 1;
        }
    }
    assert_eq!(
        checked, 3,
        "only the limit's worth of guesses may reach the password check"
    );
}

fn current_code(w: &World, secret: &str) -> String {
    use portal_auth_ports::Clock;
    let bytes = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap_or_default();
    portal_auth_adapters_crypto::RfcTotp::code(&bytes, w.clock.now().unix() / 30)
}

async fn authenticate_with_device(
    w: &World,
    address: &str,
    device: &str,
) -> Result<LoginOutcome, AuthError> {
    let flow = w.identify(address).await;
    let cmd = AuthenticateCommand {
        flow_token: flow.flow_token,
        tenant_id: None,
        password: password(PASSWORD),
        device_token: Some(device.to_owned()),
        client: None,
    };
    w.auth.authenticate(cmd).await
}

#[tokio::test]
async fn a_trusted_device_skips_the_second_factor_for_its_user_only() {
    let w = world();
    let (id, secret) = totp_user(&w).await;
    w.user_in("other@example.com", &["acme"]).await;
    w.admin
        .enroll_totp("other@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let pending = w.pending_mfa("mfa@example.com").await;
    let code = current_code(&w, &secret);
    let outcome = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&code), true))
        .await;
    let Ok(MfaOutcome::SignedIn(signed_in)) = outcome else {
        panic!("expected tokens")
    };
    let device = signed_in
        .device_token
        .unwrap_or_else(|| panic!("no device token"));

    let skipped = authenticate_with_device(&w, "mfa@example.com", &device).await;
    assert!(
        matches!(skipped, Ok(LoginOutcome::SignedIn(_))),
        "{skipped:?}"
    );
    let other = authenticate_with_device(&w, "other@example.com", &device).await;
    assert!(matches!(other, Ok(LoginOutcome::MfaRequired(_))));
    let one_step = LoginCommand {
        device_token: Some(device.clone()),
        ..login("mfa@example.com", PASSWORD, None)
    };
    assert!(w.auth.login(one_step).await.is_ok());

    w.admin
        .set_password("mfa@example.com", PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let forgotten = authenticate_with_device(&w, "mfa@example.com", &device).await;
    assert!(matches!(forgotten, Ok(LoginOutcome::MfaRequired(_))));
}

#[tokio::test]
async fn a_new_factor_ends_trusted_devices() {
    let w = world();
    let (id, secret) = totp_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    let code = current_code(&w, &secret);
    let outcome = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&code), true))
        .await;
    let Ok(MfaOutcome::SignedIn(signed_in)) = outcome else {
        panic!("expected tokens")
    };
    let device = signed_in.device_token.unwrap_or_default();
    w.admin
        .enable_email("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let forgotten = authenticate_with_device(&w, "mfa@example.com", &device).await;
    assert!(matches!(forgotten, Ok(LoginOutcome::MfaRequired(_))));
}

/// Keeps what it was asked to send; fails while told to.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<(String, String)>>,
    failing: Mutex<bool>,
}

#[async_trait]
impl Mailer for Outbox {
    async fn send_login_code(&self, to: &Email, code: &Secret<String>) -> Result<(), MailError> {
        if *self.failing.lock().unwrap_or_else(|e| e.into_inner()) {
            return Err(MailError("connection refused".into()));
        }
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.push((to.as_str().to_owned(), code.expose().clone()));
        Ok(())
    }
}

impl Outbox {
    fn last_code(&self) -> String {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.last()
            .map(|(_, code)| code.clone())
            .unwrap_or_default()
    }

    fn fail(&self, failing: bool) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = failing;
    }
}

fn with_mail(w: &World, outbox: Arc<Outbox>) -> AuthService {
    let services = Services {
        mailer: Some(outbox),
        ..w.services.clone()
    };
    AuthService::new(w.repos.clone(), services, AuthSettings::default())
}

async fn email_user(w: &World, auth: &AuthService) -> (String, String) {
    let id = w.user_in("mail@example.com", &["acme"]).await;
    w.admin
        .enable_email("mail@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let flow = auth
        .identify(email("mail@example.com"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cmd = AuthenticateCommand {
        flow_token: flow.flow_token,
        tenant_id: None,
        password: password(PASSWORD),
        device_token: None,
        client: None,
    };
    let Ok(LoginOutcome::MfaRequired(pending)) = auth.authenticate(cmd).await else {
        panic!("expected MFA_REQUIRED");
    };
    assert_eq!(pending.methods, [MfaMethod::Email]);
    (id, pending.mfa_token)
}

#[tokio::test]
async fn an_email_code_is_sent_on_request_and_completes_the_login() {
    let w = world();
    let outbox = Arc::new(Outbox::default());
    let auth = with_mail(&w, outbox.clone());
    let (id, token) = email_user(&w, &auth).await;
    let sent = auth
        .verify_mfa(verify(&token, &id, "email", None, false))
        .await;
    assert!(matches!(sent, Ok(MfaOutcome::CodeSent)));
    let code = outbox.last_code();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = auth
        .verify_mfa(verify(&token, &id, "email", Some(wrong), false))
        .await;
    assert!(matches!(refused, Err(AuthError::InvalidMfaCode)));
    let done = auth
        .verify_mfa(verify(&token, &id, "email", Some(&code), false))
        .await;
    assert!(matches!(done, Ok(MfaOutcome::SignedIn(_))));
}

#[tokio::test]
async fn email_codes_are_spaced_limited_and_replace_each_other() {
    let w = world();
    let outbox = Arc::new(Outbox::default());
    let auth = with_mail(&w, outbox.clone());
    let (id, token) = email_user(&w, &auth).await;
    let send = || auth.verify_mfa(verify(&token, &id, "email", None, false));
    assert!(matches!(send().await, Ok(MfaOutcome::CodeSent)));
    let first = outbox.last_code();
    assert!(matches!(
        send().await,
        Err(AuthError::TooManyAttempts {
            retry_after_secs: 30
        })
    ));
    for _ in 0..4 {
        w.clock.advance(30);
        assert!(matches!(send().await, Ok(MfaOutcome::CodeSent)));
    }
    w.clock.advance(30);
    assert!(matches!(
        send().await,
        Err(AuthError::TooManyAttempts { .. })
    ));
    if first != outbox.last_code() {
        let stale = auth
            .verify_mfa(verify(&token, &id, "email", Some(&first), false))
            .await;
        assert!(matches!(stale, Err(AuthError::InvalidMfaCode)));
    }
}

#[tokio::test]
async fn a_mail_outage_is_reported_and_the_mfa_token_lives_on() {
    let w = world();
    let outbox = Arc::new(Outbox::default());
    let auth = with_mail(&w, outbox.clone());
    let (id, token) = email_user(&w, &auth).await;
    outbox.fail(true);
    let down = auth
        .verify_mfa(verify(&token, &id, "email", None, false))
        .await;
    assert!(matches!(down, Err(AuthError::MailUnavailable { .. })));
    outbox.fail(false);
    w.clock.advance(30);
    assert!(matches!(
        auth.verify_mfa(verify(&token, &id, "email", None, false))
            .await,
        Ok(MfaOutcome::CodeSent)
    ));
    let code = outbox.last_code();
    let done = auth.verify_mfa(verify(&token, &id, "email", Some(&code), false));
    assert!(matches!(done.await, Ok(MfaOutcome::SignedIn(_))));
}

#[tokio::test]
async fn without_a_mail_server_the_email_factor_is_not_offered() {
    let w = world();
    w.user_in("mail@example.com", &["acme"]).await;
    w.admin
        .enable_email("mail@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.admin
        .backup_codes("mail@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pending = w.pending_mfa("mail@example.com").await;
    assert_eq!(pending.methods, [MfaMethod::BackupCode]);
}
