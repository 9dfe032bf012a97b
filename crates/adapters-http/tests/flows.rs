//! The six endpoints end to end over a real `AuthService`: shapes, statuses,
//! headers and the trusted-device cookie.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use std::sync::Arc;

use actix_web::test::TestRequest;
use portal_auth_ports::{MockUserRepository, StoreError};
use serde_json::{Value, json};
use support::{PASSWORD, Reply, app, post, post_json, send, world, world_over};

const IDENTIFY: &str = "/api/v1/auth/identify";
const AUTHENTICATE: &str = "/api/v1/auth/authenticate";
const LOGIN: &str = "/api/v1/auth/login";
const LOGOUT: &str = "/api/v1/auth/logout";
const MFA_VERIFY: &str = "/api/v1/auth/mfa/verify";
const REFRESH: &str = "/api/v1/auth/refresh";

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn assert_no_store(reply: &Reply) {
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{reply:?}");
}

#[actix_web::test]
async fn identify_answers_an_unknown_email_like_a_single_tenant_user() {
    let w = world();
    w.user_in("one@example.com", &["acme"]).await;
    let app = app(&w).await;
    let known = post_json(&app, IDENTIFY, &json!({"email": "one@example.com"})).await;
    let unknown = post_json(&app, IDENTIFY, &json!({"email": "nobody@example.com"})).await;
    for reply in [&known, &unknown] {
        assert_eq!(reply.status, 200);
        assert_eq!(
            keys(&reply.json),
            ["flow_token", "tenants", "requires_tenant_selection"]
        );
        assert_eq!(reply.json["tenants"], json!([]));
        assert_eq!(reply.json["requires_tenant_selection"], false);
        assert_no_store(reply);
    }
    let token_len = |r: &Reply| r.json["flow_token"].as_str().map(str::len);
    assert_eq!(token_len(&known), token_len(&unknown));
    let mut known_headers: Vec<_> = known
        .headers
        .keys()
        .filter(|k| *k != "x-request-id")
        .collect();
    let mut unknown_headers: Vec<_> = unknown
        .headers
        .keys()
        .filter(|k| *k != "x-request-id")
        .collect();
    known_headers.sort_by_key(|k| k.as_str());
    unknown_headers.sort_by_key(|k| k.as_str());
    assert_eq!(known_headers, unknown_headers);
}

#[actix_web::test]
async fn identify_lists_tenants_with_id_slug_and_name_when_there_is_a_choice() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let app = app(&w).await;
    let reply = post_json(&app, IDENTIFY, &json!({"email": " TWO@Example.com"})).await;
    assert_eq!(reply.json["requires_tenant_selection"], true);
    let tenants = reply.json["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 2);
    assert_eq!(keys(&tenants[0]), ["id", "slug", "name"]);
    assert_eq!(tenants[0]["id"], w.tenant_id("acme").await);
    assert_eq!(tenants[0]["slug"], "acme");
    assert_eq!(tenants[0]["name"], "Tenant acme");
}

#[actix_web::test]
async fn authenticate_signs_in_with_every_key_present_in_seed_order() {
    let w = world();
    let user_id = w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let flow = post_json(&app, IDENTIFY, &json!({"email": "ann@example.com"})).await;
    let body = json!({"flow_token": flow.json["flow_token"], "password": PASSWORD});
    let reply = post_json(&app, AUTHENTICATE, &body).await;

    assert_eq!(reply.status, 200);
    assert_no_store(&reply);
    assert_eq!(
        keys(&reply.json),
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
    assert_eq!(reply.json["status"], "SUCCESS");
    assert!(reply.json["access_token"].is_string() && reply.json["refresh_token"].is_string());
    assert_eq!(reply.json["mfa_token"], Value::Null);
    assert_eq!(reply.json["user_id"], Value::Null);
    assert_eq!(reply.json["available_methods"], Value::Null);
    assert_eq!(
        reply.json["user"],
        json!({
            "id": user_id,
            "email": "ann@example.com",
            "tenant_id": w.tenant_id("acme").await,
            "tenant_slug": "acme",
            "tenant_name": "Tenant acme",
        })
    );
    assert_eq!(reply.header("set-cookie"), None);
}

#[actix_web::test]
async fn authenticate_refuses_a_bad_flow_token_and_a_wrong_password() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let reply = post_json(
        &app,
        AUTHENTICATE,
        &json!({"flow_token": "nope", "password": "p"}),
    )
    .await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_flow_token"));
    assert_no_store(&reply);

    let flow = post_json(&app, IDENTIFY, &json!({"email": "ann@example.com"})).await;
    let body = json!({"flow_token": flow.json["flow_token"], "password": "wrong password"});
    let reply = post_json(&app, AUTHENTICATE, &body).await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_credentials"));
    assert_eq!(keys(&reply.json), ["detail", "code"]);
}

#[actix_web::test]
async fn a_user_in_several_tenants_must_choose_one_and_may_retry_with_the_same_flow() {
    let w = world();
    w.user_in("two@example.com", &["acme", "globex"]).await;
    let app = app(&w).await;
    let flow = post_json(&app, IDENTIFY, &json!({"email": "two@example.com"})).await;
    let flow_token = flow.json["flow_token"].clone();

    let reply = post_json(
        &app,
        AUTHENTICATE,
        &json!({"flow_token": flow_token, "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, "tenant_selection_required")
    );
    assert_eq!(keys(&reply.json), ["detail", "code", "tenants"]);
    assert_eq!(reply.json["tenants"][1]["slug"], "globex");

    let globex = w.tenant_id("globex").await.to_uppercase();
    let body = json!({"flow_token": flow_token, "password": PASSWORD, "tenant_id": globex});
    let reply = post_json(&app, AUTHENTICATE, &body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["user"]["tenant_slug"], "globex");
}

#[actix_web::test]
async fn login_answers_tokens_and_user_only() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let body = json!({"email": "Ann@Example.com", "password": PASSWORD});
    let reply = post_json(&app, LOGIN, &body).await;
    assert_eq!(reply.status, 200);
    assert_no_store(&reply);
    assert_eq!(keys(&reply.json), ["access_token", "refresh_token", "user"]);
    assert_eq!(
        keys(&reply.json["user"]),
        ["id", "email", "tenant_id", "tenant_slug", "tenant_name"]
    );

    let wrong = json!({"email": "ann@example.com", "password": "nope"});
    let reply = post_json(&app, LOGIN, &wrong).await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_credentials"));
}

#[actix_web::test]
async fn login_never_bypasses_a_second_factor() {
    let w = world();
    w.user_in("mfa@example.com", &["acme"]).await;
    w.enrol_totp("mfa@example.com").await;
    let app = app(&w).await;
    let reply = post_json(
        &app,
        LOGIN,
        &json!({"email": "mfa@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!((reply.status, reply.code()), (403, "mfa_required"));
}

#[actix_web::test]
async fn a_disabled_account_is_403() {
    let w = world();
    w.user_in("off@example.com", &["acme"]).await;
    w.admin.disable_user("off@example.com").await.unwrap();
    let app = app(&w).await;
    let reply = post_json(
        &app,
        LOGIN,
        &json!({"email": "off@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.code(), "account_disabled");
}

/// Identify and authenticate a TOTP user, returning the MFA_REQUIRED body.
async fn pending_mfa<S, B>(app: &S, email: &str) -> Reply
where
    S: actix_web::dev::Service<
            support::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let flow = post_json(app, IDENTIFY, &json!({ "email": email })).await;
    let body = json!({"flow_token": flow.json["flow_token"], "password": PASSWORD});
    post_json(app, AUTHENTICATE, &body).await
}

#[actix_web::test]
async fn a_second_factor_is_asked_for_then_verified() {
    let w = world();
    let user_id = w.user_in("mfa@example.com", &["acme"]).await;
    let secret = w.enrol_totp("mfa@example.com").await;
    let app = app(&w).await;

    let pending = pending_mfa(&app, "mfa@example.com").await;
    assert_eq!(pending.status, 200);
    assert_eq!(pending.json["status"], "MFA_REQUIRED");
    assert_eq!(pending.json["user_id"], user_id);
    assert_eq!(pending.json["available_methods"], json!(["totp"]));
    for absent in ["access_token", "refresh_token", "user"] {
        assert_eq!(pending.json[absent], Value::Null, "{absent}");
    }

    let body = json!({
        "mfa_token": pending.json["mfa_token"],
        "user_id": user_id,
        "method": "totp",
        "code": w.totp_now(&secret),
    });
    let reply = post_json(&app, MFA_VERIFY, &body).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_no_store(&reply);
    assert_eq!(keys(&reply.json), ["access_token", "refresh_token", "user"]);
    assert_eq!(reply.header("set-cookie"), None);

    let replay = post_json(&app, MFA_VERIFY, &body).await;
    assert_eq!((replay.status, replay.code()), (401, "invalid_mfa_token"));
}

#[actix_web::test]
async fn mfa_verify_refuses_other_methods_and_wrong_codes() {
    let w = world();
    let user_id = w.user_in("mfa@example.com", &["acme"]).await;
    w.enrol_totp("mfa@example.com").await;
    let app = app(&w).await;
    let pending = pending_mfa(&app, "mfa@example.com").await;
    let mfa_token = pending.json["mfa_token"].clone();

    let email = json!({"mfa_token": mfa_token, "user_id": user_id, "method": "email"});
    let reply = post_json(&app, MFA_VERIFY, &email).await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, "mfa_method_unavailable")
    );

    let wrong =
        json!({"mfa_token": mfa_token, "user_id": user_id, "method": "totp", "code": "000000"});
    let reply = post_json(&app, MFA_VERIFY, &wrong).await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_mfa_code"));
}

// TODO: the application does not issue device tokens yet (`SignedIn`'s
// `device_token` is always `None`, and a presented one is ignored), so this
// cannot pass; the cookie's format and parsing are tested in the crate.
#[actix_web::test]
async fn a_trusted_device_cookie_is_set_and_then_skips_the_second_factor() {
    let w = world();
    let user_id = w.user_in("mfa@example.com", &["acme"]).await;
    let secret = w.enrol_totp("mfa@example.com").await;
    let app = app(&w).await;
    let pending = pending_mfa(&app, "mfa@example.com").await;
    let body = json!({
        "mfa_token": pending.json["mfa_token"],
        "user_id": user_id,
        "method": "totp",
        "code": w.totp_now(&secret),
        "trust_device": "yes",
    });
    let reply = post_json(&app, MFA_VERIFY, &body).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let cookie = reply.header("set-cookie").unwrap();
    let attributes = "; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=2592000";
    assert!(
        cookie.starts_with("portal_auth_device=") && cookie.ends_with(attributes),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let flow = post_json(&app, IDENTIFY, &json!({"email": "mfa@example.com"})).await;
    let body = json!({"flow_token": flow.json["flow_token"], "password": PASSWORD});
    let with_cookie =
        post(AUTHENTICATE, body.to_string()).insert_header(("cookie", format!("theme=x; {pair}")));
    let reply = send(&app, with_cookie.to_request()).await;
    assert_eq!(reply.json["status"], "SUCCESS", "{reply:?}");

    let login = json!({"email": "mfa@example.com", "password": PASSWORD});
    let with_cookie = post(LOGIN, login.to_string()).insert_header(("cookie", pair));
    assert_eq!(send(&app, with_cookie.to_request()).await.status, 200);
}

#[actix_web::test]
async fn refresh_rotates_and_a_replay_outside_the_grace_window_is_theft() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let login = post_json(
        &app,
        LOGIN,
        &json!({"email": "ann@example.com", "password": PASSWORD}),
    )
    .await;
    let first = login.json["refresh_token"].clone();

    let reply = post_json(&app, REFRESH, &json!({ "refresh_token": first })).await;
    assert_eq!(reply.status, 200);
    assert_no_store(&reply);
    assert_eq!(keys(&reply.json), ["access_token", "refresh_token"]);
    assert_ne!(reply.json["refresh_token"], first);

    w.tick(60);
    let replay = post_json(&app, REFRESH, &json!({ "refresh_token": first })).await;
    assert_eq!(
        (replay.status, replay.code()),
        (401, "refresh_token_reused")
    );
    let successor = post_json(
        &app,
        REFRESH,
        &json!({"refresh_token": reply.json["refresh_token"]}),
    )
    .await;
    assert_eq!(
        (successor.status, successor.code()),
        (401, "invalid_refresh_token")
    );
}

#[actix_web::test]
async fn logout_with_a_bearer_token_ends_the_session_and_always_says_logged_out() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let login = post_json(
        &app,
        LOGIN,
        &json!({"email": "ann@example.com", "password": PASSWORD}),
    )
    .await;
    let access = login.json["access_token"].as_str().unwrap();

    for authorization in [
        None,
        Some("Basic abc"),
        Some("Bearer not.a.jwt"),
        Some("bearer"),
    ] {
        let mut req = TestRequest::post().uri(LOGOUT);
        if let Some(value) = authorization {
            req = req.insert_header(("authorization", value));
        }
        let reply = send(&app, req.to_request()).await;
        assert_eq!(reply.status, 200, "{authorization:?}");
        assert_eq!(reply.json, json!({"detail": "Logged out"}));
        assert_no_store(&reply);
    }
    let refresh = json!({"refresh_token": login.json["refresh_token"]});
    assert_eq!(post_json(&app, REFRESH, &refresh).await.status, 200);

    let req = TestRequest::post()
        .uri(LOGOUT)
        .insert_header(("authorization", format!("BEARER {access}")));
    assert_eq!(send(&app, req.to_request()).await.status, 200);
    let login_again = post_json(&app, REFRESH, &refresh).await;
    assert_eq!(login_again.status, 401);
}

#[actix_web::test]
async fn an_unreachable_store_is_a_503_that_names_nothing_internal() {
    let mut users = MockUserRepository::new();
    users.expect_find_user_by_email().returning(|_| {
        Err(StoreError::Unavailable(
            "pg-primary.internal:5432 refused".into(),
        ))
    });
    let base = world();
    let repos = portal_auth_ports::Repositories {
        users: Arc::new(users),
        ..base.repos.clone()
    };
    let w = world_over(repos);
    let app = app(&w).await;
    let reply = post_json(&app, IDENTIFY, &json!({"email": "ann@example.com"})).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.code(), "service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(keys(&reply.json), ["detail", "code"]);
    assert!(!reply.text.contains("pg-primary") && !reply.text.contains("5432"));
}
