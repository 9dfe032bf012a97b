//! Extractors: the JSON body of the five POST endpoints that take one, the
//! trusted-device cookie, and the bearer token of logout.
//!
//! [`JsonBody`] applies `API.md`'s checks in its order of precedence:
//! 413 before anything is read in full, then 415, then 422.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use actix_web::web::{self, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures::StreamExt;
use futures::future::LocalBoxFuture;

use crate::HttpSettings;
use crate::error::ApiError;
use crate::validation::{self, JsonRequest};

/// The name of the trusted-device cookie.
pub(crate) const DEVICE_COOKIE: &str = "portal_auth_device";

/// A request body that is JSON, within the size limit, and valid for `T`.
pub(crate) struct JsonBody<T>(pub T);

impl<T: JsonRequest + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<HttpSettings>>().map_or_else(
            || HttpSettings::default().max_body_bytes,
            |s| s.max_body_bytes,
        );
        let declared_too_large = declared_length(req.headers()).is_some_and(|n| n > limit);
        let acceptable_type = is_plain_json(req.headers());
        let payload = payload.take();
        Box::pin(async move {
            // A declared length over the limit is refused before a single
            // byte is read; a chunked body is cut off as soon as it passes it.
            if declared_too_large {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let body = read_at_most(payload, limit).await?;
            if !acceptable_type {
                return Err(ApiError::UnsupportedMediaType);
            }
            validation::decode(&body)
                .map(JsonBody)
                .map_err(ApiError::Validation)
        })
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `application/json` in any case, parameters such as `charset` ignored.
/// A compressed body is refused too (RFC 7694): inflating it would defeat
/// the size limit.
fn is_plain_json(headers: &HeaderMap) -> bool {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    let identity = headers
        .get(CONTENT_ENCODING)
        .is_none_or(|value| value.as_bytes().eq_ignore_ascii_case(b"identity"));
    identity && media_type.is_some_and(|t| t.eq_ignore_ascii_case("application/json"))
}

async fn read_at_most(mut payload: Payload, limit: usize) -> Result<BytesMut, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::UnreadableBody)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The value of the `portal_auth_device` cookie, if the client sent one.
pub(crate) struct DeviceCookie(pub Option<String>);

impl FromRequest for DeviceCookie {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(device_cookie(req.headers()))))
    }
}

/// The first `portal_auth_device` pair across all `Cookie` headers (HTTP/2
/// may split them); a browser sends the most specific path first.
fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// The client's address, for throttling: the socket's peer, or, when the
/// peer is one of `HttpSettings::trusted_proxies`, the last
/// `X-Forwarded-For` entry (the one that proxy added). From any other peer
/// the header is ignored, since a client can write anything into it.
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let peer = req.peer_addr().map(|addr| addr.ip());
        let trusted = req
            .app_data::<web::Data<HttpSettings>>()
            .is_some_and(|s| peer.is_some_and(|ip| s.trusted_proxies.contains(&ip)));
        let forwarded = if trusted {
            forwarded_for(req.headers())
        } else {
            None
        };
        ready(Ok(Self(forwarded.or(peer))))
    }
}

/// The last entry of the last `X-Forwarded-For` header, when it is an IP.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .last()?;
    last.rsplit(',').next()?.trim().parse().ok()
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any
/// case); `None` when the header is absent or not of that form.
pub(crate) struct BearerToken(pub Option<String>);

impl FromRequest for BearerToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(bearer_token(req.headers()))))
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && !token.contains(char::is_whitespace);
    well_formed.then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn json_media_types_are_compared_without_case_or_parameters() {
        for accepted in [
            "application/json",
            "APPLICATION/JSON",
            "application/json; charset=utf-8",
            "Application/Json ;charset=UTF-8",
        ] {
            assert!(
                is_plain_json(&headers(&[(CONTENT_TYPE, accepted)])),
                "{accepted}"
            );
        }
        for refused in [
            "text/plain",
            "application/merge-patch+json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "",
        ] {
            assert!(
                !is_plain_json(&headers(&[(CONTENT_TYPE, refused)])),
                "{refused}"
            );
        }
        assert!(!is_plain_json(&HeaderMap::new()));
    }

    #[test]
    fn a_compressed_body_is_not_plain_json() {
        let gzip = headers(&[
            (CONTENT_TYPE, "application/json"),
            (CONTENT_ENCODING, "gzip"),
        ]);
        assert!(!is_plain_json(&gzip));
        let identity = headers(&[
            (CONTENT_TYPE, "application/json"),
            (CONTENT_ENCODING, "identity"),
        ]);
        assert!(is_plain_json(&identity));
    }

    #[test]
    fn the_device_cookie_is_found_among_others() {
        let map = headers(&[
            (COOKIE, "theme=dark"),
            (
                COOKIE,
                "a=1; portal_auth_device=abc-123; portal_auth_device=old",
            ),
        ]);
        assert_eq!(device_cookie(&map).as_deref(), Some("abc-123"));
        assert_eq!(
            device_cookie(&headers(&[(COOKIE, "portal_auth_devices=x")])),
            None
        );
        assert_eq!(
            device_cookie(&headers(&[(COOKIE, "portal_auth_device=")])),
            None
        );
        assert_eq!(device_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn bearer_tokens_are_read_with_any_case_of_scheme() {
        for (value, expected) in [
            ("Bearer abc.def.ghi", Some("abc.def.ghi")),
            ("bearer abc", Some("abc")),
            ("BEARER   abc  ", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearer a b", None),
            ("abc", None),
        ] {
            let map = headers(&[(AUTHORIZATION, value)]);
            assert_eq!(bearer_token(&map).as_deref(), expected, "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
