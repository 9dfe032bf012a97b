//! Where the database lives, and how each connection to it is set up.

use std::error::Error;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, ConnectionResult, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use portal_auth_ports::StoreError;

/// The async face of one SQLite connection: each call runs on tokio's
/// blocking pool, so a slow disk never stalls the executor.
pub(crate) type AsyncSqlite = SyncConnectionWrapper<SqliteConnection, CallerRuntime>;

pub(crate) type SqlitePool = Pool<AsyncSqlite>;

/// How long a writer waits for another connection's lock before giving up
/// with `SQLITE_BUSY`. Writes inside this process are already queued by the
/// single-connection writer pool, so the wait only matters when another
/// process (an admin command beside the server) holds the lock.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Reader connections. WAL lets them read while the writer writes.
pub(crate) const READERS: usize = 4;

/// The longest a call waits for a free connection before reporting the
/// store unavailable, so a stuck store sheds load instead of queueing forever.
pub(crate) const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a connection's blocking work on the runtime of the call, not on the
/// runtime that happened to open the connection, which the wrapper's default
/// remembers. A pooled connection outlives the call that opened it: the
/// server migrates on its main runtime and then serves on actix-web's worker
/// runtimes, and a store may be shared by tests that each run their own.
pub(crate) struct CallerRuntime;

type Blocking<'a, R> =
    Pin<Box<dyn Future<Output = Result<R, Box<dyn Error + Send + Sync>>> + Send + 'a>>;

impl SpawnBlocking for CallerRuntime {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> Blocking<'a, R>
    where
        R: Send + 'static,
    {
        let running = tokio::task::spawn_blocking(task);
        Box::pin(async move { running.await.map_err(Into::into) })
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// The database a store opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A file, by absolute path so a later change of working directory
    /// cannot point the store elsewhere.
    File(PathBuf),
    /// A private in-memory database that lives as long as its one connection.
    Memory,
}

/// What a connection is for; readers refuse to write, as a guard against a
/// write that skipped the writer and its `BEGIN IMMEDIATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Writer,
    Reader,
}

impl Target {
    /// Reads `sqlite://path`, `sqlite:path`, a bare path, or
    /// `sqlite::memory:`. `sqlite://data/auth.db` is relative to the working
    /// directory and `sqlite:///var/lib/auth.db` absolute.
    pub(crate) fn parse(url_or_path: &str) -> Result<Self, StoreError> {
        let raw = url_or_path.trim();
        if matches!(raw, "sqlite::memory:" | ":memory:") {
            return Ok(Self::Memory);
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err(invalid("the database path is empty"));
        }
        let absolute = std::path::absolute(path)
            .map_err(|e| invalid(&format!("the database path cannot be resolved: {e}")))?;
        Ok(Self::File(absolute))
    }

    /// What SQLite is given to open. Paths are absolute, so none starts with
    /// `file:` and SQLite never reads one as a URI with options.
    pub(crate) fn address(&self) -> Result<String, StoreError> {
        match self {
            Self::Memory => Ok(":memory:".to_owned()),
            Self::File(path) => path
                .to_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid("the database path is not valid UTF-8")),
        }
    }

    /// Creates the folders the file goes in, and the file itself readable
    /// by its owner only: it holds password hashes and TOTP secrets. SQLite
    /// gives its `-wal` and `-shm` files the database file's permissions.
    pub(crate) fn prepare(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory => Ok(()),
            Self::File(path) => create_parent(path).and_then(|()| create_private(path)),
        }
    }
}

/// Creates an empty file with mode 0600 unless it exists; an existing
/// file keeps the permissions its operator gave it.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;

    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })
        }
        _ => Ok(()),
    }
}

fn invalid(reason: &str) -> StoreError {
    StoreError::Unavailable(format!("invalid SQLite database location: {reason}"))
}

/// Opens one connection and applies the settings every connection needs.
///
/// `busy_timeout` comes first because switching to WAL takes a lock.
/// `foreign_keys` is off by default in SQLite and per connection, so it is
/// set on each one. `synchronous=NORMAL` is the documented pairing for WAL:
/// a commit survives a crash of the process, and at worst the last commits
/// are lost on power failure, never the file's integrity.
pub(crate) fn connect(address: &str, role: Role) -> ConnectionResult<SqliteConnection> {
    let mut conn = SqliteConnection::establish(address)?;
    let query_only = match role {
        Role::Writer => "OFF",
        Role::Reader => "ON",
    };
    let pragmas = format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
         PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA query_only = {query_only};"
    );
    conn.batch_execute(&pragmas)
        .map_err(|e| ConnectionError::BadConnection(format!("cannot configure SQLite: {e}")))?;
    Ok(conn)
}

/// A pool whose connections are opened lazily, on the runtime that first
/// asks for one, and configured by [`connect`].
pub(crate) fn pool(address: &str, role: Role, size: usize) -> Result<SqlitePool, StoreError> {
    let mut config = ManagerConfig::<AsyncSqlite>::default();
    // A local file has no network to fail, so the test query of the default
    // recycling method would only add a round trip per checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |address| {
        let address = address.to_owned();
        Box::pin(async move {
            let conn = tokio::task::spawn_blocking(move || connect(&address, role))
                .await
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))??;
            Ok(SyncConnectionWrapper::new(conn))
        })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(address, config);
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("cannot build the SQLite pool: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_read_alike() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let expected = Target::File(cwd.join("data/auth.db"));
        assert_eq!(
            Target::parse("sqlite://data/auth.db").ok(),
            Some(expected.clone())
        );
        assert_eq!(
            Target::parse("sqlite:data/auth.db").ok(),
            Some(expected.clone())
        );
        assert_eq!(Target::parse("data/auth.db").ok(), Some(expected));
    }

    #[test]
    fn three_slashes_make_an_absolute_path() {
        let target = Target::parse("sqlite:///var/lib/auth.db").ok();
        assert_eq!(
            target,
            Some(Target::File(PathBuf::from("/var/lib/auth.db")))
        );
    }

    #[test]
    fn memory_is_recognised_and_an_empty_path_is_refused() {
        assert_eq!(Target::parse("sqlite::memory:").ok(), Some(Target::Memory));
        assert!(Target::parse("sqlite://").is_err());
        assert!(Target::parse("  ").is_err());
    }
}
