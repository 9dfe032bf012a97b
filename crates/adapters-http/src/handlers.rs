//! The six endpoints of the "Portal Auth" tag. Each extracts, converts,
//! calls one use case and maps the result; the `utoipa::path` attribute
//! above it is its entry in the OpenAPI document.
//!
//! Function names are those of the original FastAPI service, so the
//! generated summaries ("Portal Mfa Verify") and operation ids match it.

use actix_web::http::StatusCode;
use actix_web::http::header::SET_COOKIE;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use portal_auth_application::{AuthService, LoginOutcome, MfaOutcome};

use crate::HttpSettings;
use crate::error::ApiError;
use crate::extract::{BearerToken, ClientAddress, DEVICE_COOKIE, DeviceCookie, JsonBody};
use crate::wire::{
    AuthenticateRequest, AuthenticateResponse, ErrorResponse, IdentifyRequest, IdentifyResponse,
    LoginRequest, LoginResponse, LogoutResponse, MfaVerifyRequest, MfaVerifyResponse,
    RefreshRequest, RefreshResponse, ValidationErrors,
};

pub(crate) const TAG: &str = "Portal Auth";

type Service = web::Data<AuthService>;
type Settings = web::Data<HttpSettings>;

/// Authenticate User
///
/// Step 2 of login: Verify password and issue tokens.
///
/// Requires a valid flow_token from the identify step.
/// If user belongs to multiple tenants, tenant_id must be specified.
#[utoipa::path(
    post,
    path = "/api/v1/auth/authenticate",
    tag = TAG,
    operation_id = "authenticate_user_api_v1_auth_authenticate_post",
    request_body = AuthenticateRequest,
    responses(
        (status = 200, description = "Successful Response", body = AuthenticateResponse),
        (status = 400, description = "`tenant_selection_required`, with `tenants`; or `unreadable_body`", body = ErrorResponse),
        (status = 401, description = "`invalid_flow_token` or `invalid_credentials`", body = ErrorResponse),
        (status = 403, description = "`account_disabled`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = ValidationErrors),
        (status = 429, description = "`too_many_attempts`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal_error`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(),
)]
pub(crate) async fn authenticate_user(
    service: Service,
    settings: Settings,
    device: DeviceCookie,
    client: ClientAddress,
    body: JsonBody<AuthenticateRequest>,
) -> Result<HttpResponse, ApiError> {
    let outcome = service
        .authenticate(body.0.into_command(device.0, client.0))
        .await?;

    let device_token = match &outcome {
        LoginOutcome::SignedIn(signed_in) => signed_in.device_token.clone(),
        LoginOutcome::MfaRequired(_) => None,
    };
    let response = AuthenticateResponse::from(outcome);
    Ok(answer(StatusCode::OK, &settings, device_token).json(response))
}

/// Identify User
///
/// Step 1 of login: Identify user and return available tenants.
///
/// This endpoint is designed to be safe against enumeration attacks:
/// - Always returns a flow token (even for non-existent users)
/// - Response format is identical for existing and non-existing users
/// - Uses constant-time operations where possible
#[utoipa::path(
    post,
    path = "/api/v1/auth/identify",
    tag = TAG,
    operation_id = "identify_user_api_v1_auth_identify_post",
    request_body = IdentifyRequest,
    responses(
        (status = 200, description = "Successful Response", body = IdentifyResponse),
        (status = 400, description = "`unreadable_body`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = ValidationErrors),
        (status = 500, description = "`internal_error`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(),
)]
pub(crate) async fn identify_user(
    service: Service,
    settings: Settings,
    body: JsonBody<IdentifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let outcome = service.identify(body.0.email).await?;
    Ok(answer(StatusCode::OK, &settings, None).json(IdentifyResponse::from(outcome)))
}

/// Portal Login
///
/// Simple one-step login (backwards compatible).
///
/// If user exists in multiple tenants and tenant_id is not provided,
/// returns an error asking for tenant selection.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = TAG,
    operation_id = "portal_login_api_v1_auth_login_post",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Successful Response", body = LoginResponse),
        (status = 400, description = "`tenant_selection_required`, with `tenants`; or `unreadable_body`", body = ErrorResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorResponse),
        (status = 403, description = "`account_disabled` or `mfa_required`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = ValidationErrors),
        (status = 429, description = "`too_many_attempts`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal_error`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(),
)]
pub(crate) async fn portal_login(
    service: Service,
    settings: Settings,
    device: DeviceCookie,
    client: ClientAddress,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_in = service
        .login(body.0.into_command(device.0, client.0))
        .await?;

    let device_token = signed_in.device_token.clone();
    let response = LoginResponse::from(signed_in);
    Ok(answer(StatusCode::OK, &settings, device_token).json(response))
}

/// Portal Logout
///
/// Logout from the user portal.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = TAG,
    operation_id = "portal_logout_api_v1_auth_logout_post",
    params(("authorization" = Option<String>, Header)),
    responses(
        (status = 200, description = "Successful Response", body = inline(LogoutResponse)),
        (status = 422, description = "Validation Error", body = ValidationErrors),
    ),
    security(),
)]
pub(crate) async fn portal_logout(
    service: Service,
    settings: Settings,
    bearer: BearerToken,
) -> HttpResponse {
    service.logout(bearer.0.as_deref()).await;
    let body = LogoutResponse {
        detail: "Logged out",
    };
    answer(StatusCode::OK, &settings, None).json(body)
}

/// Portal Mfa Verify
///
/// Verify MFA code for the portal two-step login flow.
///
/// After /authenticate returns MFA_REQUIRED, the frontend calls this
/// endpoint with the mfa_token and the TOTP/email/backup code.
#[utoipa::path(
    post,
    path = "/api/v1/auth/mfa/verify",
    tag = TAG,
    operation_id = "portal_mfa_verify_api_v1_auth_mfa_verify_post",
    request_body = MfaVerifyRequest,
    responses(
        (status = 200, description = "Successful Response", body = MfaVerifyResponse),
        (status = 202, description = "`mfa_code_sent`: a code was mailed", body = ErrorResponse),
        (status = 400, description = "`mfa_method_unavailable` or `unreadable_body`", body = ErrorResponse),
        (status = 401, description = "`invalid_mfa_token` or `invalid_mfa_code`", body = ErrorResponse),
        (status = 403, description = "`account_disabled`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = ValidationErrors),
        (status = 429, description = "`too_many_attempts`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal_error`", body = ErrorResponse),
        (status = 503, description = "`mail_unavailable` or `service_unavailable`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(),
)]
pub(crate) async fn portal_mfa_verify(
    service: Service,
    settings: Settings,
    client: ClientAddress,
    body: JsonBody<MfaVerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    match service.verify_mfa(body.0.into_command(client.0)).await? {
        MfaOutcome::SignedIn(signed_in) => {
            let device_token = signed_in.device_token.clone();
            let response = MfaVerifyResponse::from(signed_in);
            Ok(answer(StatusCode::OK, &settings, device_token).json(response))
        }
        MfaOutcome::CodeSent => {
            let body = ErrorResponse::new("mfa_code_sent", "A code has been sent by email.");
            Ok(answer(StatusCode::ACCEPTED, &settings, None).json(body))
        }
    }
}

/// Portal Refresh
///
/// Refresh access token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = TAG,
    operation_id = "portal_refresh_api_v1_auth_refresh_post",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "Successful Response", body = RefreshResponse),
        (status = 400, description = "`unreadable_body`", body = ErrorResponse),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorResponse),
        (status = 413, description = "`payload_too_large`", body = ErrorResponse),
        (status = 415, description = "`unsupported_media_type`", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = ValidationErrors),
        (status = 500, description = "`internal_error`", body = ErrorResponse),
        (status = 503, description = "`service_unavailable`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(),
)]
pub(crate) async fn portal_refresh(
    service: Service,
    settings: Settings,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let refreshed = service.refresh(&body.0.refresh_token).await?;
    Ok(answer(StatusCode::OK, &settings, None).json(RefreshResponse::from(refreshed)))
}

/// A response builder that sets the trusted-device cookie when a login
/// produced a device token. (`Cache-Control: no-store` is added to every
/// answer under `/api/v1/auth` by the scope.)
fn answer(
    status: StatusCode,
    settings: &HttpSettings,
    device: Option<String>,
) -> HttpResponseBuilder {
    let mut response = HttpResponseBuilder::new(status);
    if let Some(cookie) = device.and_then(|token| device_cookie(settings, &token)) {
        response.insert_header((SET_COOKIE, cookie));
    }
    response
}

/// The `Set-Cookie` value for a device token. The token comes from the
/// application's random source; one that is not a plain cookie value
/// (RFC 6265 §4.1.1) is dropped rather than let inject attributes.
fn device_cookie(settings: &HttpSettings, token: &str) -> Option<String> {
    let safe = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'));
    if !safe {
        tracing::error!("device token is not a valid cookie value; trusted-device cookie not set");
        return None;
    }
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    Some(format!(
        "{DEVICE_COOKIE}={token}; HttpOnly{secure}; SameSite=Strict; Path=/api/v1/auth; Max-Age={}",
        settings.device_cookie_max_age_secs
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_cookie_is_locked_down() {
        let cookie = device_cookie(&HttpSettings::default(), "tok_en-1");
        assert_eq!(
            cookie.as_deref(),
            Some(
                "portal_auth_device=tok_en-1; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=2592000"
            )
        );
    }

    #[test]
    fn secure_can_be_dropped_for_plain_http_development() {
        let settings = HttpSettings {
            secure_cookies: false,
            ..HttpSettings::default()
        };
        let cookie = device_cookie(&settings, "t").unwrap_or_default();
        assert!(!cookie.contains("Secure"));
        assert!(cookie.contains("HttpOnly; SameSite=Strict"));
    }

    #[test]
    fn a_token_that_could_inject_attributes_sets_no_cookie() {
        for token in ["a;Domain=evil.example", "a b", "", "a\"b", "é"] {
            assert_eq!(
                device_cookie(&HttpSettings::default(), token),
                None,
                "{token:?}"
            );
        }
    }
}
