//! The store itself: a connection pool, and the migrations it needs.

use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use portal_auth_ports::{StoreError, StoreResult};

use crate::error::{pool_error, query_error};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a request waits for a pooled connection, and how long opening
/// one may take, before the store answers unavailable. Short, so an
/// overloaded or unreachable database sheds load instead of piling up
/// requests.
const WAIT: Duration = Duration::from_secs(5);
const CONNECT: Duration = Duration::from_secs(5);

/// A key for `pg_advisory_lock`, so nodes starting together run the
/// migrations one at a time. Any constant unique to this service will do.
const MIGRATION_LOCK: i64 = 0x7061_5f61_7574_6801;

/// Every repository port on PostgreSQL, over a pool of connections.
///
/// Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool<AsyncPgConnection>,
}

pub(crate) type PooledConnection = Object<AsyncPgConnection>;

impl PostgresStore {
    /// Opens a pool of at most `max_connections` connections to `url` (a
    /// `postgres://user:password@host:port/database` URL) and checks that
    /// the server answers.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is unusable or the server
    /// cannot be reached or refuses the login; the text says which, without
    /// the password.
    pub async fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(CONNECT))
            .recycle_timeout(Some(CONNECT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(format!("PostgreSQL pool: {e}")))?;
        let store = Self { pool };

        store.ping_once().await.map_err(|e| {
            StoreError::Unavailable(format!("cannot use PostgreSQL at {}: {e}", redact(url)))
        })?;
        Ok(store)
    }

    pub(crate) async fn conn(&self) -> StoreResult<PooledConnection> {
        self.pool.get().await.map_err(pool_error)
    }

    pub(crate) async fn ping_once(&self) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}

/// Applies every pending migration in `migrations/postgres` to the database
/// at `url`. Safe to run from several nodes at once: an advisory lock makes
/// them take turns, and the later ones find nothing pending.
///
/// # Errors
///
/// [`StoreError::Unavailable`] when the database cannot be reached or a
/// migration fails; a failed migration leaves its own changes rolled back.
pub async fn run_migrations(url: &str) -> Result<(), StoreError> {
    let url = url.to_owned();
    // Diesel's migration runner is synchronous; it runs on the blocking
    // pool so it works under either flavour of tokio runtime.
    tokio::task::spawn_blocking(move || migrate_blocking(&url))
        .await
        .map_err(|e| StoreError::Unavailable(format!("migration task: {e}")))?
}

fn migrate_blocking(url: &str) -> Result<(), StoreError> {
    let unreachable =
        |e| StoreError::Unavailable(format!("cannot use PostgreSQL at {}: {e}", redact(url)));
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)
        .map_err(|e| unreachable(e.to_string()))?;

    // Held until the connection closes at the end of this function.
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(|e| unreachable(e.to_string()))?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
    Ok(())
}

/// The URL with its password masked, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsable URL>".to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_never_reaches_a_message() {
        assert_eq!(
            redact("postgres://ann:s3cr@t@db.example:5432/auth"),
            "postgres://ann:***@db.example:5432/auth"
        );
        assert_eq!(
            redact("postgres://db.example/auth"),
            "postgres://db.example/auth"
        );
        assert_eq!(redact("host=db password=x"), "<unparsable URL>");
    }
}
