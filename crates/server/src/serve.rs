//! Serving HTTP, and the demo provisioning that makes a first run useful.

use actix_web::{App, HttpServer};
use anyhow::Context;
use portal_auth_application::{Admin, AdminError};
use serde_json::json;

use crate::commands::{Failure, emit};
use crate::settings::Settings;
use crate::wiring;

/// Runs the service until SIGINT or SIGTERM, then drains open requests.
///
/// # Errors
///
/// Start-up failures: configuration, store, keys, or the address in use.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let wired = wiring::wire(settings).await?;
    let address = settings.bind_address()?;
    let http = portal_auth_adapters_http::HttpSettings {
        trusted_proxies: settings.trusted_proxies()?,
        ..Default::default()
    };
    let configure = portal_auth_adapters_http::configure(wired.auth.clone(), http);
    let mut server = HttpServer::new(move || App::new().configure(configure.clone()))
        .bind(address)
        .with_context(|| format!("binding http.bind {address}"))?;
    if settings.http.workers > 0 {
        server = server.workers(settings.http.workers);
    }
    for bound in server.addrs() {
        // The end-to-end tests and operators read this line for the port.
        tracing::info!(address = %bound, "listening");
        eprintln!("portal-auth listening on http://{bound}");
    }
    server.run().await.context("running the HTTP server")
}

const DEMO_EMAIL: &str = "demo@example.com";
const DEMO_PASSWORD: &str = "demo-password-1";

/// Provisions a demo tenant and user with TOTP and backup codes, and prints
/// how to log in. Running it again resets the demo user's password and
/// factors, so it always prints working credentials.
pub async fn demo(admin: &Admin, settings: &Settings, json: bool) -> Result<(), Failure> {
    match admin.create_tenant("Demo", Some("demo")).await {
        Ok(_) | Err(AdminError::Conflict(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let demo_tenants = ["demo".to_owned()];
    match admin
        .create_user(DEMO_EMAIL, DEMO_PASSWORD, &demo_tenants)
        .await
    {
        Ok(_) => {}
        Err(AdminError::Conflict(_)) => {
            admin.set_password(DEMO_EMAIL, DEMO_PASSWORD).await?;
            admin.add_tenant(DEMO_EMAIL, "demo").await?;
        }
        Err(error) => return Err(error.into()),
    }
    let totp = admin.enroll_totp(DEMO_EMAIL).await?;
    let codes = admin.backup_codes(DEMO_EMAIL).await?;

    let base = format!("http://{}", settings.http.bind);
    let object = json!({
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "tenant": "demo",
        "totp_secret": totp.secret.expose(),
        "otpauth_uri": totp.otpauth_uri.expose(),
        "backup_codes": codes.iter().map(|c| c.expose()).collect::<Vec<_>>(),
        "base_url": base,
    });
    let text = demo_text(
        &base,
        totp.secret.expose(),
        codes.first().map(|c| c.expose().as_str()),
    );
    emit(json, object, &text)
}

fn demo_text(base: &str, secret: &str, backup: Option<&str>) -> String {
    let backup = backup.unwrap_or("(none)");
    format!(
        r#"Demo tenant "demo" and user {DEMO_EMAIL} are ready.
  password:     {DEMO_PASSWORD}
  TOTP secret:  {secret}   (add it to an authenticator app, or: oathtool --totp -b {secret})
  backup code:  {backup}

With the service running (portal-auth serve), log in:

  FLOW=$(curl -s {base}/api/v1/auth/identify -H 'Content-Type: application/json' \
    -d '{{"email":"{DEMO_EMAIL}"}}' | sed 's/.*"flow_token":"\([^"]*\)".*/\1/')
  curl -s {base}/api/v1/auth/authenticate -H 'Content-Type: application/json' \
    -d '{{"flow_token":"'$FLOW'","password":"{DEMO_PASSWORD}"}}'

The answer is MFA_REQUIRED with an mfa_token and user_id; finish with a TOTP code:

  curl -s {base}/api/v1/auth/mfa/verify -H 'Content-Type: application/json' \
    -d '{{"mfa_token":"MFA_TOKEN","user_id":"USER_ID","method":"totp","code":"123456"}}'"#
    )
}
