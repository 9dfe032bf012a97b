//! Builds the adapters the configuration names and hands them to the use
//! cases. No business logic lives here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use portal_auth_adapters_crypto::{
    Argon2Hasher, Argon2Settings, JwtSettings, JwtTokens, RandomTokens, RfcTotp, SigningKey,
    SystemClock,
};
use portal_auth_adapters_mail::{SmtpMailer, SmtpSettings, SmtpTls};
use portal_auth_adapters_postgres::PostgresStore;
use portal_auth_adapters_sqlite::SqliteStore;
use portal_auth_application::{
    Admin, AuthService, AuthSettings, Services, TenantDisclosure, ThrottleSettings,
};
use portal_auth_domain::session::SessionLifetime;
use portal_auth_ports::Mailer;
use portal_auth_ports::Repositories;

use crate::settings::{Disclosure, MailTls, Profile, Settings, StoreUrl};

/// Opens the configured store, applying migrations when asked to.
///
/// # Errors
///
/// An unreachable database or a failed migration, with the reason.
pub async fn open_store(settings: &Settings, migrate: bool) -> anyhow::Result<Repositories> {
    match settings.store_url()? {
        StoreUrl::Postgres(url) => {
            if migrate {
                portal_auth_adapters_postgres::run_migrations(&url)
                    .await
                    .context("applying PostgreSQL migrations")?;
            }
            let store = PostgresStore::connect(&url, settings.database.max_connections)
                .await
                .context("connecting to PostgreSQL (database.url)")?;
            tracing::info!(store = "postgres", "store opened");
            Ok(Repositories::from_store(Arc::new(store)))
        }
        StoreUrl::Sqlite(url) => {
            let store =
                SqliteStore::open(&url).context("opening the SQLite store (database.url)")?;
            if migrate {
                store
                    .run_migrations()
                    .await
                    .context("applying SQLite migrations")?;
            }
            tracing::info!(store = "sqlite", location = %url, "store opened");
            Ok(Repositories::from_store(Arc::new(store)))
        }
    }
}

/// Loads the signing key, or under the dev profile makes one and keeps it
/// in the data folder.
///
/// # Errors
///
/// A missing or unreadable key file; no key file under `production`.
pub fn signing_key(settings: &Settings) -> anyhow::Result<SigningKey> {
    let configured = settings.tokens.signing_key_file.trim();
    if !configured.is_empty() {
        return read_key(Path::new(configured)).context("tokens.signing_key_file");
    }
    if settings.profile == Profile::Production {
        bail!("tokens.signing_key_file must be set under the production profile");
    }
    let path = settings.data_dir.join("signing-key.pem");
    if path.is_file() {
        return read_key(&path);
    }
    let key = SigningKey::generate()?;
    write_private(&path, &key.to_pem())?;
    tracing::warn!(path = %path.display(), "dev profile: generated a new signing key; set tokens.signing_key_file in production");
    Ok(key)
}

fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    SigningKey::from_pem(&pem).with_context(|| format!("loading {}", path.display()))
}

/// Writes a secret file readable by its owner only.
fn write_private(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The service ports, built from configuration and the signing key.
///
/// # Errors
///
/// Argon2 parameters or a key the crypto library rejects.
pub fn services(settings: &Settings, key: &SigningKey) -> anyhow::Result<Services> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let hash = &settings.hash;
    let hasher = Argon2Hasher::new(Argon2Settings {
        memory_kib: hash.argon2_memory_kib,
        iterations: hash.argon2_iterations,
        parallelism: hash.argon2_parallelism,
        max_concurrent: if hash.max_concurrent == 0 {
            cpus
        } else {
            hash.max_concurrent
        },
        max_waiting: hash.max_waiting,
    })
    .context("hash.argon2_*")?;
    let jwt = JwtTokens::new(
        key,
        JwtSettings {
            issuer: settings.tokens.issuer.clone(),
            audience: settings.tokens.audience.clone(),
        },
    )?;
    Ok(Services {
        clock: Arc::new(SystemClock),
        tokens: Arc::new(RandomTokens::new(key.derive_secret("refresh-successor"))),
        hasher: Arc::new(hasher),
        access: Arc::new(jwt),
        totp: Arc::new(RfcTotp),
        mailer: mailer(settings)?,
    })
}

/// The SMTP mailer, when a mail server is configured.
fn mailer(settings: &Settings) -> anyhow::Result<Option<Arc<dyn Mailer>>> {
    let mail = &settings.mail;
    if mail.smtp_host.trim().is_empty() {
        return Ok(None);
    }
    let smtp = SmtpMailer::new(SmtpSettings {
        host: mail.smtp_host.clone(),
        port: mail.smtp_port,
        from: mail.from.clone(),
        tls: match mail.tls {
            MailTls::None => SmtpTls::None,
            MailTls::Starttls => SmtpTls::StartTls,
            MailTls::Tls => SmtpTls::Tls,
        },
        username: mail.username.clone(),
        password: mail.password.clone(),
        timeout_secs: mail.timeout_secs,
    })
    .map_err(|e| anyhow::anyhow!("mail.*: {e}"))?;
    Ok(Some(Arc::new(smtp)))
}

pub fn auth_settings(settings: &Settings) -> AuthSettings {
    let auth = &settings.auth;
    AuthSettings {
        flow_token_ttl_secs: auth.flow_token_ttl_secs,
        mfa_token_ttl_secs: auth.mfa_token_ttl_secs,
        access_ttl_secs: settings.tokens.access_ttl_secs,
        refresh_reuse_grace_secs: auth.refresh_reuse_grace_secs,
        session: SessionLifetime {
            idle_secs: auth.session_idle_secs,
            absolute_secs: auth.session_absolute_secs,
        },
        tenant_disclosure: match auth.tenant_disclosure {
            Disclosure::SelectionOnly => TenantDisclosure::SelectionOnly,
            Disclosure::Always => TenantDisclosure::Always,
            Disclosure::AfterPassword => TenantDisclosure::AfterPassword,
        },
        throttle: ThrottleSettings {
            failures_per_email: settings.throttle.failures_per_email,
            failures_per_address: settings.throttle.failures_per_address,
            window_secs: settings.throttle.window_secs,
        },
        ..AuthSettings::default()
    }
}

/// Everything the commands need.
pub struct Wired {
    pub auth: Arc<AuthService>,
    pub admin: Admin,
}

/// Builds the store, keys and services in start-up order.
///
/// # Errors
///
/// Whatever stops start-up, with a message naming its cause.
pub async fn wire(settings: &Settings) -> anyhow::Result<Wired> {
    let key = signing_key(settings)?;
    let services = services(settings, &key)?;
    let repos = open_store(settings, settings.database.auto_migrate).await?;
    let admin = Admin::new(repos.clone(), services.clone());
    let auth = Arc::new(AuthService::new(repos, services, auth_settings(settings)));
    Ok(Wired { auth, admin })
}
