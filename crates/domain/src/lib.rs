//! The pure core of Portal Auth: value types, policies and the login flow as
//! state transitions.
//!
//! This crate does no I/O. It has no async runtime, no clock and no source of
//! randomness: whatever a decision needs (the time, random bytes, the outcome
//! of a password check) arrives as an argument, so every rule here can be
//! tested as a plain function. Start with [`flow`], which decides what an
//! `authenticate` or `login` call does once the password has been checked,
//! then [`refresh`] for refresh-token rotation.

pub mod email;
pub mod flow;
pub mod ids;
pub mod mfa;
pub mod password;
pub mod refresh;
pub mod secret;
pub mod session;
pub mod tenant;
pub mod time;
pub mod user;

pub use email::{Email, EmailError};
pub use ids::{SessionId, TenantId, UserId};
pub use mfa::{Amr, MfaMethod};
pub use password::{Password, PasswordError};
pub use secret::{Secret, TokenHash};
pub use tenant::{Tenant, TenantName, TenantSlug};
pub use time::Timestamp;
pub use user::{Membership, MembershipStatus, User};
