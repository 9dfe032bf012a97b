//! What the request logging records, and what it must never record.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use std::io;
use std::sync::{Arc, Mutex};

use actix_web::test::TestRequest;
use serde_json::json;
use support::{PASSWORD, app, post, send, world};
use tracing_subscriber::fmt::MakeWriter;

/// Collects formatted log lines in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[actix_web::test]
async fn each_request_is_logged_with_route_status_and_latency_but_no_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = world();
    w.user_in("secret.person@example.com", &["acme"]).await;
    let app = app(&w).await;
    let body = json!({"email": "secret.person@example.com", "password": PASSWORD});
    let login = send(
        &app,
        post("/api/v1/auth/login", body.to_string()).to_request(),
    )
    .await;
    assert_eq!(login.status, 200);
    let access = login.json["access_token"].as_str().unwrap().to_owned();
    let refresh = login.json["refresh_token"].as_str().unwrap().to_owned();
    let logout = TestRequest::post()
        .uri("/api/v1/auth/logout")
        .insert_header(("authorization", format!("Bearer {access}")))
        .insert_header(("cookie", "portal_auth_device=device-secret"));
    send(&app, logout.to_request()).await;
    let unknown = TestRequest::get().uri("/private/user-typed-path?token=abc");
    send(&app, unknown.to_request()).await;

    let logs = captured.text();
    assert!(logs.contains("request finished"), "{logs}");
    assert!(logs.contains("route=/api/v1/auth/login"), "{logs}");
    assert!(
        logs.contains("method=POST") && logs.contains("status=200"),
        "{logs}"
    );
    assert!(
        logs.contains("latency_ms=") && logs.contains("request_id="),
        "{logs}"
    );
    assert!(
        logs.contains("route=(unmatched)") && logs.contains("status=404"),
        "{logs}"
    );
    for secret in [
        PASSWORD,
        &access,
        &refresh,
        "device-secret",
        "secret.person",
        "user-typed-path",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into {logs}");
    }
}
