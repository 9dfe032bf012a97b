//! How request bodies are refused: the 413, 415 and 422 rules of `API.md`,
//! their order, and the pydantic-style 422 body, through the real routes.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use actix_web::http::Method;
use actix_web::http::header::CONTENT_LENGTH;
use portal_auth_adapters_http::HttpSettings;
use serde_json::{Value, json};
use support::{PASSWORD, app, app_with, post, post_json, request, send, world};

const IDENTIFY: &str = "/api/v1/auth/identify";
const AUTHENTICATE: &str = "/api/v1/auth/authenticate";
const LOGIN: &str = "/api/v1/auth/login";
const MFA_VERIFY: &str = "/api/v1/auth/mfa/verify";
const REFRESH: &str = "/api/v1/auth/refresh";

fn error(field: &str, kind: &str, msg: &str) -> Value {
    json!({"loc": ["body", field], "msg": msg, "type": kind})
}

fn missing(field: &str) -> Value {
    error(field, "missing", "Field required")
}

fn not_a_string(field: &str) -> Value {
    error(field, "string_type", "Input should be a valid string")
}

#[actix_web::test]
async fn an_absent_required_field_is_missing() {
    let w = world();
    let app = app(&w).await;
    let reply = post_json(&app, IDENTIFY, &json!({})).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json, json!({"detail": [missing("email")]}));
}

#[actix_web::test]
async fn every_missing_field_is_listed_in_schema_order() {
    let w = world();
    let app = app(&w).await;
    let expected = [
        (
            AUTHENTICATE,
            vec![missing("flow_token"), missing("password")],
        ),
        (LOGIN, vec![missing("email"), missing("password")]),
        (
            MFA_VERIFY,
            vec![missing("mfa_token"), missing("user_id"), missing("method")],
        ),
        (REFRESH, vec![missing("refresh_token")]),
    ];
    for (path, errors) in expected {
        let reply = post_json(&app, path, &json!({})).await;
        assert_eq!(reply.status, 422, "{path}");
        assert_eq!(reply.json, json!({ "detail": errors }), "{path}");
    }
}

#[actix_web::test]
async fn errors_follow_schema_order_not_body_order() {
    let w = world();
    let app = app(&w).await;
    let body = json!({"trust_device": "perhaps", "code": 7, "method": null, "mfa_token": []});
    let reply = post_json(&app, MFA_VERIFY, &body).await;
    assert_eq!(
        reply.json["detail"],
        json!([
            not_a_string("mfa_token"),
            missing("user_id"),
            not_a_string("method"),
            not_a_string("code"),
            error(
                "trust_device",
                "bool_type",
                "Input should be a valid boolean"
            ),
        ])
    );
}

#[actix_web::test]
async fn a_string_field_takes_only_a_string_and_null_is_not_one() {
    let w = world();
    let app = app(&w).await;
    for value in [
        json!(null),
        json!(1),
        json!(true),
        json!(["t"]),
        json!({"t": 1}),
    ] {
        let reply = post_json(&app, REFRESH, &json!({ "refresh_token": value })).await;
        assert_eq!(reply.status, 422, "{value}");
        assert_eq!(reply.json["detail"], json!([not_a_string("refresh_token")]));
    }
}

#[actix_web::test]
async fn a_nullable_optional_string_accepts_null_but_not_other_types() {
    let w = world();
    let app = app(&w).await;
    let null = json!({"flow_token": "x", "tenant_id": null, "password": "p"});
    assert_eq!(post_json(&app, AUTHENTICATE, &null).await.status, 401);
    let number = json!({"flow_token": "x", "tenant_id": 5, "password": "p"});
    let reply = post_json(&app, AUTHENTICATE, &number).await;
    assert_eq!(reply.json["detail"], json!([not_a_string("tenant_id")]));
}

#[actix_web::test]
async fn an_invalid_email_is_a_value_error_with_the_reason() {
    let w = world();
    let app = app(&w).await;
    for (email, reason) in [
        ("plain", "An email address must have an @-sign."),
        (
            "a@localhost",
            "The part after the @-sign is not valid. It should have a period.",
        ),
        (
            "a..b@example.com",
            "An email address cannot have a period at the start, at the end or twice in a row before the @-sign.",
        ),
    ] {
        let reply = post_json(&app, IDENTIFY, &json!({ "email": email })).await;
        let msg = format!("value is not a valid email address: {reason}");
        assert_eq!(reply.status, 422, "{email}");
        assert_eq!(
            reply.json["detail"],
            json!([error("email", "value_error", &msg)])
        );
    }
    let reply = post_json(&app, LOGIN, &json!({"email": 1, "password": "p"})).await;
    assert_eq!(reply.json["detail"], json!([not_a_string("email")]));
}

#[actix_web::test]
async fn a_password_over_1024_characters_is_too_long_and_never_echoed() {
    let w = world();
    let app = app(&w).await;
    let secret = "sécret".repeat(200);
    let body = json!({"email": "a@example.com", "password": secret});
    let reply = post_json(&app, LOGIN, &body).await;
    assert_eq!(reply.status, 422);
    let msg = "String should have at most 1024 characters";
    assert_eq!(
        reply.json["detail"],
        json!([error("password", "string_too_long", msg)])
    );
    assert!(!reply.text.contains("sécret"));

    let exactly = json!({"email": "a@example.com", "password": "é".repeat(1024)});
    assert_eq!(post_json(&app, LOGIN, &exactly).await.status, 401);
}

#[actix_web::test]
async fn validation_errors_carry_only_loc_msg_and_type() {
    let w = world();
    let app = app(&w).await;
    let body = json!({"email": "not-an-email", "password": ["hunter2"]});
    let reply = post_json(&app, LOGIN, &body).await;
    for entry in reply.json["detail"].as_array().unwrap() {
        let mut keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["loc", "msg", "type"]);
    }
    assert!(!reply.text.contains("hunter2") && !reply.text.contains("not-an-email"));
}

#[actix_web::test]
async fn malformed_json_is_located_by_character_as_python_does() {
    let w = world();
    let app = app(&w).await;
    for (body, position) in [
        ("{\"email\": }", 10),
        ("{\"email\": \"é@x.org\"", 19),
        ("{\"email\": \"abc", 10),
        ("{\"email\": tru}", 10),
        ("{\"email\": \"a@b.co\",}", 19),
        ("{\"email\" \"a@b.co\"}", 9),
        ("{\"email\": \"a@b.co\"} trailing", 20),
        ("   ", 3),
    ] {
        let reply = send(&app, post(IDENTIFY, body).to_request()).await;
        assert_eq!(reply.status, 422, "{body}");
        assert_eq!(
            reply.json,
            json!({"detail": [{"loc": ["body", position], "msg": "JSON decode error", "type": "json_invalid"}]}),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn invalid_utf8_is_malformed_json_at_the_first_bad_byte() {
    let w = world();
    let app = app(&w).await;
    let mut body = "{\"email\": \"ü".as_bytes().to_vec();
    body.extend([0xff, b'"', b'}']);
    let req = actix_web::test::TestRequest::post()
        .uri(IDENTIFY)
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
        .to_request();
    let reply = send(&app, req).await;
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", 12]));
    assert_eq!(reply.json["detail"][0]["type"], "json_invalid");
}

#[actix_web::test]
async fn an_empty_body_is_missing_and_a_non_object_is_refused_whole() {
    let w = world();
    let app = app(&w).await;
    let reply = send(&app, post(REFRESH, "").to_request()).await;
    assert_eq!(reply.status, 422);
    assert_eq!(
        reply.json,
        json!({"detail": [{"loc": ["body"], "msg": "Field required", "type": "missing"}]})
    );
    for body in ["[]", "[{\"refresh_token\": \"t\"}]", "\"t\"", "42", "false"] {
        let reply = send(&app, post(REFRESH, body).to_request()).await;
        assert_eq!(reply.status, 422, "{body}");
        assert_eq!(
            reply.json,
            json!({"detail": [{"loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "model_attributes_type"}]}),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn the_last_repeated_key_wins_and_undeclared_fields_are_ignored() {
    let w = world();
    let app = app(&w).await;
    let body = r#"{"refresh_token": 1, "admin": true, "refresh_token": "unknown"}"#;
    let reply = send(&app, post(REFRESH, body).to_request()).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.code(), "invalid_refresh_token");

    let body = r#"{"refresh_token": "unknown", "refresh_token": null}"#;
    let reply = send(&app, post(REFRESH, body).to_request()).await;
    assert_eq!(reply.json["detail"], json!([not_a_string("refresh_token")]));
}

#[actix_web::test]
async fn trust_device_takes_pydantic_lax_booleans_and_nothing_else() {
    let w = world();
    let app = app(&w).await;
    let accepted = [
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(0.0),
        json!(1.0),
        json!("true"),
        json!("FALSE"),
        json!("Yes"),
        json!("no"),
        json!("ON"),
        json!("off"),
        json!("t"),
        json!("F"),
        json!("y"),
        json!("N"),
        json!("1"),
        json!("0"),
    ];
    for value in accepted {
        let body =
            json!({"mfa_token": "m", "user_id": "u", "method": "totp", "trust_device": value});
        let reply = post_json(&app, MFA_VERIFY, &body).await;
        assert_eq!(reply.code(), "invalid_mfa_token", "{value}");
    }
    let refused = [
        json!(2),
        json!(-1),
        json!(1.5),
        json!(null),
        json!(""),
        json!("maybe"),
        json!(" true"),
        json!("2"),
        json!([true]),
        json!({}),
    ];
    for value in refused {
        let body =
            json!({"mfa_token": "m", "user_id": "u", "method": "totp", "trust_device": value});
        let reply = post_json(&app, MFA_VERIFY, &body).await;
        assert_eq!(reply.status, 422, "{value}");
        assert_eq!(
            reply.json["detail"],
            json!([error(
                "trust_device",
                "bool_type",
                "Input should be a valid boolean"
            )])
        );
    }
}

#[actix_web::test]
async fn json_content_types_are_accepted_in_any_case_with_parameters() {
    let w = world();
    let app = app(&w).await;
    for content_type in [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "Application/Json;charset=UTF-8",
    ] {
        let req = actix_web::test::TestRequest::post()
            .uri(IDENTIFY)
            .insert_header(("content-type", content_type))
            .set_payload(r#"{"email": "a@example.com"}"#)
            .to_request();
        assert_eq!(send(&app, req).await.status, 200, "{content_type}");
    }
}

#[actix_web::test]
async fn other_content_types_or_none_are_415() {
    let w = world();
    let app = app(&w).await;
    let types = [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/merge-patch+json"),
        None,
    ];
    for content_type in types {
        let mut req = actix_web::test::TestRequest::post().uri(LOGIN);
        if let Some(content_type) = content_type {
            req = req.insert_header(("content-type", content_type));
        }
        let req = req.set_payload(r#"{"email": "a@example.com", "password": "p"}"#);
        let reply = send(&app, req.to_request()).await;
        assert_eq!(reply.status, 415, "{content_type:?}");
        assert_eq!(reply.code(), "unsupported_media_type");
        assert!(reply.json["detail"].is_string());
    }
}

#[actix_web::test]
async fn a_body_of_exactly_16_kib_is_read_and_one_byte_more_is_413() {
    let w = world();
    let app = app(&w).await;
    let padded = |len: usize| {
        let head = r#"{"email": "a@example.com", "pad": ""#;
        let tail = r#""}"#;
        format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
    };
    let exact = padded(16 * 1024);
    assert_eq!(exact.len(), 16_384);
    assert_eq!(
        send(&app, post(IDENTIFY, exact).to_request()).await.status,
        200
    );

    let reply = send(&app, post(IDENTIFY, padded(16 * 1024 + 1)).to_request()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), "payload_too_large");
}

#[actix_web::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let w = world();
    let app = app(&w).await;
    let req = post(IDENTIFY, r#"{"email": "a@example.com"}"#)
        .insert_header((CONTENT_LENGTH, 1_000_000))
        .to_request();
    let reply = send(&app, req).await;
    assert_eq!(reply.status, 413);
}

#[actix_web::test]
async fn an_undeclared_length_is_cut_off_once_it_passes_the_limit() {
    let w = world();
    let app = app(&w).await;
    let mut req = post(
        IDENTIFY,
        format!("{{\"email\": \"{}\"}}", "a".repeat(20_000)),
    )
    .to_request();
    req.headers_mut().remove(CONTENT_LENGTH);
    let reply = send(&app, req).await;
    assert_eq!(reply.status, 413);
}

#[actix_web::test]
async fn the_limit_is_a_setting() {
    let w = world();
    let settings = HttpSettings {
        max_body_bytes: 64,
        ..HttpSettings::default()
    };
    let app = app_with(&w, settings).await;
    let body = json!({"email": "a@example.com", "pad": "x".repeat(64)});
    assert_eq!(post_json(&app, IDENTIFY, &body).await.status, 413);
}

#[actix_web::test]
async fn refusals_come_in_the_order_405_413_415_422() {
    let w = world();
    let app = app(&w).await;
    let big = "{".repeat(20_000);

    let wrong_everything = request(Method::PUT, LOGIN)
        .insert_header(("content-type", "text/plain"))
        .set_payload(big.clone());
    assert_eq!(send(&app, wrong_everything.to_request()).await.status, 405);

    let big_and_plain = actix_web::test::TestRequest::post()
        .uri(LOGIN)
        .insert_header(("content-type", "text/plain"))
        .set_payload(big);
    assert_eq!(send(&app, big_and_plain.to_request()).await.status, 413);

    let plain_and_malformed = actix_web::test::TestRequest::post()
        .uri(LOGIN)
        .insert_header(("content-type", "text/plain"))
        .set_payload("{");
    assert_eq!(
        send(&app, plain_and_malformed.to_request()).await.status,
        415
    );

    assert_eq!(send(&app, post(LOGIN, "{").to_request()).await.status, 422);
}

#[actix_web::test]
async fn a_compressed_body_is_refused_as_unsupported() {
    let w = world();
    let app = app(&w).await;
    let req = post(IDENTIFY, "\u{1f}\u{8b}").insert_header(("content-encoding", "gzip"));
    let reply = send(&app, req.to_request()).await;
    assert_eq!(reply.status, 415);
}

#[actix_web::test]
async fn logout_reads_no_body_so_neither_size_nor_type_matters() {
    let w = world();
    let app = app(&w).await;
    let req = actix_web::test::TestRequest::post()
        .uri("/api/v1/auth/logout")
        .insert_header(("content-type", "text/plain"))
        .set_payload("x".repeat(100_000));
    let reply = send(&app, req.to_request()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, json!({"detail": "Logged out"}));
}

#[actix_web::test]
async fn validation_errors_do_not_spend_flow_token_attempts() {
    let w = world();
    w.user_in("ann@example.com", &["acme"]).await;
    let app = app(&w).await;
    let flow = post_json(&app, IDENTIFY, &json!({"email": "ann@example.com"})).await;
    let flow_token = flow.json["flow_token"].as_str().unwrap();
    for _ in 0..8 {
        let bad = json!({"flow_token": flow_token, "password": 12345});
        assert_eq!(post_json(&app, AUTHENTICATE, &bad).await.status, 422);
    }
    let good = json!({"flow_token": flow_token, "password": PASSWORD});
    let reply = post_json(&app, AUTHENTICATE, &good).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["status"], "SUCCESS");
}
