//! One root span and one summary event per request.
//!
//! The span carries a request id, the method, the matched route pattern
//! (never the raw path or query, which a client controls), the client
//! address and, once known, the status and latency. Nothing of the body,
//! the headers, cookies or tokens is recorded. The id is returned in
//! `X-Request-Id` so a report from a user can be found in the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing::field::Empty;
use uuid::Uuid;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware body for `actix_web::middleware::from_fn`.
///
/// # Errors
///
/// Passes on the inner service's error unchanged.
pub(crate) async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = Uuid::new_v4();
    let span = tracing::info_span!(
        "http_request",
        %request_id,
        method = %request.method(),
        route = %route(&request),
        client = %client(&request),
        status = Empty,
        latency_ms = Empty,
    );
    let started = Instant::now();

    let mut outcome = next.call(request).instrument(span.clone()).await;

    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("status", status.as_u16());
    span.record("latency_ms", latency_ms);
    // The span now carries status and latency; the event only marks the end.
    span.in_scope(|| tracing::info!("request finished"));

    if let (Ok(response), Ok(id)) = (&mut outcome, HeaderValue::from_str(&request_id.to_string())) {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    outcome
}

/// The route pattern that matched, or a fixed label: logging raw paths of
/// unknown routes would let any client write arbitrary text into the log.
fn route(request: &ServiceRequest) -> String {
    request
        .match_pattern()
        .filter(|pattern| !pattern.is_empty())
        .unwrap_or_else(|| "(unmatched)".to_owned())
}

/// The socket peer. Forwarding headers are not read here: only a proxy
/// listed as trusted may speak for the client, and that is decided where
/// the address is used for throttling.
fn client(request: &ServiceRequest) -> String {
    request
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string())
}
