//! The traits the core needs from the world, with their contracts.
//!
//! Repository ports ([`TenantRepository`], [`UserRepository`],
//! [`FactorRepository`], [`TicketRepository`], [`SessionRepository`]) are
//! implemented by every store: the in-memory fakes, SQLite and PostgreSQL.
//! The shared contract suite in [`contract`] (feature `contract`) runs the
//! same test bodies against each, so no store can drift from the others.
//! Service ports ([`Clock`], [`OpaqueTokens`], [`PasswordHasher`],
//! [`AccessTokens`], [`Totp`]) are implemented in `adapters-crypto`.
//!
//! Every port is object safe and held as `Arc<dyn Port>`, so the binary
//! chooses adapters from configuration at run time. This crate depends on
//! `domain` alone.

#[cfg(feature = "contract")]
pub mod contract;
mod repositories;
mod services;

pub use repositories::*;
pub use services::*;
