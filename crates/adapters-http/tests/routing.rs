//! Paths, methods and the service endpoints: 404 and 405 in JSON, HEAD on
//! GET paths, probes, the key set, and headers every answer carries.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use std::sync::Arc;

use actix_web::http::Method;
use portal_auth_ports::{MockStoreHealth, StoreError};
use serde_json::json;
use support::{app, request, send, world, world_over};

const AUTH_PATHS: [&str; 6] = [
    "/api/v1/auth/authenticate",
    "/api/v1/auth/identify",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/mfa/verify",
    "/api/v1/auth/refresh",
];
const GET_PATHS: [&str; 4] = [
    "/.well-known/jwks.json",
    "/healthz",
    "/readyz",
    "/openapi.json",
];

#[actix_web::test]
async fn unknown_paths_are_a_json_404() {
    let w = world();
    let app = app(&w).await;
    for path in [
        "/",
        "/nope",
        "/api/v1/auth",
        "/api/v1/auth/",
        "/api/v1/auth/identify/",
        "/api/v1/auth/mfa",
    ] {
        for method in [Method::GET, Method::POST] {
            let reply = send(&app, request(method.clone(), path).to_request()).await;
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(
                reply.json,
                json!({"detail": "Not Found", "code": "not_found"})
            );
            assert_eq!(reply.header("content-type"), Some("application/json"));
        }
    }
}

#[actix_web::test]
async fn the_auth_endpoints_answer_other_methods_with_405_and_allow_post() {
    let w = world();
    let app = app(&w).await;
    for path in AUTH_PATHS {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            let reply = send(&app, request(method.clone(), path).to_request()).await;
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.header("allow"), Some("POST"));
            if method != Method::HEAD {
                assert_eq!(
                    reply.json,
                    json!({"detail": "Method Not Allowed", "code": "method_not_allowed"})
                );
            }
        }
    }
}

#[actix_web::test]
async fn get_paths_answer_head_and_refuse_post_with_405() {
    let w = world();
    let app = app(&w).await;
    for path in GET_PATHS {
        let head = send(&app, request(Method::HEAD, path).to_request()).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        let post = send(&app, request(Method::POST, path).to_request()).await;
        assert_eq!(post.status, 405, "POST {path}");
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
        assert_eq!(post.json["code"], "method_not_allowed");
    }
}

#[actix_web::test]
async fn healthz_says_ok() {
    let w = world();
    let app = app(&w).await;
    let reply = send(&app, request(Method::GET, "/healthz").to_request()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, json!({"status": "ok"}));
}

#[actix_web::test]
async fn readyz_follows_the_store() {
    let w = world();
    let app = app(&w).await;
    let reply = send(&app, request(Method::GET, "/readyz").to_request()).await;
    assert_eq!(reply.status, 200);

    let mut health = MockStoreHealth::new();
    health
        .expect_ping()
        .returning(|| Err(StoreError::Unavailable("db down".into())));
    let repos = portal_auth_ports::Repositories {
        health: Arc::new(health),
        ..w.repos.clone()
    };
    let down = world_over(repos);
    let down_app = support::app(&down).await;
    let reply = send(&down_app, request(Method::GET, "/readyz").to_request()).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json["code"], "not_ready");
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert!(!reply.text.contains("db down"));
}

#[actix_web::test]
async fn the_key_set_holds_the_signing_key() {
    let w = world();
    let app = app(&w).await;
    let reply = send(
        &app,
        request(Method::GET, "/.well-known/jwks.json").to_request(),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let key = &reply.json["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert!(
        key.get("d").is_none(),
        "the private part must never be published"
    );
}

#[actix_web::test]
async fn every_answer_names_its_request_and_forbids_sniffing() {
    let w = world();
    let app = app(&w).await;
    for (method, path) in [
        (Method::GET, "/healthz"),
        (Method::GET, "/nope"),
        (Method::PUT, "/api/v1/auth/login"),
    ] {
        let reply = send(&app, request(method, path).to_request()).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        let id = reply.header("x-request-id").unwrap_or("");
        assert_eq!(id.len(), 36, "{path}");
    }
}

#[actix_web::test]
async fn refusals_under_the_auth_prefix_are_not_cacheable_either() {
    let w = world();
    let app = app(&w).await;
    for (method, path) in [
        (Method::GET, "/api/v1/auth/login"),
        (Method::POST, "/api/v1/auth/nope"),
    ] {
        let reply = send(&app, request(method, path).to_request()).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
    }
}
