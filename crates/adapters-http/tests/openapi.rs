//! The served OpenAPI document reads as the seed's reference page, plus the
//! statuses the seed leaves out.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use actix_web::http::Method;
use serde_json::{Value, json};
use support::{app, request, send, world};

async fn document() -> Value {
    let w = world();
    let app = app(&w).await;
    let reply = send(&app, request(Method::GET, "/openapi.json").to_request()).await;
    assert_eq!(reply.status, 200);
    reply.json
}

fn operation<'a>(doc: &'a Value, path: &str) -> &'a Value {
    &doc["paths"][path]["post"]
}

fn statuses(op: &Value) -> Vec<&str> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

fn properties(schema: &Value) -> Vec<&str> {
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[actix_web::test]
async fn it_is_openapi_3_with_the_six_paths_under_the_seed_tag() {
    let doc = document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let seed = [
        (
            "/api/v1/auth/authenticate",
            "Authenticate User",
            "Step 2 of login: Verify password and issue tokens.",
        ),
        (
            "/api/v1/auth/identify",
            "Identify User",
            "Step 1 of login: Identify user and return available tenants.",
        ),
        (
            "/api/v1/auth/login",
            "Portal Login",
            "Simple one-step login (backwards compatible).",
        ),
        (
            "/api/v1/auth/logout",
            "Portal Logout",
            "Logout from the user portal.",
        ),
        (
            "/api/v1/auth/mfa/verify",
            "Portal Mfa Verify",
            "Verify MFA code for the portal two-step login flow.",
        ),
        (
            "/api/v1/auth/refresh",
            "Portal Refresh",
            "Refresh access token.",
        ),
    ];
    for (path, summary, description) in seed {
        let op = operation(&doc, path);
        assert_eq!(op["tags"], json!(["Portal Auth"]), "{path}");
        assert_eq!(op["summary"], summary, "{path}");
        assert!(
            op["description"].as_str().unwrap().starts_with(description),
            "{path}"
        );
        assert_eq!(op["security"], json!([]), "{path}");
        assert_eq!(doc["paths"][path].as_object().unwrap().len(), 1, "{path}");
    }
    let identify = operation(&doc, "/api/v1/auth/identify")["description"]
        .as_str()
        .unwrap();
    assert!(identify.contains("\n- Always returns a flow token (even for non-existent users)\n"));
}

#[actix_web::test]
async fn other_paths_stay_outside_the_seed_tag() {
    let doc = document().await;
    for path in [
        "/.well-known/jwks.json",
        "/healthz",
        "/readyz",
        "/openapi.json",
    ] {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path}");
        assert!(
            !op["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("Portal Auth")),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn request_bodies_are_required_json_with_the_seed_schemas() {
    let doc = document().await;
    for (path, name) in [
        ("/api/v1/auth/authenticate", "AuthenticateRequest"),
        ("/api/v1/auth/identify", "IdentifyRequest"),
        (
            "/api/v1/auth/login",
            "scaikey__api__v1__me__auth__LoginRequest",
        ),
        ("/api/v1/auth/mfa/verify", "PortalMFAVerifyRequest"),
        (
            "/api/v1/auth/refresh",
            "scaikey__api__v1__me__auth__RefreshRequest",
        ),
    ] {
        let body = &operation(&doc, path)["requestBody"];
        assert_eq!(body["required"], true, "{path}");
        let reference = format!("#/components/schemas/{name}");
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            reference.as_str()
        );
    }
    assert!(
        operation(&doc, "/api/v1/auth/logout")
            .get("requestBody")
            .is_none()
    );
}

#[actix_web::test]
async fn logout_declares_the_optional_authorization_header() {
    let doc = document().await;
    let parameters = &operation(&doc, "/api/v1/auth/logout")["parameters"];
    assert_eq!(
        parameters,
        &json!([{"name": "authorization", "in": "header", "required": false, "schema": {"type": ["string", "null"]}}])
    );
}

#[actix_web::test]
async fn every_status_an_endpoint_answers_is_declared() {
    let doc = document().await;
    let expected: [(&str, &[&str]); 6] = [
        (
            "/api/v1/auth/authenticate",
            &[
                "200", "400", "401", "403", "413", "415", "422", "429", "500", "503",
            ],
        ),
        (
            "/api/v1/auth/identify",
            &["200", "400", "413", "415", "422", "500", "503"],
        ),
        (
            "/api/v1/auth/login",
            &[
                "200", "400", "401", "403", "413", "415", "422", "429", "500", "503",
            ],
        ),
        ("/api/v1/auth/logout", &["200", "422"]),
        (
            "/api/v1/auth/mfa/verify",
            &[
                "200", "202", "400", "401", "403", "413", "415", "422", "429", "500", "503",
            ],
        ),
        (
            "/api/v1/auth/refresh",
            &["200", "400", "401", "413", "415", "422", "500", "503"],
        ),
    ];
    for (path, codes) in expected {
        let op = operation(&doc, path);
        assert_eq!(statuses(op), codes, "{path}");
        let validation = &op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(validation, "#/components/schemas/HTTPValidationError");
        for code in codes.iter().filter(|c| !["200", "422"].contains(c)) {
            let schema = &op["responses"][code]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                schema, "#/components/schemas/ErrorResponse",
                "{path} {code}"
            );
        }
    }
    let throttled = &operation(&doc, "/api/v1/auth/login")["responses"]["429"];
    assert!(throttled["headers"]["Retry-After"].is_object());
}

#[actix_web::test]
async fn the_components_are_the_seed_schemas_and_the_error_body() {
    let doc = document().await;
    let names: Vec<&str> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "AuthenticateRequest",
            "AuthenticateResponse",
            "ErrorResponse",
            "HTTPValidationError",
            "IdentifyRequest",
            "IdentifyResponse",
            "PortalMFAVerifyRequest",
            "PortalMFAVerifyResponse",
            "ValidationError",
            "scaikey__api__v1__me__auth__LoginRequest",
            "scaikey__api__v1__me__auth__LoginResponse",
            "scaikey__api__v1__me__auth__RefreshRequest",
            "scaikey__api__v1__me__auth__RefreshResponse",
        ]
    );
}

#[actix_web::test]
async fn schemas_have_the_seed_fields_types_and_required_flags() {
    let doc = document().await;
    let nullable = json!(["string", "null"]);
    let fields: [(&str, &[&str], &[&str]); 12] = [
        (
            "AuthenticateRequest",
            &["flow_token", "tenant_id", "password"],
            &["flow_token", "password"],
        ),
        (
            "AuthenticateResponse",
            &[
                "status",
                "access_token",
                "refresh_token",
                "user",
                "mfa_token",
                "user_id",
                "available_methods",
            ],
            &[],
        ),
        ("HTTPValidationError", &["detail"], &[]),
        ("IdentifyRequest", &["email"], &["email"]),
        (
            "IdentifyResponse",
            &["flow_token", "tenants", "requires_tenant_selection"],
            &["flow_token", "tenants", "requires_tenant_selection"],
        ),
        (
            "PortalMFAVerifyRequest",
            &["mfa_token", "user_id", "method", "code", "trust_device"],
            &["mfa_token", "user_id", "method"],
        ),
        (
            "PortalMFAVerifyResponse",
            &["access_token", "refresh_token", "user"],
            &["access_token", "refresh_token", "user"],
        ),
        (
            "ValidationError",
            &["loc", "msg", "type"],
            &["loc", "msg", "type"],
        ),
        (
            "scaikey__api__v1__me__auth__LoginRequest",
            &["email", "password", "tenant_id"],
            &["email", "password"],
        ),
        (
            "scaikey__api__v1__me__auth__LoginResponse",
            &["access_token", "refresh_token", "user"],
            &["access_token", "refresh_token", "user"],
        ),
        (
            "scaikey__api__v1__me__auth__RefreshRequest",
            &["refresh_token"],
            &["refresh_token"],
        ),
        (
            "scaikey__api__v1__me__auth__RefreshResponse",
            &["access_token", "refresh_token"],
            &["access_token"],
        ),
    ];
    for (name, props, required) in fields {
        let schema = schema(&doc, name);
        assert_eq!(properties(schema), props, "{name}");
        let actual: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(actual, required, "{name}");
    }

    let authenticate = schema(&doc, "AuthenticateResponse");
    assert_eq!(
        authenticate["properties"]["status"],
        json!({"type": "string", "default": "SUCCESS"})
    );
    assert_eq!(authenticate["properties"]["mfa_token"]["type"], nullable);
    assert_eq!(
        authenticate["properties"]["available_methods"]["type"],
        json!(["array", "null"])
    );
    let verify = schema(&doc, "PortalMFAVerifyRequest");
    assert_eq!(
        verify["properties"]["trust_device"],
        json!({"type": "boolean", "default": false})
    );
    assert_eq!(verify["properties"]["code"]["type"], nullable);
    for name in [
        "IdentifyRequest",
        "scaikey__api__v1__me__auth__LoginRequest",
    ] {
        assert_eq!(
            schema(&doc, name)["properties"]["email"],
            json!({"type": "string", "format": "email"})
        );
    }
    assert_eq!(
        schema(&doc, "IdentifyResponse")["properties"]["tenants"]["items"]["type"],
        "object"
    );
    let loc = &schema(&doc, "ValidationError")["properties"]["loc"];
    assert_eq!(loc["items"]["oneOf"][0]["type"], "string");
    assert_eq!(loc["items"]["oneOf"][1]["type"], "integer");
}

#[actix_web::test]
async fn the_error_body_has_detail_code_and_optional_tenants() {
    let doc = document().await;
    let error = schema(&doc, "ErrorResponse");
    assert_eq!(properties(error), ["detail", "code", "tenants"]);
    assert_eq!(error["required"], json!(["detail", "code"]));
    assert_eq!(
        properties(&error["properties"]["tenants"]["items"]),
        ["id", "slug", "name"]
    );
}
