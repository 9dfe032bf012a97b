//! The login operations end to end over the in-memory store.

mod support;

use portal_auth_adapters_crypto::RfcTotp;
use portal_auth_application::{
    AuthError, AuthSettings, LoginCommand, LoginOutcome, MfaOutcome, VerifyMfaCommand,
};
use portal_auth_domain::MfaMethod;
use portal_auth_domain::mfa::TOTP_STEP_SECS;
use support::{PASSWORD, World, email, password, world, world_with};

#[tokio::test]
async fn identify_answers_an_unknown_email_like_a_single_tenant_user() {
    let w = world();
    w.user_in("one@example.com", &["acme"]).await;
    let unknown = w.identify("nobody@example.com").await;
    let known = w.identify("one@example.com").await;
    assert_eq!(unknown.tenants, known.tenants);
    assert!(known.tenants.is_empty());
    assert!(!unknown.requires_tenant_selection && !known.requires_tenant_selection);
    assert_eq!(unknown.flow_token.len(), known.flow_token.len());
}

#[tokio::test]
async fn identify_lists_tenants_only_when_there_is_a_choice() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let flow = w.identify("TWO@Example.com ").await;
    let slugs: Vec<&str> = flow.tenants.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["acme", "globex"]);
    assert!(flow.requires_tenant_selection);
}

#[tokio::test]
async fn a_user_whose_memberships_are_all_suspended_is_unknown() {
    let w = world();
    w.user_in("gone@example.com", &["acme", "globex"]).await;
    w.admin
        .suspend_tenant("gone@example.com", "acme")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.admin
        .suspend_tenant("gone@example.com", "globex")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let flow = w.identify("gone@example.com").await;
    assert!(flow.tenants.is_empty());
    let result = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(result, Err(AuthError::InvalidCredentials)));
}

#[tokio::test]
async fn the_right_password_signs_in_and_the_flow_token_is_single_use() {
    let w = world();
    let id = w.user_in("ann@example.com", &["acme"]).await;
    let flow = w.identify("ann@example.com").await;
    let Ok(LoginOutcome::SignedIn(signed_in)) =
        w.authenticate(&flow.flow_token, PASSWORD, None).await
    else {
        panic!("expected tokens");
    };
    assert_eq!(signed_in.user.id.to_string(), id);
    assert_eq!(signed_in.user.tenant_slug.as_str(), "acme");
    let again = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(again, Err(AuthError::InvalidFlowToken)));
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_fail_alike() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let unknown = w.identify("nobody@example.com").await;
    let known = w.identify("ann@example.com").await;
    let a = w.authenticate(&unknown.flow_token, PASSWORD, None).await;
    let b = w
        .authenticate(&known.flow_token, "wrong password", None)
        .await;
    assert!(matches!(a, Err(AuthError::InvalidCredentials)));
    assert!(matches!(b, Err(AuthError::InvalidCredentials)));
}

#[tokio::test]
async fn a_flow_token_dies_after_the_fifth_wrong_password() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let flow = w.identify("ann@example.com").await;
    for _ in 0..5 {
        let result = w.authenticate(&flow.flow_token, "wrong", None).await;
        assert!(matches!(result, Err(AuthError::InvalidCredentials)));
    }
    let result = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(result, Err(AuthError::InvalidFlowToken)));
}

#[tokio::test]
async fn a_flow_token_expires() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let flow = w.identify("ann@example.com").await;
    w.clock.advance(600);
    let result = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(result, Err(AuthError::InvalidFlowToken)));
}

#[tokio::test]
async fn several_tenants_need_a_choice_and_the_flow_token_survives_it() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let flow = w.identify("two@example.com").await;
    let Err(AuthError::TenantSelectionRequired(tenants)) =
        w.authenticate(&flow.flow_token, PASSWORD, None).await
    else {
        panic!("expected tenant_selection_required");
    };
    let globex = tenants
        .iter()
        .find(|t| t.slug.as_str() == "globex")
        .map(|t| t.id.to_string());
    let globex = globex.unwrap_or_default().to_uppercase();
    let result = w
        .authenticate(&flow.flow_token, PASSWORD, Some(&globex))
        .await;
    let Ok(LoginOutcome::SignedIn(signed_in)) = result else {
        panic!("expected tokens")
    };
    assert_eq!(signed_in.user.tenant_slug.as_str(), "globex");
}

#[tokio::test]
async fn a_wrong_password_with_several_tenants_reveals_nothing() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let flow = w.identify("two@example.com").await;
    let result = w.authenticate(&flow.flow_token, "wrong", None).await;
    assert!(matches!(result, Err(AuthError::InvalidCredentials)));
}

#[tokio::test]
async fn a_slug_or_foreign_tenant_id_is_invalid_credentials() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let other = w
        .admin
        .create_tenant("Other", Some("other"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let flow = w.identify("two@example.com").await;
    for tenant in ["acme", "", &other.id.to_string()] {
        let result = w
            .authenticate(&flow.flow_token, PASSWORD, Some(tenant))
            .await;
        assert!(
            matches!(result, Err(AuthError::InvalidCredentials)),
            "{tenant}"
        );
    }
}

#[tokio::test]
async fn a_disabled_user_is_told_only_after_the_right_password() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    w.admin
        .disable_user("ann@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let flow = w.identify("ann@example.com").await;
    let wrong = w.authenticate(&flow.flow_token, "wrong", None).await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    let right = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(right, Err(AuthError::AccountDisabled)));
    w.admin
        .enable_user("ann@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.sign_in("ann@example.com").await;
}

fn totp_code(secret_b32: &str, unix: i64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap_or_default();
    RfcTotp::code(&secret, unix.div_euclid(TOTP_STEP_SECS))
}

async fn mfa_user(w: &World) -> (String, String) {
    let id = w.user_in("mfa@example.com", &["acme"]).await;
    let totp = w
        .admin
        .enroll_totp("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (id, totp.secret.expose().clone())
}

fn verify(pending_token: &str, user: &str, method: &str, code: Option<&str>) -> VerifyMfaCommand {
    VerifyMfaCommand {
        mfa_token: pending_token.to_owned(),
        user_id: user.to_owned(),
        method: method.to_owned(),
        code: code.map(str::to_owned),
        trust_device: false,
        client: None,
    }
}

#[tokio::test]
async fn a_totp_user_gets_a_challenge_then_tokens() {
    let w = world();
    let (id, secret) = mfa_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    assert_eq!(pending.user_id.to_string(), id);
    assert_eq!(pending.methods, [MfaMethod::Totp]);
    let code = totp_code(&secret, w.clock_now());
    let outcome = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&code)))
        .await;
    assert!(matches!(outcome, Ok(MfaOutcome::SignedIn(_))));
    let reused = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&code)))
        .await;
    assert!(matches!(reused, Err(AuthError::InvalidMfaToken)));
}

#[tokio::test]
async fn a_totp_code_is_never_accepted_twice() {
    let w = world();
    let (id, secret) = mfa_user(&w).await;
    let code = totp_code(&secret, w.clock_now());
    let first = w.pending_mfa("mfa@example.com").await;
    let ok = w
        .auth
        .verify_mfa(verify(&first.mfa_token, &id, "totp", Some(&code)))
        .await;
    assert!(ok.is_ok());
    let second = w.pending_mfa("mfa@example.com").await;
    let replay = w
        .auth
        .verify_mfa(verify(&second.mfa_token, &id, "totp", Some(&code)))
        .await;
    assert!(matches!(replay, Err(AuthError::InvalidMfaCode)));
    // An older step after a newer one is refused too.
    let older = totp_code(&secret, w.clock_now() - TOTP_STEP_SECS);
    let old = w
        .auth
        .verify_mfa(verify(&second.mfa_token, &id, "totp", Some(&older)))
        .await;
    assert!(matches!(old, Err(AuthError::InvalidMfaCode)));
}

#[tokio::test]
async fn totp_tolerates_one_step_of_drift_each_way_but_not_two() {
    let w = world();
    let (id, secret) = mfa_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    let far = totp_code(&secret, w.clock_now() + 2 * TOTP_STEP_SECS);
    let refused = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&far)))
        .await;
    assert!(matches!(refused, Err(AuthError::InvalidMfaCode)));
    let near = totp_code(&secret, w.clock_now() + TOTP_STEP_SECS);
    let accepted = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&near)))
        .await;
    assert!(accepted.is_ok());
}

#[tokio::test]
async fn an_mfa_token_dies_after_five_failures() {
    let w = world();
    let (id, secret) = mfa_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    for _ in 0..5 {
        let bad = w
            .auth
            .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some("000000")))
            .await;
        assert!(matches!(bad, Err(AuthError::InvalidMfaCode)));
    }
    let code = totp_code(&secret, w.clock_now());
    let late = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", Some(&code)))
        .await;
    assert!(matches!(late, Err(AuthError::InvalidMfaToken)));
}

#[tokio::test]
async fn mfa_verify_checks_the_user_the_method_and_a_missing_code() {
    let w = world();
    let (id, _) = mfa_user(&w).await;
    let pending = w.pending_mfa("mfa@example.com").await;
    let stranger = "00000000-0000-4000-8000-000000000000";
    let wrong_user = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, stranger, "totp", Some("1")))
        .await;
    assert!(matches!(wrong_user, Err(AuthError::InvalidMfaToken)));
    for method in ["email", "backup_code", "sms"] {
        let result = w
            .auth
            .verify_mfa(verify(&pending.mfa_token, &id, method, Some("1")))
            .await;
        assert!(
            matches!(result, Err(AuthError::MfaMethodUnavailable)),
            "{method}"
        );
    }
    let no_code = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "totp", None))
        .await;
    assert!(matches!(no_code, Err(AuthError::InvalidMfaCode)));
}

#[tokio::test]
async fn backup_codes_work_once_ignoring_case_spaces_and_hyphens() {
    let w = world();
    let (id, _) = mfa_user(&w).await;
    let codes = w
        .admin
        .backup_codes("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(codes.len(), 10);
    let pending = w.pending_mfa("mfa@example.com").await;
    assert_eq!(pending.methods, [MfaMethod::Totp, MfaMethod::BackupCode]);
    let typed = format!(" {} ", codes[0].expose().to_uppercase().replace('-', " "));
    let ok = w
        .auth
        .verify_mfa(verify(&pending.mfa_token, &id, "backup_code", Some(&typed)))
        .await;
    assert!(ok.is_ok());
    let again = w.pending_mfa("mfa@example.com").await;
    let used = w
        .auth
        .verify_mfa(verify(
            &again.mfa_token,
            &id,
            "backup_code",
            Some(codes[0].expose()),
        ))
        .await;
    assert!(matches!(used, Err(AuthError::InvalidMfaCode)));
}

#[tokio::test]
async fn backup_codes_need_a_factor_and_replace_the_old_ones() {
    let w = world();
    w.user_in("plain@example.com", &["acme"]).await;
    let refused = w.admin.backup_codes("plain@example.com").await;
    assert!(matches!(
        refused,
        Err(portal_auth_application::AdminError::NoFactor)
    ));
    let (id, _) = mfa_user(&w).await;
    let old = w
        .admin
        .backup_codes("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.admin
        .backup_codes("mfa@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pending = w.pending_mfa("mfa@example.com").await;
    let dead = w
        .auth
        .verify_mfa(verify(
            &pending.mfa_token,
            &id,
            "backup_code",
            Some(old[0].expose()),
        ))
        .await;
    assert!(matches!(dead, Err(AuthError::InvalidMfaCode)));
}

#[tokio::test]
async fn one_step_login_signs_in_and_never_bypasses_a_factor() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    mfa_user(&w).await;
    let login = |address: &str, secret: &str| LoginCommand {
        email: email(address),
        password: password(secret),
        tenant_id: None,
        device_token: None,
        client: None,
    };
    assert!(
        w.auth
            .login(login("ann@example.com", PASSWORD))
            .await
            .is_ok()
    );
    let wrong = w.auth.login(login("mfa@example.com", "wrong")).await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    let factor = w.auth.login(login("mfa@example.com", PASSWORD)).await;
    assert!(matches!(factor, Err(AuthError::MfaRequired)));
}

#[tokio::test]
async fn one_step_login_asks_for_a_tenant_only_after_the_right_password() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let cmd = |secret: &str| LoginCommand {
        email: email("two@example.com"),
        password: password(secret),
        tenant_id: None,
        device_token: None,
        client: None,
    };
    assert!(matches!(
        w.auth.login(cmd("wrong")).await,
        Err(AuthError::InvalidCredentials)
    ));
    let Err(AuthError::TenantSelectionRequired(tenants)) = w.auth.login(cmd(PASSWORD)).await else {
        panic!("expected tenant_selection_required");
    };
    assert_eq!(tenants.len(), 2);
}

#[tokio::test]
async fn refresh_rotates_and_a_replay_after_the_grace_window_revokes_the_session() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    let first = w
        .auth
        .refresh(&signed_in.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(first.refresh_token, signed_in.refresh_token);
    w.clock.advance(11);
    let replay = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(replay, Err(AuthError::RefreshTokenReused)));
    let newest = w.auth.refresh(&first.refresh_token).await;
    assert!(matches!(newest, Err(AuthError::InvalidRefreshToken)));
    let replay_again = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(replay_again, Err(AuthError::InvalidRefreshToken)));
}

#[tokio::test]
async fn a_replay_within_the_grace_window_gets_the_same_successor() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    let a = w
        .auth
        .refresh(&signed_in.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.clock.advance(5);
    let b = w
        .auth
        .refresh(&signed_in.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.refresh_token, b.refresh_token);
    assert_ne!(a.access_token, b.access_token);
    // Once the successor is rotated in turn, the old token is a replay.
    w.auth
        .refresh(&a.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let late = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(late, Err(AuthError::RefreshTokenReused)));
}

#[tokio::test]
async fn concurrent_refreshes_agree_on_one_successor() {
    let w = std::sync::Arc::new(world());
    w.user_in("ann@example.com", &["acme"]).await;
    let token = w.sign_in("ann@example.com").await.refresh_token;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (w, token) = (w.clone(), token.clone());
            tokio::spawn(async move { w.auth.refresh(&token).await.map(|r| r.refresh_token) })
        })
        .collect();
    let mut successors = Vec::new();
    for task in tasks {
        successors.push(
            task.await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    successors.dedup();
    assert_eq!(successors.len(), 1);
    assert!(w.auth.refresh(&successors[0]).await.is_ok());
}

#[tokio::test]
async fn with_no_grace_every_replay_is_theft() {
    let settings = AuthSettings {
        refresh_reuse_grace_secs: 0,
        ..AuthSettings::default()
    };
    let w = world_with(settings, support::cheap_hash());
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    w.auth
        .refresh(&signed_in.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let replay = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(replay, Err(AuthError::RefreshTokenReused)));
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_expiry() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let idle = w.sign_in("ann@example.com").await;
    w.clock.advance(7 * 86_400);
    assert!(matches!(
        w.auth.refresh(&idle.refresh_token).await,
        Err(AuthError::InvalidRefreshToken)
    ));

    let mut token = w.sign_in("ann@example.com").await.refresh_token;
    for _ in 0..4 {
        w.clock.advance(6 * 86_400);
        token = w
            .auth
            .refresh(&token)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .refresh_token;
    }
    w.clock.advance(6 * 86_400);
    assert!(matches!(
        w.auth.refresh(&token).await,
        Err(AuthError::InvalidRefreshToken)
    ));
}

#[tokio::test]
async fn logout_revokes_the_session_and_ignores_garbage() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    w.auth.logout(None).await;
    w.auth.logout(Some("garbage")).await;
    assert!(w.auth.refresh(&signed_in.refresh_token).await.is_ok());

    let other = w.sign_in("ann@example.com").await;
    w.clock.advance(3600); // the access token has expired; logout still works
    w.auth.logout(Some(&other.access_token)).await;
    let after = w.auth.refresh(&other.refresh_token).await;
    assert!(matches!(after, Err(AuthError::InvalidRefreshToken)));
}

#[tokio::test]
async fn a_new_password_ends_sessions_and_pending_logins() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    let flow = w.identify("ann@example.com").await;
    w.admin
        .set_password("ann@example.com", "a brand new password")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refresh = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(refresh, Err(AuthError::InvalidRefreshToken)));
    let pending = w
        .authenticate(&flow.flow_token, "a brand new password", None)
        .await;
    assert!(matches!(pending, Err(AuthError::InvalidFlowToken)));
}

#[tokio::test]
async fn suspending_a_membership_ends_that_tenants_sessions_only() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let mut tokens = Vec::new();
    for slug in ["acme", "globex"] {
        let flow = w.identify("two@example.com").await;
        let tenant = flow
            .tenants
            .iter()
            .find(|t| t.slug.as_str() == slug)
            .map(|t| t.id.to_string());
        let result = w
            .authenticate(&flow.flow_token, PASSWORD, tenant.as_deref())
            .await;
        let Ok(LoginOutcome::SignedIn(signed_in)) = result else {
            panic!("expected tokens")
        };
        tokens.push(signed_in.refresh_token);
    }
    w.admin
        .suspend_tenant("two@example.com", "acme")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        w.auth.refresh(&tokens[0]).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(w.auth.refresh(&tokens[1]).await.is_ok());
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let signed_in = w.sign_in("ann@example.com").await;
    w.admin
        .disable_user("ann@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.admin
        .enable_user("ann@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refresh = w.auth.refresh(&signed_in.refresh_token).await;
    assert!(matches!(refresh, Err(AuthError::InvalidRefreshToken)));
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_upgraded_at_the_next_login() {
    let old = world();
    old.user_in("ann@example.com", &["acme"]).await;
    let stronger = support::Argon2Settings {
        memory_kib: 128,
        ..support::cheap_hash()
    };
    let current = portal_auth_application::AuthService::new(
        old.repos.clone(),
        portal_auth_application::Services {
            hasher: std::sync::Arc::new(
                portal_auth_adapters_crypto::Argon2Hasher::new(stronger)
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
            ..old.services.clone()
        },
        AuthSettings::default(),
    );
    let before = stored_hash(&old).await;
    assert!(before.contains("m=64"));
    let flow = current
        .identify(email("ann@example.com"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cmd = portal_auth_application::AuthenticateCommand {
        flow_token: flow.flow_token,
        tenant_id: None,
        password: password(PASSWORD),
        device_token: None,
        client: None,
    };
    assert!(current.authenticate(cmd).await.is_ok());
    assert!(stored_hash(&old).await.contains("m=128"));
}

async fn stored_hash(w: &World) -> String {
    let record = w
        .repos
        .users
        .find_user_by_email(&email("ann@example.com"))
        .await;
    record
        .ok()
        .flatten()
        .map(|r| r.password_hash.expose().clone())
        .unwrap_or_default()
}

impl World {
    fn clock_now(&self) -> i64 {
        use portal_auth_ports::Clock;
        self.clock.now().unix()
    }
}

#[tokio::test]
async fn the_always_mode_lists_every_users_tenants() {
    let settings = AuthSettings {
        tenant_disclosure: portal_auth_application::TenantDisclosure::Always,
        ..AuthSettings::default()
    };
    let w = world_with(settings, support::cheap_hash());
    w.user_in("one@example.com", &["acme"]).await;
    let flow = w.identify("one@example.com").await;
    assert_eq!(flow.tenants.len(), 1);
    assert!(!flow.requires_tenant_selection);
    assert!(w.identify("nobody@example.com").await.tenants.is_empty());
}

#[tokio::test]
async fn the_after_password_mode_names_tenants_only_once_the_password_is_right() {
    let settings = AuthSettings {
        tenant_disclosure: portal_auth_application::TenantDisclosure::AfterPassword,
        ..AuthSettings::default()
    };
    let w = world_with(settings, support::cheap_hash());
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let flow = w.identify("two@example.com").await;
    assert!(flow.tenants.is_empty());
    assert!(!flow.requires_tenant_selection);
    let wrong = w.authenticate(&flow.flow_token, "wrong", None).await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    let right = w.authenticate(&flow.flow_token, PASSWORD, None).await;
    assert!(matches!(right, Err(AuthError::TenantSelectionRequired(t)) if t.len() == 2));
}
