//! Throttling, trusted devices, email codes and configuration, against the
//! real binary on both stores.

#[macro_use]
mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{FakeSmtp, PASSWORD, Server, Store, expect_error, expect_json, totp_now};

on_every_store!(
    failed_attempts_are_throttled_with_retry_after,
    a_trusted_device_cookie_skips_the_second_factor,
    an_email_code_is_mailed_and_completes_the_login,
);

mod cases {
    use super::*;

    fn str_of<'a>(body: &'a Value, key: &str) -> &'a str {
        body[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing in {body}"))
    }

    pub async fn failed_attempts_are_throttled_with_retry_after(store: Store) {
        let server =
            Server::start_with(store, &[("PORTAL_AUTH__THROTTLE__FAILURES_PER_EMAIL", "3")]).await;
        server.user("ann@example.com", &["acme"]);
        for address in ["ann@example.com", "nobody@example.com"] {
            for _ in 0..3 {
                let body = json!({"email": address, "password": "wrong"});
                let response = server.post("/api/v1/auth/login", &body).await;
                expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
            }
            let flow = server.identify(address).await;
            let response = server
                .authenticate(str_of(&flow, "flow_token"), PASSWORD, None)
                .await;
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            expect_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
            let seconds: u64 = retry_after.and_then(|v| v.parse().ok()).unwrap_or_default();
            assert!((1..=900).contains(&seconds), "Retry-After {seconds}");
        }
    }

    async fn enroll(server: &Server) -> String {
        server.user("mfa@example.com", &["acme"]);
        let totp = server.cli_json(&["mfa", "enroll-totp", "--user", "mfa@example.com"], None);
        str_of(&totp, "secret").to_owned()
    }

    async fn challenge(server: &Server, cookie: Option<&str>) -> Value {
        let flow = server.identify("mfa@example.com").await;
        let body = json!({"flow_token": flow["flow_token"], "password": PASSWORD});
        let mut request = server
            .http
            .post(format!("{}/api/v1/auth/authenticate", server.base))
            .json(&body);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        expect_json(response, StatusCode::OK).await
    }

    pub async fn a_trusted_device_cookie_skips_the_second_factor(store: Store) {
        let server = Server::start(store).await;
        let secret = enroll(&server).await;
        let pending = challenge(&server, None).await;
        assert_eq!(pending["status"], "MFA_REQUIRED");
        let body = json!({
            "mfa_token": pending["mfa_token"], "user_id": pending["user_id"],
            "method": "totp", "code": totp_now(&secret), "trust_device": "yes",
        });
        let response = server.post("/api/v1/auth/mfa/verify", &body).await;
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        expect_json(response, StatusCode::OK).await;
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/api/v1/auth",
            "Max-Age=2592000",
        ] {
            assert!(
                set_cookie.contains(attribute),
                "{attribute} missing in {set_cookie}"
            );
        }
        let pair = set_cookie.split(';').next().unwrap_or_default();
        assert!(pair.starts_with("portal_auth_device="), "{set_cookie}");

        let skipped = challenge(&server, Some(pair)).await;
        assert_eq!(skipped["status"], "SUCCESS", "{skipped}");
        let token = str_of(&skipped, "access_token");
        let claims = token.split('.').nth(1).unwrap_or_default();
        let claims = data_encoding::BASE64URL_NOPAD
            .decode(claims.as_bytes())
            .unwrap_or_default();
        let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
        assert_eq!(claims["amr"], json!(["pwd"]));

        server.cli_json(
            &[
                "user",
                "set-password",
                "--user",
                "mfa@example.com",
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
        let forgotten = challenge(&server, Some(pair)).await;
        assert_eq!(forgotten["status"], "MFA_REQUIRED");
    }

    pub async fn an_email_code_is_mailed_and_completes_the_login(store: Store) {
        let smtp = FakeSmtp::start().await;
        let port = smtp.port.to_string();
        let server = Server::start_with(
            store,
            &[
                ("PORTAL_AUTH__MAIL__SMTP_HOST", "127.0.0.1"),
                ("PORTAL_AUTH__MAIL__SMTP_PORT", &port),
            ],
        )
        .await;
        server.user("mfa@example.com", &["acme"]);
        server.cli_json(&["mfa", "enable-email", "--user", "mfa@example.com"], None);
        let pending = challenge(&server, None).await;
        assert_eq!(pending["available_methods"], json!(["email"]));
        let ask = json!({"mfa_token": pending["mfa_token"], "user_id": pending["user_id"], "method": "email"});
        let sent = server.post("/api/v1/auth/mfa/verify", &ask).await;
        expect_error(sent, StatusCode::ACCEPTED, "mfa_code_sent").await;
        let code = smtp.last_code().await;
        let again = server.post("/api/v1/auth/mfa/verify", &ask).await;
        assert!(again.headers().get("retry-after").is_some());
        expect_error(again, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
        assert_eq!(smtp.count(), 1);

        let answer = json!({
            "mfa_token": pending["mfa_token"], "user_id": pending["user_id"],
            "method": "email", "code": code,
        });
        let done = expect_json(
            server.post("/api/v1/auth/mfa/verify", &answer).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["user"]["email"], "mfa@example.com");
    }
}

#[tokio::test]
async fn a_mail_server_that_is_down_answers_503_and_keeps_the_login_alive() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
    let port = closed.map(|a| a.port().to_string()).unwrap_or_default();
    let server = Server::start_with(
        Store::Sqlite,
        &[
            ("PORTAL_AUTH__MAIL__SMTP_HOST", "127.0.0.1"),
            ("PORTAL_AUTH__MAIL__SMTP_PORT", &port),
        ],
    )
    .await;
    server.user("mfa@example.com", &["acme"]);
    server.cli_json(&["mfa", "enable-email", "--user", "mfa@example.com"], None);
    server.cli_json(&["mfa", "backup-codes", "--user", "mfa@example.com"], None);
    let flow = server.identify("mfa@example.com").await;
    let pending = expect_json(
        server
            .authenticate(
                flow["flow_token"].as_str().unwrap_or_default(),
                PASSWORD,
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let ask = json!({"mfa_token": pending["mfa_token"], "user_id": pending["user_id"], "method": "email"});
    let response = server.post("/api/v1/auth/mfa/verify", &ask).await;
    assert!(response.headers().get("retry-after").is_some());
    expect_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "mail_unavailable",
    )
    .await;
    let wrong = json!({"mfa_token": pending["mfa_token"], "user_id": pending["user_id"], "method": "backup_code", "code": "nope"});
    expect_error(
        server.post("/api/v1/auth/mfa/verify", &wrong).await,
        StatusCode::UNAUTHORIZED,
        "invalid_mfa_code",
    )
    .await;
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let server = Server::start_with(
        Store::Sqlite,
        &[
            ("PORTAL_AUTH__THROTTLE__FAILURES_PER_ADDRESS", "2"),
            ("PORTAL_AUTH__HTTP__TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let attempt = |client: &'static str, email: &'static str| {
        let body = json!({"email": email, "password": "wrong"});
        server
            .http
            .post(format!("{}/api/v1/auth/login", server.base))
            .header("X-Forwarded-For", client)
            .json(&body)
            .send()
    };
    for email in ["a@example.com", "b@example.com"] {
        let response = attempt("203.0.113.9", email)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let blocked = attempt("203.0.113.9", "c@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    expect_error(blocked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let other = attempt("198.51.100.4", "c@example.com")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    expect_error(other, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn configuration_comes_from_the_environment_and_bad_keys_stop_start_up() {
    let server = Server::start_with(
        Store::Sqlite,
        &[
            ("PORTAL_AUTH__TOKENS__ACCESS_TTL_SECS", "120"),
            ("PORTAL_AUTH__HTTP__TRUSTED_PROXIES", ""),
        ],
    )
    .await;
    server.user("ann@example.com", &["acme"]);
    let body = server.sign_in("ann@example.com").await;
    let token = body["access_token"].as_str().unwrap_or_default();
    let claims = token.split('.').nth(1).unwrap_or_default();
    let claims = data_encoding::BASE64URL_NOPAD
        .decode(claims.as_bytes())
        .unwrap_or_default();
    let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
    assert_eq!(
        claims["exp"].as_i64().unwrap_or_default() - claims["iat"].as_i64().unwrap_or_default(),
        120
    );
    assert!(
        !server.log().contains('\u{1b}'),
        "colour codes in a log file"
    );

    let binary = env!("CARGO_BIN_EXE_portal-auth");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(binary);
        command.arg("migrate").current_dir(dir.path()).env_clear();
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let typo = run(&[("PORTAL_AUTH__HTTP__BNID", "x")]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("bnid"));
    let production = dir.path().join("p.toml");
    std::fs::write(&production, "profile = \"production\"\n").unwrap_or_else(|e| panic!("{e}"));
    let mut command = std::process::Command::new(binary);
    let refused = command
        .args(["--config", &production.display().to_string(), "serve"])
        .current_dir(dir.path())
        .env_clear()
        .output();
    let refused = refused.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("tokens.signing_key_file"));
}
