//! The HTTP face of Portal Auth: actix-web routes, the request extractors,
//! the mapping of outcomes to statuses, and the OpenAPI document.
//!
//! This adapter translates and nothing more. It depends on `domain` (for
//! value types such as `Email` and `Password`) and `application` (for
//! `AuthService` and its commands and errors), never on another adapter:
//! the binary hands it a ready `AuthService`, whatever store and crypto sit
//! behind it.
//!
//! Where to start reading:
//! - [`configure`] mounts everything on an actix `App`; `routes` is the
//!   table of paths and methods.
//! - `handlers` holds the six endpoints, each a few lines: extract, call one
//!   use case, map the result.
//! - `extract` and `validation` turn a body into a typed request or into
//!   every reason it is not one, in the order 413, 415, 422, with pydantic's
//!   vocabulary; `json_position` locates malformed JSON as Python would.
//! - `error` is the only place where errors become statuses and bodies.
//! - [`ApiDoc`] is the generated OpenAPI document, served at
//!   `/openapi.json`.
//!
//! Behaviour follows `API.md` of the shared documents; shapes and names
//! follow the seed's reference page.

use std::sync::Arc;

use actix_web::web;
use portal_auth_application::AuthService;

mod error;
mod extract;
mod handlers;
mod json_position;
mod openapi;
mod ops;
mod routes;
mod telemetry;
mod validation;
mod wire;

pub use openapi::ApiDoc;

/// How the HTTP layer behaves, beyond what the use cases decide.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The largest request body accepted; a larger one is 413.
    pub max_body_bytes: usize,
    /// Whether the trusted-device cookie carries `Secure`. Only a
    /// development setup on plain HTTP turns this off.
    pub secure_cookies: bool,
    /// The lifetime of the trusted-device cookie, matching how long the
    /// application trusts a device.
    pub device_cookie_max_age_secs: u64,
    /// `Retry-After` of a 503 from `/readyz`.
    pub not_ready_retry_after_secs: u64,
    /// Proxies whose `X-Forwarded-For` entry names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            secure_cookies: true,
            device_cookie_max_age_secs: 30 * 24 * 60 * 60,
            not_ready_retry_after_secs: 5,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything this crate serves, for `App::configure`: the six endpoints
/// under `/api/v1/auth`, `/.well-known/jwks.json`, `/openapi.json`,
/// `/healthz` and `/readyz`, JSON answers for unknown paths and methods,
/// and request logging (one span per request, see `telemetry`).
///
/// ```no_run
/// # use std::sync::Arc;
/// # use actix_web::{App, HttpServer};
/// # async fn serve(service: Arc<portal_auth_application::AuthService>) -> std::io::Result<()> {
/// let configure = portal_auth_adapters_http::configure(service, Default::default());
/// HttpServer::new(move || App::new().configure(configure.clone()))
///     .bind("127.0.0.1:8080")?
///     .run()
///     .await
/// # }
/// ```
pub fn configure(
    service: Arc<AuthService>,
    settings: HttpSettings,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config| {
        config
            .app_data(web::Data::from(service.clone()))
            .app_data(web::Data::new(settings.clone()));
        routes::register(config);
    }
}
