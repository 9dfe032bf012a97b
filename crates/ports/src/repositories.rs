//! Repository ports: where state that must outlive a request lives.
//!
//! Every node of the service is stateless, so each operation that must be
//! atomic across nodes says so here, and each store implements it as one
//! conditional statement or one transaction, never as a read then a write.

use std::sync::Arc;

use async_trait::async_trait;
use portal_auth_domain::flow::{FlowTicket, MfaChallenge};
use portal_auth_domain::refresh::RotatedToken;
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    Email, Membership, MembershipStatus, Secret, SessionId, Tenant, TenantId, TenantSlug,
    Timestamp, TokenHash, User, UserId,
};

/// A failure of a repository call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the text names which (`tenant_slug`,
    /// `user_email`).
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// The row the call was meant to change does not exist.
    #[error("not found")]
    NotFound,
    /// The store could not answer: unreachable, timed out, or a fault. The
    /// text is for the log only, never for a client.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user with what login needs to know of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    /// The PHC string of the password hash.
    pub password_hash: Secret<String>,
    /// Every membership, active or suspended, ordered by tenant name then id.
    pub memberships: Vec<Membership>,
}

impl UserRecord {
    /// The tenants in which the user may sign in, in membership order.
    pub fn active_tenants(&self) -> Vec<Tenant> {
        self.memberships
            .iter()
            .filter(|m| m.status == MembershipStatus::Active)
            .map(|m| m.tenant.clone())
            .collect()
    }
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Stores a new tenant.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`]`("tenant_slug")` when the slug is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;

    async fn find_tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>>;

    async fn find_tenant_by_slug(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>>;
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user with no membership.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`]`("user_email")` when the email is taken.
    async fn create_user(&self, user: &User, password_hash: &str) -> StoreResult<()>;

    /// Loads a user by normalised email, with memberships, in one read.
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>>;

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;

    /// Replaces the password hash.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()>;

    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()>;

    /// Creates the membership or changes its status.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when the user or the tenant does not exist.
    async fn set_membership(
        &self,
        user: UserId,
        tenant: TenantId,
        status: MembershipStatus,
    ) -> StoreResult<()>;
}

/// A user's enrolled second factors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Factors {
    pub totp: Option<TotpFactor>,
    pub email: bool,
    /// How many backup codes are still unused.
    pub backup_codes_left: u32,
}

impl Factors {
    /// Whether any factor proper is enrolled (backup codes are not one).
    pub fn any(&self) -> bool {
        self.totp.is_some() || self.email
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub secret: Secret<Vec<u8>>,
    /// The last time step a code was accepted for, if any.
    pub last_step: Option<i64>,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait FactorRepository: Send + Sync {
    /// Loads a user's factors; an unknown user has none.
    async fn factors(&self, user: UserId) -> StoreResult<Factors>;

    /// Enrols (or re-enrols) TOTP with a new secret and no accepted step.
    async fn set_totp(&self, user: UserId, secret: &Secret<Vec<u8>>) -> StoreResult<()>;

    /// Enrols the email factor; enrolling twice changes nothing.
    async fn enable_email(&self, user: UserId) -> StoreResult<()>;

    /// Records `step` as the last accepted TOTP step, only if it is later
    /// than the one stored. Atomic: of concurrent calls with the same step,
    /// exactly one returns `true`.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;

    /// Replaces every backup code of the user with these digests.
    async fn replace_backup_codes(&self, user: UserId, codes: &[TokenHash]) -> StoreResult<()>;

    /// Marks an unused backup code used. Atomic: of concurrent calls with the
    /// same code, exactly one returns `true`.
    async fn consume_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Gives back a backup code consumed at `used_at` by a verification that
    /// then lost its MFA token to a concurrent one, so the code is not spent
    /// for nothing. Only a use at exactly that time is undone; anything else
    /// is left as it is.
    async fn restore_backup_code(
        &self,
        user: UserId,
        code: &TokenHash,
        used_at: Timestamp,
    ) -> StoreResult<()>;
}

/// Flow tickets (behind flow tokens) and MFA challenges (behind MFA tokens).
/// Both are looked up by the SHA-256 digest of the token, never the token.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait TicketRepository: Send + Sync {
    /// Stores a new flow ticket with `attempts` 0 and not consumed.
    async fn insert_flow(&self, token: &TokenHash, ticket: &FlowTicket) -> StoreResult<()>;

    async fn find_flow(&self, token: &TokenHash) -> StoreResult<Option<FlowTicket>>;

    /// Reserves one password attempt: increments `attempts` only while the
    /// ticket is unconsumed, unexpired at `now` and below
    /// [`MAX_ATTEMPTS`](portal_auth_domain::flow::MAX_ATTEMPTS). Atomic, so
    /// concurrent attempts can never exceed the limit. `false` when refused.
    async fn reserve_flow_attempt(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool>;

    /// Gives back a reserved attempt that turned out not to be a failure
    /// (the user must still pick a tenant). Never goes below zero.
    async fn release_flow_attempt(&self, token: &TokenHash) -> StoreResult<()>;

    /// Consumes the ticket. Atomic: of concurrent calls exactly one returns
    /// `true`, and none after the ticket expired.
    async fn consume_flow(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool>;

    /// Stores a new MFA challenge with `failures` 0 and not consumed.
    async fn insert_challenge(
        &self,
        token: &TokenHash,
        challenge: &MfaChallenge,
    ) -> StoreResult<()>;

    async fn find_challenge(&self, token: &TokenHash) -> StoreResult<Option<MfaChallenge>>;

    /// Reserves one code attempt, counted as a failure unless the challenge
    /// is then consumed: increments `failures` only while the challenge is
    /// unconsumed, unexpired and below the limit. Atomic. `false` when refused.
    async fn reserve_challenge_attempt(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Consumes the challenge. Atomic: of concurrent calls exactly one
    /// returns `true`, and none after it expired.
    async fn consume_challenge(&self, token: &TokenHash, now: Timestamp) -> StoreResult<bool>;

    /// Kills every outstanding flow ticket and MFA challenge of a user, as
    /// when the password changes or the user is disabled.
    async fn revoke_user_tickets(&self, user: UserId, now: Timestamp) -> StoreResult<()>;

    /// Stores a new email code (its digest) for a challenge, replacing the
    /// previous one, and counts the send. Atomic, judged in one conditional
    /// write: the challenge must be unconsumed, unexpired at `now` and below
    /// the failure limit ([`EmailCodeStored::NotLive`] otherwise); fewer than
    /// `max_sends` codes may have been stored ([`EmailCodeStored::TooMany`]);
    /// and the last one at least `min_interval_secs` before `now`
    /// ([`EmailCodeStored::TooSoon`], with the seconds left).
    async fn store_email_code(
        &self,
        token: &TokenHash,
        code: &TokenHash,
        now: Timestamp,
        min_interval_secs: u64,
        max_sends: u32,
    ) -> StoreResult<EmailCodeStored>;

    /// The digest of the challenge's current email code, if one was stored.
    async fn email_code(&self, token: &TokenHash) -> StoreResult<Option<TokenHash>>;
}

/// What [`TicketRepository::store_email_code`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailCodeStored {
    Stored,
    /// The previous code was sent less than the interval ago.
    TooSoon {
        retry_after_secs: u64,
    },
    /// The challenge has had its share of codes.
    TooMany,
    /// The challenge is unknown, consumed, expired or exhausted.
    NotLive,
}

/// What a store reads back from a challenge after its conditional write
/// refused an email send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedSend {
    /// Unconsumed, unexpired and below the failure limit.
    pub live: bool,
    pub sends: u32,
    pub last_sent_at: Option<Timestamp>,
}

impl EmailCodeStored {
    /// Why a send was refused, judged in the contract's order: a dead
    /// challenge, then the cap, then the spacing. Every store calls this
    /// once its conditional write changed nothing, so they cannot disagree.
    /// A row that looks sendable here changed after the write refused; the
    /// caller is told to retry in a second and the next write decides.
    pub fn refusal(
        found: RefusedSend,
        now: Timestamp,
        min_interval_secs: u64,
        max_sends: u32,
    ) -> Self {
        if !found.live {
            return Self::NotLive;
        }
        if found.sends >= max_sends {
            return Self::TooMany;
        }
        let next_allowed = found
            .last_sent_at
            .map_or(now, |last| last + min_interval_secs);
        let retry_after_secs = u64::try_from(next_allowed - now).unwrap_or(0).max(1);
        Self::TooSoon { retry_after_secs }
    }
}

/// Failure counts for a throttle key, in the current fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    /// When the current window ends; meaningless while `failures` is 0.
    pub window_ends_at: Timestamp,
}

/// Failed-attempt counters, kept in the store so that every node sees the
/// same counts. Keys are digests (of `throttle:email:<normalised email>` or
/// `throttle:address:<ip>`), so the table never holds an address typed by a
/// client.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ThrottleRepository: Send + Sync {
    /// Counts one failure. The window starts at a key's first failure and
    /// lasts `window_secs`; a failure at or after its end starts a new window
    /// at `now` with a count of 1. Atomic: concurrent calls never lose a
    /// count. Returns the state after counting.
    async fn record_failure(
        &self,
        key: &TokenHash,
        now: Timestamp,
        window_secs: u64,
    ) -> StoreResult<ThrottleState>;

    /// The state at `now`; an unknown key, or a window that has ended, reads
    /// as zero failures.
    async fn throttle_state(&self, key: &TokenHash, now: Timestamp) -> StoreResult<ThrottleState>;

    /// Forgets a key's failures, after a success.
    async fn clear_failures(&self, key: &TokenHash) -> StoreResult<()>;
}

/// Devices a user chose to trust after a second factor: their tokens skip
/// the second factor for that user only. Stored by digest.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait DeviceRepository: Send + Sync {
    /// Trusts a device token for `user` until `expires_at`.
    async fn trust_device(
        &self,
        token: &TokenHash,
        user: UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;

    /// Whether the token is trusted for this very user and unexpired at `now`.
    async fn is_trusted_device(
        &self,
        token: &TokenHash,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Ends every trusted device of a user (new password, disabled account,
    /// changed factors).
    async fn forget_devices(&self, user: UserId) -> StoreResult<()>;
}

/// Where a refresh token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    Active,
    Rotated(RotatedToken),
}

/// A refresh token found by its digest, with its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub session: Session,
    pub state: RefreshState,
}

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Stores a new session and its first refresh token, together.
    async fn create_session(&self, session: &Session, refresh: &TokenHash) -> StoreResult<()>;

    /// Finds a refresh token and its session. A token of a revoked session
    /// is still found, with `session.revoked` set; a stored value that does
    /// not parse makes the session read as revoked, never as valid.
    async fn find_refresh(&self, token: &TokenHash) -> StoreResult<Option<RefreshRecord>>;

    /// Rotates `presented` to `successor`: marks it rotated at `now` only if
    /// it is still active and its session is not revoked (a refresh racing a
    /// logout must not mint tokens), stores `successor` as the session's new active
    /// token, and records `now` as the session's last use. One transaction
    /// judged by the affected-row count: of concurrent calls with one token
    /// exactly one returns `true`.
    async fn rotate_refresh(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Revokes one session, and so every refresh token of it. Idempotent;
    /// an unknown id is not an error.
    async fn revoke_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()>;

    /// Revokes every session of a user, or only those in one tenant.
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        tenant: Option<TenantId>,
        now: Timestamp,
    ) -> StoreResult<()>;
}

/// Liveness of the store, for readiness probes.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Runs a trivial query.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the store cannot answer.
    async fn ping(&self) -> StoreResult<()>;
}

/// Every repository of one store, as the application holds them.
#[derive(Clone)]
pub struct Repositories {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub factors: Arc<dyn FactorRepository>,
    pub tickets: Arc<dyn TicketRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub throttle: Arc<dyn ThrottleRepository>,
    pub devices: Arc<dyn DeviceRepository>,
    pub health: Arc<dyn StoreHealth>,
}

impl Repositories {
    /// Bundles one store that implements every repository port.
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: TenantRepository
            + UserRepository
            + FactorRepository
            + TicketRepository
            + SessionRepository
            + ThrottleRepository
            + DeviceRepository
            + StoreHealth
            + 'static,
    {
        Self {
            tenants: store.clone(),
            users: store.clone(),
            factors: store.clone(),
            tickets: store.clone(),
            sessions: store.clone(),
            throttle: store.clone(),
            devices: store.clone(),
            health: store,
        }
    }
}
