//! The embedded store: every repository port of `portal-auth-ports` on one
//! SQLite file, so the service starts with no database server to set up.
//!
//! Like every adapter it depends on `ports` and `domain` only, and no diesel
//! type leaves it: callers see [`SqliteStore`] and the port traits. Start
//! with [`SqliteStore`] (opening, migrating, and how writes stay atomic),
//! then one repository module per port: `tenants`, `users`, `factors`,
//! `tickets`, `sessions`, `throttle` and `devices`. The schema is
//! `migrations/sqlite`, the same tables and columns as the PostgreSQL one
//! in SQLite's types.
//!
//! ```no_run
//! # async fn start() -> Result<(), portal_auth_ports::StoreError> {
//! use std::sync::Arc;
//! use portal_auth_adapters_sqlite::SqliteStore;
//! use portal_auth_ports::Repositories;
//!
//! let store = SqliteStore::open("sqlite://data/portal-auth.db")?;
//! store.run_migrations().await?;
//! let repositories = Repositories::from_store(Arc::new(store));
//! # Ok(()) }
//! ```

mod connection;
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

pub use store::SqliteStore;
