//! Every repository port on PostgreSQL, through diesel and diesel-async
//! with a deadpool connection pool.
//!
//! This is the production store: every node of the service shares one
//! database, so each operation the ports call atomic is one conditional
//! statement (`UPDATE … WHERE … ` judged by its affected-row count) or one
//! transaction, never a read followed by a write. A stored value that does
//! not parse (a membership status, an `amr`, a method name, a digest of the
//! wrong length) reads as suspended, revoked or absent, never as valid.
//! Driver errors become [`StoreError`](portal_auth_ports::StoreError)s in
//! `error.rs`; no diesel type appears in a public signature.
//!
//! This crate depends on `ports` and `domain` only. Start with
//! [`PostgresStore::connect`] and [`run_migrations`], then one module per
//! port. The schema lives in `migrations/postgres`; `schema.rs` mirrors it.
//! Feature `testing` adds `testing::TestDatabase`, a fresh database per
//! test.

mod convert;
mod devices;
mod error;
mod factors;
mod schema;
mod sessions;
mod store;
mod tenants;
mod throttle;
mod tickets;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use store::{PostgresStore, run_migrations};

#[async_trait::async_trait]
impl portal_auth_ports::StoreHealth for PostgresStore {
    async fn ping(&self) -> portal_auth_ports::StoreResult<()> {
        self.ping_once().await
    }
}
