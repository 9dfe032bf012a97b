//! Configuration: `config/default.toml` (compiled in), an optional file
//! given with `--config`, then `PORTAL_AUTH__*` environment variables.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Dev,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub profile: Profile,
    pub data_dir: PathBuf,
    pub http: HttpSection,
    pub database: DatabaseSection,
    pub auth: AuthSection,
    pub tokens: TokensSection,
    pub hash: HashSection,
    pub mail: MailSection,
    pub throttle: ThrottleSection,
    pub log: LogSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    pub bind: String,
    pub trusted_proxies: Vec<String>,
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: String,
    pub max_connections: usize,
    pub auto_migrate: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    pub flow_token_ttl_secs: u64,
    pub mfa_token_ttl_secs: u64,
    pub refresh_reuse_grace_secs: u64,
    pub session_idle_secs: u64,
    pub session_absolute_secs: u64,
    pub tenant_disclosure: Disclosure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    SelectionOnly,
    Always,
    AfterPassword,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensSection {
    pub access_ttl_secs: u64,
    pub issuer: String,
    pub audience: String,
    pub signing_key_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashSection {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub max_concurrent: usize,
    pub max_waiting: usize,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: String,
    pub tls: MailTls,
    pub username: String,
    pub password: String,
    pub timeout_secs: u64,
}

impl std::fmt::Debug for MailSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSection")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSection {
    pub failures_per_email: u32,
    pub failures_per_address: u32,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub format: String,
    pub filter: String,
}

/// Which store a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Postgres(String),
    Sqlite(String),
}

impl Settings {
    /// Reads the layers and checks the values.
    ///
    /// # Errors
    ///
    /// A message naming the key at fault, or the file that could not be read.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                bail!("the configuration file {} does not exist", path.display());
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        let env = Environment::with_prefix("PORTAL_AUTH")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("http.trusted_proxies");
        let settings: Settings = builder
            .add_source(env)
            .build()
            .and_then(Config::try_deserialize)
            .context("invalid configuration")?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        self.http
            .bind
            .parse::<SocketAddr>()
            .with_context(|| format!("http.bind: {:?} is not an address:port", self.http.bind))?;
        self.trusted_proxies()?;
        self.store_url()?;
        let positive = [
            ("auth.flow_token_ttl_secs", self.auth.flow_token_ttl_secs),
            ("auth.mfa_token_ttl_secs", self.auth.mfa_token_ttl_secs),
            ("auth.session_idle_secs", self.auth.session_idle_secs),
            (
                "auth.session_absolute_secs",
                self.auth.session_absolute_secs,
            ),
            ("tokens.access_ttl_secs", self.tokens.access_ttl_secs),
            ("throttle.window_secs", self.throttle.window_secs),
            (
                "throttle.failures_per_email",
                u64::from(self.throttle.failures_per_email),
            ),
            (
                "throttle.failures_per_address",
                u64::from(self.throttle.failures_per_address),
            ),
            ("mail.timeout_secs", self.mail.timeout_secs),
            (
                "database.max_connections",
                self.database.max_connections as u64,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            bail!("{key} must be greater than 0");
        }
        for (key, value) in [
            ("tokens.issuer", &self.tokens.issuer),
            ("tokens.audience", &self.tokens.audience),
        ] {
            if value.trim().is_empty() {
                bail!("{key} must not be empty");
            }
        }
        if !matches!(self.log.format.as_str(), "" | "text" | "json") {
            bail!("log.format: {:?} is not one of text, json", self.log.format);
        }
        Ok(())
    }

    /// The store to use: the configured URL, or an SQLite file under the
    /// data folder when none is set.
    ///
    /// # Errors
    ///
    /// A message naming `database.url` for an unsupported scheme.
    pub fn store_url(&self) -> anyhow::Result<StoreUrl> {
        let url = self.database.url.trim();
        if url.is_empty() {
            let path = self.data_dir.join("portal-auth.db");
            return Ok(StoreUrl::Sqlite(format!("sqlite://{}", path.display())));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        if url.starts_with("sqlite://") {
            return Ok(StoreUrl::Sqlite(url.to_owned()));
        }
        bail!("database.url must start with postgres://, postgresql:// or sqlite://")
    }

    /// The proxies whose `X-Forwarded-For` is believed.
    ///
    /// # Errors
    ///
    /// An entry that is not an IP address (also caught at load).
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<IpAddr>> {
        let parse = |p: &String| {
            p.parse()
                .with_context(|| format!("http.trusted_proxies: {p:?} is not an IP address"))
        };
        // An empty environment variable gives one empty entry; blanks around
        // commas are a typing habit, not a mistake.
        let entries = self
            .http
            .trusted_proxies
            .iter()
            .map(|p| p.trim().to_owned());
        entries
            .filter(|p| !p.is_empty())
            .map(|p| parse(&p))
            .collect()
    }

    pub fn bind_address(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.http.bind.parse()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_defaults_load_and_are_dev() -> anyhow::Result<()> {
        let settings = Settings::load(None)?;
        assert_eq!(settings.profile, Profile::Dev);
        assert_eq!(settings.hash.argon2_memory_kib, 19_456);
        assert_eq!(settings.auth.refresh_reuse_grace_secs, 10);
        assert!(
            matches!(settings.store_url()?, StoreUrl::Sqlite(url) if url.ends_with("portal-auth.db"))
        );
        Ok(())
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let error = Settings::load(Some(Path::new("/nonexistent/portal-auth.toml")));
        assert!(error.is_err_and(|e| e.to_string().contains("does not exist")));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "[http]\nbnid = \"x\"\n")?;
        let error = format!(
            "{:#}",
            Settings::load(Some(&typo))
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default()
        );
        assert!(error.contains("bnid"), "{error}");

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[http]\nbind = \"nowhere\"\n")?;
        let error = Settings::load(Some(&bad))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(error.contains("http.bind"), "{error}");

        let scheme = dir.path().join("scheme.toml");
        std::fs::write(&scheme, "[database]\nurl = \"mysql://x\"\n")?;
        let error = Settings::load(Some(&scheme))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(error.contains("database.url"), "{error}");
        Ok(())
    }
}
