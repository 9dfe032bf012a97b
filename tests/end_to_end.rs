//! The six endpoints over HTTP against the real binary, once on SQLite and
//! once on PostgreSQL: every case below runs against both stores.

#[macro_use]
mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{PASSWORD, Server, Store, expect_error, expect_json, totp_at, totp_now};

on_every_store!(
    identify_answers_unknown_and_single_tenant_users_identically,
    identify_lists_tenants_when_there_is_a_choice,
    authenticate_issues_tokens_that_verify_against_the_jwks,
    a_flow_token_is_single_use_and_dies_after_five_wrong_passwords,
    tenant_selection_happens_only_after_the_right_password,
    a_disabled_user_gets_account_disabled,
    totp_login_completes_and_refuses_replays,
    backup_codes_work_once,
    an_mfa_token_dies_after_five_failures,
    one_step_login_keeps_every_rule,
    refresh_rotates_and_reuse_revokes_the_session,
    concurrent_refreshes_agree_on_one_successor,
    logout_always_answers_200_and_ends_the_session,
    admin_changes_revoke_sessions_at_once,
    data_survives_a_restart,
);

mod cases {
    use super::*;

    fn str_of<'a>(body: &'a Value, key: &str) -> &'a str {
        body[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing in {body}"))
    }

    pub async fn identify_answers_unknown_and_single_tenant_users_identically(store: Store) {
        let server = Server::start(store).await;
        server.user("one@example.com", &["acme"]);
        let unknown = server
            .post(
                "/api/v1/auth/identify",
                &json!({"email": "nobody@example.com"}),
            )
            .await;
        let known = server
            .post(
                "/api/v1/auth/identify",
                &json!({"email": "One@Example.com"}),
            )
            .await;
        let header_names = |r: &reqwest::Response| {
            let mut names: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(header_names(&unknown), header_names(&known));
        assert_eq!(
            unknown.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let unknown = unknown.text().await.unwrap_or_default();
        let known = known.text().await.unwrap_or_default();
        let shape = |text: &str| {
            let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let token = value["flow_token"].as_str().unwrap_or_default().to_owned();
            (text.replace(&token, "TOKEN"), token.len())
        };
        assert_eq!(shape(&unknown), shape(&known));
        assert!(unknown.starts_with(r#"{"flow_token":"#), "{unknown}");
        assert!(
            unknown.ends_with(r#""tenants":[],"requires_tenant_selection":false}"#),
            "{unknown}"
        );
    }

    pub async fn identify_lists_tenants_when_there_is_a_choice(store: Store) {
        let server = Server::start(store).await;
        server.user("two@example.com", &["acme", "globex"]);
        let body = server.identify("  TWO@example.COM ").await;
        assert_eq!(body["requires_tenant_selection"], true);
        let tenants = body["tenants"].as_array().cloned().unwrap_or_default();
        let slugs: Vec<&str> = tenants.iter().filter_map(|t| t["slug"].as_str()).collect();
        assert_eq!(slugs, ["acme", "globex"]);
        for tenant in &tenants {
            let keys: Vec<&str> = tenant
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(keys, ["id", "slug", "name"]);
        }
    }

    pub async fn authenticate_issues_tokens_that_verify_against_the_jwks(store: Store) {
        let server = Server::start(store).await;
        let user_id = server.user("ann@example.com", &["acme"]);
        let body = server.sign_in("ann@example.com").await;
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "status",
                "access_token",
                "refresh_token",
                "user",
                "mfa_token",
                "user_id",
                "available_methods"
            ]
        );
        assert_eq!(body["mfa_token"], Value::Null);
        assert_eq!(body["available_methods"], Value::Null);
        assert_eq!(body["user"]["id"], user_id.as_str());
        assert_eq!(body["user"]["email"], "ann@example.com");
        assert_eq!(body["user"]["tenant_slug"], "acme");

        let jwks = expect_json(server.get("/.well-known/jwks.json").await, StatusCode::OK).await;
        let jwk =
            josekit::jwk::Jwk::from_map(jwks["keys"][0].as_object().cloned().unwrap_or_default());
        let jwk = jwk.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(jwk.key_type(), "OKP");
        let verifier = josekit::jws::EdDSA
            .verifier_from_jwk(&jwk)
            .unwrap_or_else(|e| panic!("{e}"));
        let token = str_of(&body, "access_token");
        let (claims, header) =
            josekit::jwt::decode_with_verifier(token, &verifier).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header.algorithm(), Some("EdDSA"));
        assert_eq!(header.key_id(), jwk.key_id());
        assert_eq!(claims.subject(), Some(user_id.as_str()));
        assert_eq!(claims.claim("tid"), Some(&body["user"]["tenant_id"]));
        assert_eq!(claims.claim("amr"), Some(&json!(["pwd"])));
        for claim in ["iss", "aud", "sid", "jti", "iat", "exp"] {
            assert!(claims.claim(claim).is_some(), "{claim} missing");
        }
        let lifetime = claims
            .claim("exp")
            .and_then(Value::as_i64)
            .unwrap_or_default()
            - claims
                .claim("iat")
                .and_then(Value::as_i64)
                .unwrap_or_default();
        assert_eq!(lifetime, 900);
    }

    pub async fn a_flow_token_is_single_use_and_dies_after_five_wrong_passwords(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        let flow = server.identify("ann@example.com").await;
        let token = str_of(&flow, "flow_token");
        expect_json(
            server.authenticate(token, PASSWORD, None).await,
            StatusCode::OK,
        )
        .await;
        expect_error(
            server.authenticate(token, PASSWORD, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_flow_token",
        )
        .await;

        let flow = server.identify("ann@example.com").await;
        let token = str_of(&flow, "flow_token");
        for _ in 0..5 {
            let response = server.authenticate(token, "wrong password", None).await;
            expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        expect_error(
            server.authenticate(token, PASSWORD, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_flow_token",
        )
        .await;
        expect_error(
            server.authenticate("made-up", PASSWORD, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_flow_token",
        )
        .await;

        let unknown = server.identify("nobody@example.com").await;
        let response = server
            .authenticate(str_of(&unknown, "flow_token"), PASSWORD, None)
            .await;
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }

    pub async fn tenant_selection_happens_only_after_the_right_password(store: Store) {
        let server = Server::start(store).await;
        server.user("two@example.com", &["acme", "globex"]);
        let flow = server.identify("two@example.com").await;
        let token = str_of(&flow, "flow_token");
        expect_error(
            server.authenticate(token, "wrong", None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        let body = expect_error(
            server.authenticate(token, PASSWORD, None).await,
            StatusCode::BAD_REQUEST,
            "tenant_selection_required",
        )
        .await;
        let tenants = body["tenants"].as_array().cloned().unwrap_or_default();
        assert_eq!(tenants.len(), 2);
        expect_error(
            server.authenticate(token, PASSWORD, Some("acme")).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        let globex = tenants
            .iter()
            .find(|t| t["slug"] == "globex")
            .map(|t| str_of(t, "id").to_uppercase());
        let response = server
            .authenticate(token, PASSWORD, globex.as_deref())
            .await;
        let body = expect_json(response, StatusCode::OK).await;
        assert_eq!(body["user"]["tenant_slug"], "globex");
    }

    pub async fn a_disabled_user_gets_account_disabled(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        server.cli_json(&["user", "disable", "--user", "ann@example.com"], None);
        let flow = server.identify("ann@example.com").await;
        let token = str_of(&flow, "flow_token");
        expect_error(
            server.authenticate(token, "wrong", None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        expect_error(
            server.authenticate(token, PASSWORD, None).await,
            StatusCode::FORBIDDEN,
            "account_disabled",
        )
        .await;
    }

    async fn mfa_challenge(server: &Server) -> Value {
        let flow = server.identify("mfa@example.com").await;
        let response = server
            .authenticate(str_of(&flow, "flow_token"), PASSWORD, None)
            .await;
        let body = expect_json(response, StatusCode::OK).await;
        assert_eq!(body["status"], "MFA_REQUIRED", "{body}");
        assert_eq!(body["access_token"], Value::Null);
        assert_eq!(body["refresh_token"], Value::Null);
        assert_eq!(body["user"], Value::Null);
        body
    }

    async fn verify(
        server: &Server,
        challenge: &Value,
        method: &str,
        code: Option<&str>,
    ) -> reqwest::Response {
        let body = json!({
            "mfa_token": challenge["mfa_token"], "user_id": challenge["user_id"],
            "method": method, "code": code,
        });
        server.post("/api/v1/auth/mfa/verify", &body).await
    }

    fn enroll(server: &Server) -> String {
        server.user("mfa@example.com", &["acme"]);
        let totp = server.cli_json(&["mfa", "enroll-totp", "--user", "mfa@example.com"], None);
        assert!(
            totp["otpauth_uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("otpauth://totp/"))
        );
        str_of(&totp, "secret").to_owned()
    }

    pub async fn totp_login_completes_and_refuses_replays(store: Store) {
        let server = Server::start(store).await;
        let secret = enroll(&server);
        let challenge = mfa_challenge(&server).await;
        assert_eq!(challenge["available_methods"], json!(["totp"]));
        let code = totp_now(&secret);
        let body = expect_json(
            verify(&server, &challenge, "totp", Some(&code)).await,
            StatusCode::OK,
        )
        .await;
        assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
        assert_eq!(body["user"]["email"], "mfa@example.com");
        expect_error(
            verify(&server, &challenge, "totp", Some(&code)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_token",
        )
        .await;

        let again = mfa_challenge(&server).await;
        expect_error(
            verify(&server, &again, "totp", Some(&code)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_code",
        )
        .await;
        expect_error(
            verify(&server, &again, "email", Some("123456")).await,
            StatusCode::BAD_REQUEST,
            "mfa_method_unavailable",
        )
        .await;
        expect_error(
            verify(&server, &again, "totp", None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_code",
        )
        .await;
        let mut foreign = again.clone();
        foreign["user_id"] = json!("00000000-0000-4000-8000-000000000000");
        expect_error(
            verify(&server, &foreign, "totp", Some("000000")).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_token",
        )
        .await;
        let next = totp_at(&secret, 1);
        expect_json(
            verify(&server, &again, "totp", Some(&next)).await,
            StatusCode::OK,
        )
        .await;
    }

    pub async fn backup_codes_work_once(store: Store) {
        let server = Server::start(store).await;
        server.user("plain@example.com", &["acme"]);
        let refused = server.cli(
            &["mfa", "backup-codes", "--user", "plain@example.com"],
            None,
        );
        assert_eq!(refused.status.code(), Some(1));
        enroll(&server);
        let codes = server.cli_json(&["mfa", "backup-codes", "--user", "mfa@example.com"], None);
        let codes: Vec<String> = codes["codes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(codes.len(), 10);
        let challenge = mfa_challenge(&server).await;
        assert_eq!(
            challenge["available_methods"],
            json!(["totp", "backup_code"])
        );
        let typed = codes[0].to_uppercase().replace('-', " ");
        expect_json(
            verify(&server, &challenge, "backup_code", Some(&typed)).await,
            StatusCode::OK,
        )
        .await;
        let again = mfa_challenge(&server).await;
        expect_error(
            verify(&server, &again, "backup_code", Some(&codes[0])).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_code",
        )
        .await;
        expect_json(
            verify(&server, &again, "backup_code", Some(&codes[1])).await,
            StatusCode::OK,
        )
        .await;
    }

    pub async fn an_mfa_token_dies_after_five_failures(store: Store) {
        let server = Server::start(store).await;
        let secret = enroll(&server);
        let challenge = mfa_challenge(&server).await;
        for _ in 0..5 {
            expect_error(
                verify(&server, &challenge, "totp", Some("000000")).await,
                StatusCode::UNAUTHORIZED,
                "invalid_mfa_code",
            )
            .await;
        }
        let code = totp_now(&secret);
        expect_error(
            verify(&server, &challenge, "totp", Some(&code)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_mfa_token",
        )
        .await;
    }

    pub async fn one_step_login_keeps_every_rule(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        server.user("two@example.com", &["globex", "initech"]);
        enroll(&server);
        let login = |email: &str, password: &str| json!({ "email": email, "password": password });
        let body = expect_json(
            server
                .post("/api/v1/auth/login", &login("ann@example.com", PASSWORD))
                .await,
            StatusCode::OK,
        )
        .await;
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["access_token", "refresh_token", "user"]);
        let wrong = server
            .post("/api/v1/auth/login", &login("ann@example.com", "nope"))
            .await;
        expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let unknown = server
            .post("/api/v1/auth/login", &login("nobody@example.com", PASSWORD))
            .await;
        expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let several = server
            .post("/api/v1/auth/login", &login("two@example.com", PASSWORD))
            .await;
        let body = expect_error(
            several,
            StatusCode::BAD_REQUEST,
            "tenant_selection_required",
        )
        .await;
        assert_eq!(body["tenants"].as_array().map(Vec::len), Some(2));
        let factor = server
            .post("/api/v1/auth/login", &login("mfa@example.com", PASSWORD))
            .await;
        expect_error(factor, StatusCode::FORBIDDEN, "mfa_required").await;
    }

    pub async fn refresh_rotates_and_reuse_revokes_the_session(store: Store) {
        let server = Server::start_with(
            store,
            &[("PORTAL_AUTH__AUTH__REFRESH_REUSE_GRACE_SECS", "0")],
        )
        .await;
        server.user("ann@example.com", &["acme"]);
        let signed_in = server.sign_in("ann@example.com").await;
        let first = str_of(&signed_in, "refresh_token");
        let response = server.refresh(first).await;
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let rotated = expect_json(response, StatusCode::OK).await;
        let second = str_of(&rotated, "refresh_token");
        assert_ne!(first, second);
        assert!(rotated["access_token"].is_string());
        expect_error(
            server.refresh(first).await,
            StatusCode::UNAUTHORIZED,
            "refresh_token_reused",
        )
        .await;
        expect_error(
            server.refresh(second).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        expect_error(
            server.refresh(first).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        expect_error(
            server.refresh("unknown").await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }

    pub async fn concurrent_refreshes_agree_on_one_successor(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        let signed_in = server.sign_in("ann@example.com").await;
        let token = str_of(&signed_in, "refresh_token").to_owned();
        let requests = (0..8).map(|_| server.refresh(&token));
        let mut successors = Vec::new();
        for response in futures::future::join_all(requests).await {
            let body = expect_json(response, StatusCode::OK).await;
            successors.push(str_of(&body, "refresh_token").to_owned());
        }
        successors.dedup();
        assert_eq!(successors.len(), 1, "{successors:?}");
        expect_json(server.refresh(&successors[0]).await, StatusCode::OK).await;
    }

    pub async fn logout_always_answers_200_and_ends_the_session(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        let signed_in = server.sign_in("ann@example.com").await;
        let logout = |auth: Option<String>| {
            let mut request = server
                .http
                .post(format!("{}/api/v1/auth/logout", server.base));
            if let Some(auth) = auth {
                request = request.header("Authorization", auth);
            }
            request.send()
        };
        for header in [
            None,
            Some("Bearer garbage".to_owned()),
            Some("Basic abc".to_owned()),
        ] {
            let response = logout(header).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                expect_json(response, StatusCode::OK).await,
                json!({"detail": "Logged out"})
            );
        }
        expect_json(
            server.refresh(str_of(&signed_in, "refresh_token")).await,
            StatusCode::OK,
        )
        .await;

        let other = server.sign_in("ann@example.com").await;
        let bearer = format!("Bearer {}", str_of(&other, "access_token"));
        let response = logout(Some(bearer)).await.unwrap_or_else(|e| panic!("{e}"));
        expect_json(response, StatusCode::OK).await;
        expect_error(
            server.refresh(str_of(&other, "refresh_token")).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }

    pub async fn admin_changes_revoke_sessions_at_once(store: Store) {
        let server = Server::start(store).await;
        server.user("ann@example.com", &["acme", "globex"]);
        let acme = server.cli_json(
            &["tenant", "create", "--name", "Other", "--slug", "other"],
            None,
        );
        assert_eq!(acme["slug"], "other");

        let server = &server;
        let sign_in_to = |slug: &'static str| async move {
            let flow = server.identify("ann@example.com").await;
            let tenant = flow["tenants"]
                .as_array()
                .and_then(|ts| ts.iter().find(|t| t["slug"] == slug).cloned());
            let tenant = tenant.map(|t| str_of(&t, "id").to_owned());
            let response = server
                .authenticate(str_of(&flow, "flow_token"), PASSWORD, tenant.as_deref())
                .await;
            str_of(
                &expect_json(response, StatusCode::OK).await,
                "refresh_token",
            )
            .to_owned()
        };
        let in_acme = sign_in_to("acme").await;
        let in_globex = sign_in_to("globex").await;
        server.cli_json(
            &[
                "user",
                "suspend-tenant",
                "--user",
                "ann@example.com",
                "--tenant",
                "acme",
            ],
            None,
        );
        expect_error(
            server.refresh(&in_acme).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        let in_globex = str_of(
            &expect_json(server.refresh(&in_globex).await, StatusCode::OK).await,
            "refresh_token",
        )
        .to_owned();

        let pending = server.identify("ann@example.com").await;
        server.cli_json(
            &[
                "user",
                "set-password",
                "--user",
                "ann@example.com",
                "--password-stdin",
            ],
            Some("another password 2\r\n"),
        );
        expect_error(
            server.refresh(&in_globex).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        let response = server
            .authenticate(str_of(&pending, "flow_token"), "another password 2", None)
            .await;
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_flow_token").await;

        let stranger = [
            "user",
            "suspend-tenant",
            "--user",
            "ann@example.com",
            "--tenant",
            "other",
        ];
        assert_eq!(server.cli(&stranger, None).status.code(), Some(1));
        let output = server.cli(&["user", "disable", "--user", "nobody@example.com"], None);
        assert_eq!(output.status.code(), Some(1));
        let output = server.cli(&["user", "frobnicate"], None);
        assert_eq!(output.status.code(), Some(2));
        let output = server.cli(
            &[
                "user",
                "create",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            Some("long enough pw"),
        );
        assert_eq!(output.status.code(), Some(2));
        let json_after = server.cli(&["tenant", "create", "--name", "Late", "--json"], None);
        let parsed: Value = serde_json::from_slice(&json_after.stdout).unwrap_or(Value::Null);
        assert_eq!(parsed["slug"], "late");
    }

    pub async fn data_survives_a_restart(store: Store) {
        let mut server = Server::start(store).await;
        server.user("ann@example.com", &["acme"]);
        let signed_in = server.sign_in("ann@example.com").await;
        let jwks_before = server
            .get("/.well-known/jwks.json")
            .await
            .text()
            .await
            .unwrap_or_default();
        server.restart().await;
        let jwks_after = server
            .get("/.well-known/jwks.json")
            .await
            .text()
            .await
            .unwrap_or_default();
        assert_eq!(jwks_before, jwks_after, "the dev signing key must be kept");
        expect_json(
            server.refresh(str_of(&signed_in, "refresh_token")).await,
            StatusCode::OK,
        )
        .await;
    }
}
