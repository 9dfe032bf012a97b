//! In-memory implementations of every repository port.
//!
//! [`MemoryStore`] is the stateful fake that unit tests of the application
//! layer run against: one struct, every port, all state behind one mutex so
//! each call is atomic exactly as the port contracts demand of a real store.
//! It passes the same contract suite as PostgreSQL and SQLite
//! (`portal_auth_ports::contract`), so behaviour learnt against it holds in
//! production. It keeps nothing on disk and is never used to serve real
//! users; the zero-setup start uses the embedded SQLite store instead.
//!
//! This crate depends on `ports` and `domain` only. Start with
//! [`MemoryStore`]; each port's implementation lives in its own module.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use portal_auth_domain::flow::{FlowTicket, MfaChallenge};
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    MembershipStatus, SessionId, Tenant, TenantId, Timestamp, TokenHash, User, UserId,
};
use portal_auth_ports::{StoreError, StoreResult, TotpFactor};

mod devices;
mod factors;
mod sessions;
mod tenants;
mod throttle;
mod tickets;
mod users;

/// Every repository port, in memory.
///
/// `Repositories::from_store(Arc::new(MemoryStore::default()))` gives the
/// application a complete, empty store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// The whole store. Rows that a SQL store would join by foreign key are
/// kept in separate maps keyed the same way, so the fake refuses what the
/// database would refuse (a factor for an unknown user, say).
#[derive(Default)]
struct State {
    tenants: HashMap<TenantId, Tenant>,
    users: HashMap<UserId, StoredUser>,
    memberships: HashMap<(UserId, TenantId), MembershipStatus>,
    totp: HashMap<UserId, TotpFactor>,
    email_factor: HashSet<UserId>,
    backup_codes: HashMap<UserId, Vec<BackupCode>>,
    flows: HashMap<TokenHash, FlowTicket>,
    challenges: HashMap<TokenHash, MfaChallenge>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<TokenHash, RefreshToken>,
    email_codes: HashMap<TokenHash, EmailCode>,
    throttle: HashMap<TokenHash, portal_auth_ports::ThrottleState>,
    devices: HashMap<TokenHash, (UserId, Timestamp)>,
}

/// The email code of a challenge and its send accounting.
struct EmailCode {
    digest: Option<TokenHash>,
    sends: u32,
    last_sent_at: Option<Timestamp>,
}

struct StoredUser {
    user: User,
    password_hash: String,
}

struct BackupCode {
    digest: TokenHash,
    used_at: Option<Timestamp>,
}

struct RefreshToken {
    session: SessionId,
    rotated_at: Option<Timestamp>,
    successor: Option<TokenHash>,
}

impl MemoryStore {
    /// Runs `operation` with the store locked, so it is atomic with respect
    /// to every other call.
    ///
    /// A poisoned lock means a panic interrupted an earlier operation
    /// half-way; the state may be inconsistent, so the store answers
    /// unavailable instead of serving it.
    fn with<T>(&self, operation: impl FnOnce(&mut State) -> StoreResult<T>) -> StoreResult<T> {
        let mut state: MutexGuard<'_, State> = self
            .state
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".to_owned()))?;
        operation(&mut state)
    }
}

impl State {
    fn require_user(&self, id: UserId) -> StoreResult<()> {
        if self.users.contains_key(&id) {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    fn require_tenant(&self, id: TenantId) -> StoreResult<()> {
        if self.tenants.contains_key(&id) {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

/// A digest collision of two random 256-bit tokens means a broken random
/// source, not a client's mistake: a fault, as a SQL store's primary-key
/// violation would be.
fn duplicate_token(what: &str) -> StoreError {
    StoreError::Unavailable(format!("duplicate {what} digest"))
}

#[async_trait::async_trait]
impl portal_auth_ports::StoreHealth for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        self.with(|_| Ok(()))
    }
}
