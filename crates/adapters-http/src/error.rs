//! The only place where outcomes become HTTP statuses and error bodies.
//!
//! Every refusal is `{"detail": <sentence>, "code": <snake_case>}` except
//! validation, which keeps the seed's `HTTPValidationError` shape. Bodies
//! never carry a cause, a stack trace or an internal identifier: an
//! unexpected fault is logged once, here, and answered with a generic 500.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, RETRY_AFTER};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use portal_auth_application::AuthError;

use crate::validation::ValidationError;
use crate::wire::{ErrorResponse, ValidationErrors, tenant_bodies};

/// Everything the HTTP layer answers that is not a success.
#[derive(Debug)]
pub(crate) enum ApiError {
    Auth(AuthError),
    Validation(Vec<ValidationError>),
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    /// The body stream broke off or was not valid chunked encoding.
    UnreadableBody,
    MethodNotAllowed {
        allow: &'static str,
    },
    NotFound,
    NotReady {
        retry_after_secs: u64,
    },
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Self::Auth(error)
    }
}

/// A rendered refusal: status, body and the headers that go with it.
struct Refusal {
    status: StatusCode,
    body: ErrorResponse,
    retry_after_secs: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            body: ErrorResponse::new(code, detail),
            retry_after_secs: None,
        }
    }

    fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }
}

/// The one mapping from the use cases' errors to HTTP. No `_` arm: a new
/// variant does not compile until someone decides its status.
fn auth_refusal(error: &AuthError) -> Refusal {
    use StatusCode as S;
    match error {
        AuthError::InvalidFlowToken => Refusal::new(
            S::UNAUTHORIZED,
            "invalid_flow_token",
            "The login flow is invalid or has expired. Start again.",
        ),
        AuthError::InvalidCredentials => Refusal::new(
            S::UNAUTHORIZED,
            "invalid_credentials",
            "The email, password or tenant is incorrect.",
        ),
        AuthError::TenantSelectionRequired(tenants) => {
            let mut refusal = Refusal::new(
                S::BAD_REQUEST,
                "tenant_selection_required",
                "Choose one of your tenants and send its id as tenant_id.",
            );
            refusal.body.tenants = Some(tenant_bodies(tenants));
            refusal
        }
        AuthError::AccountDisabled => Refusal::new(
            S::FORBIDDEN,
            "account_disabled",
            "This account is disabled.",
        ),
        AuthError::MfaRequired => Refusal::new(
            S::FORBIDDEN,
            "mfa_required",
            "This account needs a second factor. Sign in with identify and authenticate.",
        ),
        AuthError::InvalidMfaToken => Refusal::new(
            S::UNAUTHORIZED,
            "invalid_mfa_token",
            "The second-factor step is invalid or has expired. Sign in again.",
        ),
        AuthError::MfaMethodUnavailable => Refusal::new(
            S::BAD_REQUEST,
            "mfa_method_unavailable",
            "This second-factor method is not available for this login.",
        ),
        AuthError::InvalidMfaCode => Refusal::new(
            S::UNAUTHORIZED,
            "invalid_mfa_code",
            "The code is incorrect.",
        ),
        AuthError::InvalidRefreshToken => Refusal::new(
            S::UNAUTHORIZED,
            "invalid_refresh_token",
            "The refresh token is invalid or its session has ended.",
        ),
        AuthError::RefreshTokenReused => Refusal::new(
            S::UNAUTHORIZED,
            "refresh_token_reused",
            "The refresh token was already used, so its session has been ended. Sign in again.",
        ),
        AuthError::TooManyAttempts { retry_after_secs } => Refusal::new(
            S::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many attempts. Try again later.",
        )
        .retry_after(*retry_after_secs),
        AuthError::MailUnavailable { retry_after_secs } => Refusal::new(
            S::SERVICE_UNAVAILABLE,
            "mail_unavailable",
            "The code could not be sent by email. Try again later.",
        )
        .retry_after(*retry_after_secs),
        AuthError::Unavailable(_) => Refusal::new(
            S::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service cannot answer right now. Try again shortly.",
        )
        .retry_after(UNAVAILABLE_RETRY_AFTER_SECS),
        AuthError::Unexpected(_) => internal_error(),
    }
}

/// How long a client is asked to wait when the store cannot answer: long
/// enough for a failover or a pool to recover, short enough for a person.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

fn internal_error() -> Refusal {
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Something went wrong on our side. Try again later.",
    )
}

impl ApiError {
    /// Every refusal but validation, which has its own body shape.
    fn refusal(&self) -> Option<Refusal> {
        use StatusCode as S;
        let refusal = match self {
            Self::Auth(error) => auth_refusal(error),
            Self::Validation(_) => return None,
            Self::PayloadTooLarge { limit } => Refusal::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The request body is larger than {limit} bytes."),
            ),
            Self::UnsupportedMediaType => Refusal::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "The request body must be JSON sent as Content-Type: application/json.",
            ),
            Self::UnreadableBody => Refusal::new(
                S::BAD_REQUEST,
                "unreadable_body",
                "The request body could not be read.",
            ),
            Self::MethodNotAllowed { .. } => Refusal::new(
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method Not Allowed",
            ),
            Self::NotFound => Refusal::new(S::NOT_FOUND, "not_found", "Not Found"),
            Self::NotReady { retry_after_secs } => Refusal::new(
                S::SERVICE_UNAVAILABLE,
                "not_ready",
                "The service is not ready to take requests.",
            )
            .retry_after(*retry_after_secs),
        };
        Some(refusal)
    }
}

impl fmt::Display for ApiError {
    /// A label for logs: never the cause of an unexpected fault, which is
    /// logged on its own when the response is built.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.refusal() {
            Some(refusal) => f.write_str(refusal.body.code),
            None => f.write_str("validation_error"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.refusal()
            .map_or(StatusCode::UNPROCESSABLE_ENTITY, |refusal| refusal.status)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Auth(AuthError::Unexpected(cause)) => {
                tracing::error!(%cause, "request failed unexpectedly");
            }
            Self::Auth(AuthError::Unavailable(cause)) => {
                tracing::error!(%cause, "the service cannot answer now");
            }
            _ => {}
        }
        let Some(refusal) = self.refusal() else {
            let detail = match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            };
            return HttpResponse::UnprocessableEntity().json(ValidationErrors { detail });
        };
        let mut response = HttpResponseBuilder::new(refusal.status);
        if let Some(secs) = refusal.retry_after_secs {
            response.insert_header((RETRY_AFTER, secs.to_string()));
        }
        if let Self::MethodNotAllowed { allow } = self {
            response.insert_header((ALLOW, *allow));
        }
        response.json(refusal.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use portal_auth_domain::{Tenant, TenantId, TenantName, TenantSlug};
    use serde_json::{Value, json};

    async fn render(error: ApiError) -> (StatusCode, Option<String>, Value) {
        let response = error.error_response();
        let status = response.status();
        let retry = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = to_bytes(response.into_body()).await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, retry, body)
    }

    fn tenant(slug: &str) -> Tenant {
        Tenant {
            id: TenantId::from_random([1; 16]),
            slug: TenantSlug::parse(slug).unwrap(),
            name: TenantName::parse(&slug.to_uppercase()).unwrap(),
        }
    }

    #[actix_web::test]
    async fn every_auth_error_has_its_status_and_code() {
        let cases = [
            (AuthError::InvalidFlowToken, 401, "invalid_flow_token"),
            (AuthError::InvalidCredentials, 401, "invalid_credentials"),
            (
                AuthError::TenantSelectionRequired(vec![]),
                400,
                "tenant_selection_required",
            ),
            (AuthError::AccountDisabled, 403, "account_disabled"),
            (AuthError::MfaRequired, 403, "mfa_required"),
            (AuthError::InvalidMfaToken, 401, "invalid_mfa_token"),
            (
                AuthError::MfaMethodUnavailable,
                400,
                "mfa_method_unavailable",
            ),
            (AuthError::InvalidMfaCode, 401, "invalid_mfa_code"),
            (AuthError::InvalidRefreshToken, 401, "invalid_refresh_token"),
            (AuthError::RefreshTokenReused, 401, "refresh_token_reused"),
            (
                AuthError::TooManyAttempts {
                    retry_after_secs: 7,
                },
                429,
                "too_many_attempts",
            ),
            (
                AuthError::MailUnavailable {
                    retry_after_secs: 30,
                },
                503,
                "mail_unavailable",
            ),
            (AuthError::Unexpected("x".into()), 500, "internal_error"),
            (
                AuthError::Unavailable("x".into()),
                503,
                "service_unavailable",
            ),
        ];
        for (error, status, code) in cases {
            let (actual, _, body) = render(ApiError::Auth(error)).await;
            assert_eq!(actual.as_u16(), status, "{code}");
            assert_eq!(body["code"], code);
            assert!(
                body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{code}"
            );
        }
    }

    #[actix_web::test]
    async fn throttling_and_mail_faults_say_when_to_retry() {
        let (_, retry, _) = render(
            AuthError::TooManyAttempts {
                retry_after_secs: 42,
            }
            .into(),
        )
        .await;
        assert_eq!(retry.as_deref(), Some("42"));
        let (_, retry, _) = render(
            AuthError::MailUnavailable {
                retry_after_secs: 9,
            }
            .into(),
        )
        .await;
        assert_eq!(retry.as_deref(), Some("9"));
    }

    #[actix_web::test]
    async fn tenant_selection_lists_the_tenants() {
        let error = AuthError::TenantSelectionRequired(vec![tenant("acme"), tenant("umbrella")]);
        let (_, _, body) = render(error.into()).await;
        assert_eq!(
            body["tenants"],
            json!([
                {"id": "01010101-0101-4101-8101-010101010101", "slug": "acme", "name": "ACME"},
                {"id": "01010101-0101-4101-8101-010101010101", "slug": "umbrella", "name": "UMBRELLA"},
            ])
        );
    }

    #[actix_web::test]
    async fn an_unexpected_fault_keeps_its_cause_out_of_the_body() {
        let cause = "relation \"users\" does not exist at db-7.internal";
        let (_, _, body) = render(AuthError::Unexpected(cause.into()).into()).await;
        assert_eq!(body.as_object().map(|o| o.len()), Some(2));
        assert!(!body.to_string().contains("users"));
        assert_eq!(
            ApiError::Auth(AuthError::Unexpected(cause.into())).to_string(),
            "internal_error"
        );
    }

    #[actix_web::test]
    async fn other_refusals_have_only_detail_and_code() {
        let (status, _, body) = render(ApiError::NotFound).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"detail": "Not Found", "code": "not_found"}));
    }
}
