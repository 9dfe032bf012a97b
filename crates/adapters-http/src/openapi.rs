//! The OpenAPI document, assembled by utoipa from the handlers' `path`
//! attributes and the wire types' `ToSchema` derives, never written by
//! hand.
//!
//! The six login endpoints carry the seed's tag, summaries, descriptions and
//! schema names, so the document renders as the seed's reference page does;
//! on top of the seed's 200 and 422 it declares every other status each
//! endpoint answers, with [`ErrorResponse`](crate::wire::ErrorResponse).

use utoipa::OpenApi;

use crate::{handlers, ops};

/// The service's OpenAPI 3.1 document: `ApiDoc::openapi()`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portal Auth",
        description = "Sign-in for the user portal: a two-step login \
            (identify, authenticate, second factor), a one-step login for older \
            clients, refresh-token rotation and logout.",
    ),
    paths(
        handlers::authenticate_user,
        handlers::identify_user,
        handlers::portal_login,
        handlers::portal_logout,
        handlers::portal_mfa_verify,
        handlers::portal_refresh,
        ops::jwks,
        ops::healthz,
        ops::readyz,
        ops::openapi_json,
    ),
    tags(
        (name = handlers::TAG, description = "Obtaining, refreshing and ending portal sessions."),
        (name = ops::TAG, description = "Keys, probes and this document."),
    ),
)]
pub struct ApiDoc;
