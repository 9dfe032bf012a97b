//! Endpoints outside the "Portal Auth" tag: the key set resource servers
//! verify tokens with, probes for orchestrators, and the API description.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use portal_auth_application::AuthService;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::HttpSettings;
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::wire::ErrorResponse;

pub(crate) const TAG: &str = "Service";

/// What the probes answer when all is well.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

const OK: Status = Status { status: "ok" };

/// JSON Web Key Set
///
/// The public keys that verify access tokens (RFC 7517), so resource
/// servers check tokens offline.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = TAG,
    responses((status = 200, description = "The JWK set", body = Object)),
)]
pub(crate) async fn jwks(service: web::Data<AuthService>) -> HttpResponse {
    // Short enough that a new key is picked up within minutes of being
    // published, long enough to spare the service from every verifier.
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body(service.jwks_json())
}

/// Liveness
///
/// The process is up and serving requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = TAG,
    responses((status = 200, description = "Alive", body = inline(Status))),
)]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(OK)
}

/// Readiness
///
/// The database answers, so requests can be served.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = TAG,
    responses(
        (status = 200, description = "Ready", body = inline(Status)),
        (status = 503, description = "`not_ready`", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub(crate) async fn readyz(
    service: web::Data<AuthService>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    if service.ready().await {
        Ok(HttpResponse::Ok().json(OK))
    } else {
        Err(ApiError::NotReady {
            retry_after_secs: settings.not_ready_retry_after_secs,
        })
    }
}

/// OpenAPI document
///
/// This description of the API, generated from the code that serves it.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = TAG,
    responses((status = 200, description = "An OpenAPI 3.1 document", body = Object)),
)]
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
