//! A fresh PostgreSQL database per test (feature `testing`).
//!
//! [`TestDatabase::create`] makes a uniquely named database on the server
//! named by `PORTAL_AUTH_TEST_DATABASE_URL` (default [`DEFAULT_SERVER_URL`],
//! which `scripts/pg-up.sh` sets up), applies every migration, and hands out
//! its URL. Dropping it drops the database. Tests that need PostgreSQL fail
//! when the server cannot be reached; they never skip, so a green run means
//! the store was really exercised.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use portal_auth_ports::StoreError;
use url::Url;

use crate::run_migrations;
use crate::store::redact;

/// The environment variable naming the server tests use: a URL whose
/// database the role can connect to, the role needing `CREATEDB`.
pub const SERVER_URL_VAR: &str = "PORTAL_AUTH_TEST_DATABASE_URL";

/// The server `scripts/pg-up.sh` prepares.
pub const DEFAULT_SERVER_URL: &str = "postgres://portal_auth:portal_auth@127.0.0.1:5432/postgres";

/// A migrated database that lives as long as this value.
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl TestDatabase {
    /// Creates and migrates a new database named `pa_test_<random hex>`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the server cannot be reached, the
    /// role may not create databases, or a migration fails. The message
    /// names the server (without its password) and how to start one.
    pub async fn create() -> Result<Self, StoreError> {
        let server_url =
            std::env::var(SERVER_URL_VAR).unwrap_or_else(|_| DEFAULT_SERVER_URL.into());
        let name = format!("pa_test_{}", uuid::Uuid::new_v4().simple());
        let url = database_url(&server_url, &name)?;

        execute_on_server(&server_url, &format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|e| hint(&server_url, e))?;
        // From here on the value exists, so a failed migration still drops
        // the database on the way out.
        let database = Self {
            name,
            url,
            server_url,
        };
        run_migrations(&database.url).await?;
        Ok(database)
    }

    /// The URL of this database, for `PostgresStore::connect` or a server's
    /// configuration.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    /// Drops the database on a thread of its own with its own runtime, so
    /// this works inside or outside a tokio runtime alike.
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            runtime.block_on(drop_database(&server_url, &name))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} was not dropped: {e}", self.name),
            Err(_) => eprintln!("test database {} was not dropped: panic", self.name),
        }
    }
}

/// `WITH (FORCE)` ends the connections a pool may still hold. It refuses
/// while a backend of another role is attached (an autovacuum worker, unless
/// the role has `pg_signal_backend`), which lasts moments, so it is retried.
async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let mut outcome = Ok(());
    for _ in 0..DROP_TRIES {
        outcome = execute_on_server(server_url, &statement).await;
        if outcome.is_ok() {
            break;
        }
        tokio::time::sleep(DROP_PAUSE).await;
    }
    outcome
}

const DROP_TRIES: u32 = 20;
const DROP_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// The server URL with its database replaced by `name`.
fn database_url(server_url: &str, name: &str) -> Result<String, StoreError> {
    let mut url = Url::parse(server_url).map_err(|e| {
        StoreError::Unavailable(format!(
            "{SERVER_URL_VAR} is not a URL ({e}): {}",
            redact(server_url)
        ))
    })?;
    url.set_path(name);
    Ok(url.into())
}

async fn execute_on_server(server_url: &str, statement: &str) -> Result<(), StoreError> {
    let mut conn = AsyncPgConnection::establish(server_url)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(())
}

fn hint(server_url: &str, error: StoreError) -> StoreError {
    StoreError::Unavailable(format!(
        "cannot create a test database on {} ({error}); start one with \
         `sudo scripts/pg-up.sh` or point {SERVER_URL_VAR} at a server whose role has CREATEDB",
        redact(server_url)
    ))
}
