//! [`SqliteStore`]: opening the file, migrating it, and running work on it.

use async_trait::async_trait;
use diesel::{Connection, QueryResult, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use portal_auth_ports::{StoreError, StoreHealth, StoreResult};

use crate::connection::{self, CHECKOUT_TIMEOUT, READERS, Role, SqlitePool, Target};
use crate::error::store_error;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Every repository port on one SQLite database file.
///
/// Writes go through a pool of exactly one connection, so the writes of this
/// process queue in order instead of polling SQLite's lock, and each runs as
/// one `BEGIN IMMEDIATE` transaction, which takes the write lock before its
/// first read so no other writer (another process included) can change a
/// row between that read and the write. Reads use a small pool of read-only
/// connections that, in WAL mode, never wait for the writer.
///
/// Every call runs in a task of its own: a caller that gives up (a client
/// that hangs up) never cuts a transaction short, and a connection is never
/// handed back to the pool while its blocking work still runs.
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// Work for one connection, run on the blocking pool.
pub(crate) trait Job<R>:
    FnOnce(&mut SqliteConnection) -> QueryResult<R> + Send + 'static
{
}

impl<R, F> Job<R> for F where F: FnOnce(&mut SqliteConnection) -> QueryResult<R> + Send + 'static {}

impl SqliteStore {
    /// Opens (creating if absent) the database at `url_or_path`:
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, a bare path,
    /// or `sqlite::memory:` for a private in-memory database (tests only: it
    /// lives in one connection, which serves every call).
    ///
    /// Creates missing parent folders and the file, switches it to WAL, and
    /// checks that it opens, so a bad location fails at start-up. It does
    /// not create the schema: call [`SqliteStore::run_migrations`] next. This
    /// call blocks on file I/O; make it at start-up, not on a request path.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the location is invalid or the file
    /// cannot be created or opened.
    pub fn open(url_or_path: &str) -> Result<SqliteStore, StoreError> {
        let target = Target::parse(url_or_path)?;
        target.prepare()?;
        let address = target.address()?;

        if target == Target::Memory {
            let only = connection::pool(&address, Role::Writer, 1)?;
            return Ok(Self {
                writer: only.clone(),
                readers: only,
            });
        }
        connection::connect(&address, Role::Writer)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {address}: {e}")))?;
        Ok(Self {
            writer: connection::pool(&address, Role::Writer, 1)?,
            readers: connection::pool(&address, Role::Reader, READERS)?,
        })
    }

    /// Applies the migrations of `migrations/sqlite` that the file lacks and
    /// returns how many ran. Running it again is harmless.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when a migration fails; each one runs in
    /// its own transaction, so a failed one leaves no trace.
    pub async fn run_migrations(&self) -> StoreResult<usize> {
        Self::run(&self.writer, |conn| {
            conn.run_pending_migrations(MIGRATIONS)
                .map(|applied| applied.len())
                .map_err(diesel::result::Error::QueryBuilderError)
        })
        .await
    }

    /// Runs `job` as one `BEGIN IMMEDIATE` transaction on the writer.
    pub(crate) async fn write<R: Send + 'static>(&self, job: impl Job<R>) -> StoreResult<R> {
        Self::run(&self.writer, |conn| conn.immediate_transaction(job)).await
    }

    /// Runs `job` as one read transaction, so the reads in it see a single
    /// snapshot of the file.
    pub(crate) async fn read<R: Send + 'static>(&self, job: impl Job<R>) -> StoreResult<R> {
        Self::run(&self.readers, |conn| conn.transaction(job)).await
    }

    async fn run<R: Send + 'static>(pool: &SqlitePool, job: impl Job<R>) -> StoreResult<R> {
        let pool = pool.clone();
        let task = tokio::spawn(async move {
            let mut conn = tokio::time::timeout(CHECKOUT_TIMEOUT, pool.get())
                .await
                .map_err(|_| StoreError::Unavailable("no free SQLite connection".to_owned()))?
                .map_err(|e| StoreError::Unavailable(format!("sqlite pool: {e}")))?;
            conn.spawn_blocking(job).await.map_err(store_error)
        });
        task.await
            .map_err(|e| StoreError::Unavailable(format!("sqlite task failed: {e}")))?
    }
}

#[async_trait]
impl StoreHealth for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| diesel::sql_query("SELECT 1").execute(conn).map(drop))
            .await
    }
}

#[cfg(test)]
mod tests {
    use diesel::QueryableByName;
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::{BigInt, Nullable};

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    #[derive(QueryableByName)]
    struct EmailColumns {
        #[diesel(sql_type = BigInt)]
        email_sends: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        email_sent_at: Option<i64>,
    }

    /// A private database with the foreign keys on, as every store
    /// connection has them.
    fn database() -> SqliteConnection {
        let mut conn =
            SqliteConnection::establish(":memory:").unwrap_or_else(|e| panic!("open: {e}"));
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .unwrap_or_else(|e| panic!("pragma: {e}"));
        conn
    }

    fn run(conn: &mut SqliteConnection, sql: &str) {
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .n
    }

    const USER: &str = "INSERT INTO users (id, email, password_hash)
        VALUES ('00000000-0000-4000-8000-000000000001', 'ann@example.test', 'x');";
    const CHALLENGE: &str = "INSERT INTO tenants (id, slug, name)
        VALUES ('00000000-0000-4000-8000-000000000002', 'acme', 'Acme');
        INSERT INTO mfa_challenges (token_hash, user_id, tenant_id, methods, expires_at)
        VALUES (zeroblob(32), '00000000-0000-4000-8000-000000000001',
                '00000000-0000-4000-8000-000000000002', 'totp', 2000000000);";

    /// A file written by the previous release holds challenges without the
    /// email columns: the upgrade must give them a state that passes the
    /// new checks and reads as "no code sent yet".
    #[test]
    fn upgrading_keeps_existing_challenges_with_no_code_sent() {
        let mut conn = database();
        conn.run_next_migration(MIGRATIONS)
            .unwrap_or_else(|e| panic!("initial migration: {e}"));
        run(&mut conn, USER);
        run(&mut conn, CHALLENGE);

        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .unwrap_or_else(|e| panic!("upgrade: {e}"));

        assert_eq!(applied.len(), 1);
        let columns = diesel::sql_query(
            "SELECT email_sends, email_sent_at FROM mfa_challenges WHERE email_code_hash IS NULL",
        )
        .get_result::<EmailColumns>(&mut conn)
        .unwrap_or_else(|e| panic!("read: {e}"));
        assert_eq!((columns.email_sends, columns.email_sent_at), (0, None));
    }

    /// The three email columns change together; a half-set row, such as a
    /// code without a send, is refused by the schema itself.
    #[test]
    fn the_email_columns_are_set_together_or_refused() {
        let mut conn = database();
        conn.run_pending_migrations(MIGRATIONS)
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        run(&mut conn, USER);
        run(&mut conn, CHALLENGE);

        for half in [
            "UPDATE mfa_challenges SET email_code_hash = zeroblob(32)",
            "UPDATE mfa_challenges SET email_sends = 1",
            "UPDATE mfa_challenges SET email_code_hash = zeroblob(32), email_sends = 1",
            "UPDATE mfa_challenges SET email_code_hash = zeroblob(31), email_sends = 1, email_sent_at = 1",
        ] {
            assert!(conn.batch_execute(half).is_err(), "accepted: {half}");
        }
        run(
            &mut conn,
            "UPDATE mfa_challenges SET email_code_hash = zeroblob(32), email_sends = 1, email_sent_at = 1",
        );
    }

    #[test]
    fn a_users_trusted_devices_go_with_the_user() {
        let mut conn = database();
        conn.run_pending_migrations(MIGRATIONS)
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        run(&mut conn, USER);
        run(
            &mut conn,
            "INSERT INTO trusted_devices (token_hash, user_id, expires_at)
             VALUES (zeroblob(32), '00000000-0000-4000-8000-000000000001', 2000000000)",
        );

        run(&mut conn, "DELETE FROM users");

        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM trusted_devices"),
            0
        );
    }

    /// The down script is only for a developer's reset, but it must work:
    /// it undoes the migration so that running it again succeeds.
    #[test]
    fn the_abuse_guards_migration_reverts_and_applies_again() {
        let mut conn = database();
        conn.run_pending_migrations(MIGRATIONS)
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        run(&mut conn, USER);
        run(&mut conn, CHALLENGE);

        conn.revert_last_migration(MIGRATIONS)
            .unwrap_or_else(|e| panic!("revert: {e}"));
        let left = count(
            &mut conn,
            "SELECT count(*) AS n FROM sqlite_schema
             WHERE name IN ('throttle_counters', 'trusted_devices', 'trusted_devices_user_id_idx')",
        );
        assert_eq!(left, 0);
        let again = conn
            .run_pending_migrations(MIGRATIONS)
            .unwrap_or_else(|e| panic!("migrate again: {e}"));

        assert_eq!(again.len(), 1);
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM mfa_challenges"),
            1
        );
    }
}
