//! The route table: which method of which path reaches which handler, and
//! what every other request gets.
//!
//! A path answers the methods it serves; any other method gets 405 with an
//! `Allow` header, and a GET path answers HEAD too (the HTTP/1 codec drops
//! the body of a HEAD answer). Unknown paths get a JSON 404. Everything is
//! mounted in one root scope so the request-logging middleware sees every
//! request, unknown paths included.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::header::{CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};

use crate::error::ApiError;
use crate::{handlers, ops, telemetry};

/// Registers every route on `config`.
pub(crate) fn register(config: &mut web::ServiceConfig) {
    let auth = web::scope("/api/v1/auth")
        // Every answer here may carry a token or a code (RFC 9111 §5.2.2.5).
        .wrap(DefaultHeaders::new().add((CACHE_CONTROL, "no-store")))
        .service(post("/authenticate", handlers::authenticate_user))
        .service(post("/identify", handlers::identify_user))
        .service(post("/login", handlers::portal_login))
        .service(post("/logout", handlers::portal_logout))
        .service(post("/mfa/verify", handlers::portal_mfa_verify))
        .service(post("/refresh", handlers::portal_refresh))
        .default_service(web::to(not_found));

    config.service(
        web::scope("")
            .service(auth)
            .service(get("/.well-known/jwks.json", ops::jwks))
            .service(get("/healthz", ops::healthz))
            .service(get("/readyz", ops::readyz))
            .service(get("/openapi.json", ops::openapi_json))
            .default_service(web::to(not_found))
            .wrap(DefaultHeaders::new().add((X_CONTENT_TYPE_OPTIONS, "nosniff")))
            .wrap(from_fn(telemetry::log_request)),
    );
}

fn post<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(|| method_not_allowed("POST")))
}

fn get<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(|| method_not_allowed("GET, HEAD")))
}

async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
