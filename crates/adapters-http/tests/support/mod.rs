//! A real `AuthService` over the in-memory store and the crypto adapters,
//! mounted with `configure`, and helpers to call it and read the answer.

#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use portal_auth_adapters_crypto::{
    Argon2Hasher, Argon2Settings, JwtSettings, JwtTokens, RandomTokens, RfcTotp, SigningKey,
};
use portal_auth_adapters_http::{HttpSettings, configure};
use portal_auth_adapters_memory::MemoryStore;
use portal_auth_application::{Admin, AuthService, AuthSettings, Services};
use portal_auth_domain::mfa::TOTP_STEP_SECS;
use portal_auth_domain::{TenantSlug, Timestamp};
use portal_auth_ports::{Clock, Repositories};
use serde_json::Value;

pub use actix_http::Request;

pub const PASSWORD: &str = "correct horse battery";

/// A clock that stands still until told to move.
pub struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0.load(Ordering::SeqCst))
    }
}

pub struct World {
    pub auth: Arc<AuthService>,
    pub admin: Admin,
    pub repos: Repositories,
    pub services: Services,
    pub clock: Arc<ManualClock>,
}

pub fn world() -> World {
    world_over(Repositories::from_store(Arc::new(MemoryStore::default())))
}

/// The same service over other repositories, for injecting faults.
pub fn world_over(repos: Repositories) -> World {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_700_000_000)));
    let key = SigningKey::generate().unwrap();
    let jwt = JwtSettings {
        issuer: "https://auth.test".into(),
        audience: "portal".into(),
    };
    // Argon2 at its cheapest: these tests are about HTTP, not hashing cost.
    let hash = Argon2Settings {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 4,
        max_waiting: 64,
    };
    let services = Services {
        clock: clock.clone(),
        tokens: Arc::new(RandomTokens::new(key.derive_secret("refresh"))),
        hasher: Arc::new(Argon2Hasher::new(hash).unwrap()),
        access: Arc::new(JwtTokens::new(&key, jwt).unwrap()),
        totp: Arc::new(RfcTotp),
        mailer: None,
    };
    let auth = AuthService::new(repos.clone(), services.clone(), AuthSettings::default());
    World {
        auth: Arc::new(auth),
        admin: Admin::new(repos.clone(), services.clone()),
        repos,
        services,
        clock,
    }
}

impl World {
    /// A tenant per slug, and a user who is an active member of each.
    pub async fn user_in(&self, email: &str, slugs: &[&str]) -> String {
        for slug in slugs {
            let _ = self
                .admin
                .create_tenant(&format!("Tenant {slug}"), Some(slug))
                .await;
        }
        let slugs: Vec<String> = slugs.iter().map(|s| (*s).to_owned()).collect();
        let user = self.admin.create_user(email, PASSWORD, &slugs).await;
        user.unwrap().id.to_string()
    }

    /// Enrols TOTP for a user and returns the base32 secret.
    pub async fn enrol_totp(&self, email: &str) -> String {
        self.admin
            .enroll_totp(email)
            .await
            .unwrap()
            .secret
            .expose()
            .clone()
    }

    pub fn totp_now(&self, secret: &str) -> String {
        let secret = data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .unwrap();
        let now = self.clock.now().unix();
        RfcTotp::code(&secret, now.div_euclid(TOTP_STEP_SECS))
    }

    pub fn tick(&self, secs: i64) {
        self.clock.0.fetch_add(secs, Ordering::SeqCst);
    }

    pub async fn tenant_id(&self, slug: &str) -> String {
        let slug = TenantSlug::parse(slug).unwrap();
        let tenant = self.repos.tenants.find_tenant_by_slug(&slug).await;
        tenant.unwrap().unwrap().id.to_string()
    }
}

/// The application as the binary mounts it.
pub async fn app(
    world: &World,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    app_with(world, HttpSettings::default()).await
}

pub async fn app_with(
    world: &World,
    settings: HttpSettings,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(App::new().configure(configure(world.auth.clone(), settings))).await
}

/// What came back: status, headers, and the body as JSON (`Null` when it
/// is not JSON) and as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

pub async fn send<S, B>(app: &S, request: Request) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    Reply {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A POST with a JSON content type and the given raw body.
pub fn post(path: &str, body: impl Into<String>) -> test::TestRequest {
    test::TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.into())
}

pub fn request(method: Method, path: &str) -> test::TestRequest {
    test::TestRequest::default().method(method).uri(path)
}

/// POSTs JSON and returns the answer.
pub async fn post_json<S, B>(app: &S, path: &str, body: &Value) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, post(path, body.to_string()).to_request()).await
}
