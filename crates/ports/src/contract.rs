//! The contract suite every store must pass.
//!
//! Each case is one sentence of the contracts in the repository ports, run
//! against a fresh [`Subject`]: the store's [`Repositories`] and whatever
//! must outlive them (a test database, a temporary file). A store's test
//! crate runs the whole suite with one line,
//!
//! ```text
//! portal_auth_ports::contract_tests!(async {
//!     Repositories::from_store(Arc::new(MemoryStore::default()))
//! });
//! ```
//!
//! which expands to one `#[tokio::test]` per case, named after the case, so
//! each fails on its own. The expression is evaluated afresh in every test
//! and must be a future of [`Repositories`] or of a [`Subject`]. The calling
//! crate needs `tokio` (features `macros` and `rt-multi-thread`) among its
//! dev-dependencies.
//!
//! Cases create their own tenants, users and tokens with unique ids, slugs
//! and emails, so they also pass against a store shared between tests.
//! Start reading at [`contract_tests!`](crate::contract_tests), then the
//! case modules.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use portal_auth_domain::flow::{FlowTicket, MfaChallenge};
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    Amr, Email, MfaMethod, SessionId, Tenant, TenantId, TenantName, TenantSlug, Timestamp,
    TokenHash, User, UserId,
};
use tokio::sync::Barrier;

use crate::{Repositories, StoreError, StoreResult};

pub mod concurrency;
pub mod factors;
pub mod guards;
pub mod sessions;
pub mod tenants;
pub mod tickets;
pub mod users;

/// Expands to one `#[tokio::test]` per contract case, each running the case
/// against the store the given expression builds.
///
/// The argument is an expression evaluated afresh in every test: a future
/// whose output is [`Repositories`] or [`Subject`](crate::contract::Subject).
/// Every test runs on a multi-threaded runtime, which the concurrency cases
/// need to race for real.
#[macro_export]
macro_rules! contract_tests {
    ($subject:expr) => {
        $crate::__contract_cases! { $subject;
            tenants::a_created_tenant_is_found_by_id_and_by_slug,
            tenants::an_unknown_tenant_is_not_found,
            tenants::a_taken_tenant_slug_is_a_conflict,
            users::a_created_user_is_found_by_email_and_by_id_without_memberships,
            users::an_unknown_user_is_not_found,
            users::a_taken_email_is_a_conflict,
            users::a_user_is_found_by_any_spelling_of_the_same_address,
            users::a_new_password_hash_replaces_the_old_one,
            users::setting_the_password_hash_of_an_unknown_user_is_not_found,
            users::a_user_can_be_disabled_and_enabled_again,
            users::disabling_an_unknown_user_is_not_found,
            users::a_membership_is_created_and_its_status_changed_in_place,
            users::a_membership_needs_an_existing_user_and_tenant,
            users::memberships_are_ordered_by_tenant_name_then_id,
            users::active_tenants_leave_out_suspended_memberships,
            users::changes_to_one_user_leave_another_untouched,
            factors::an_unknown_user_has_no_factors,
            factors::totp_enrolment_stores_the_secret_with_no_accepted_step,
            factors::totp_re_enrolment_replaces_the_secret_and_forgets_the_last_step,
            factors::enabling_the_email_factor_twice_changes_nothing,
            factors::a_totp_step_is_accepted_only_when_strictly_later_than_the_last,
            factors::no_totp_step_is_accepted_without_a_totp_factor,
            factors::replacing_backup_codes_sets_how_many_are_left,
            factors::a_backup_code_works_once,
            factors::an_unknown_backup_code_is_refused,
            factors::replacing_backup_codes_kills_the_old_ones,
            factors::factors_belong_to_their_own_user_only,
            factors::a_restored_backup_code_works_again_but_only_for_its_own_use,
            tickets::a_flow_ticket_is_stored_fresh_and_found_by_its_digest,
            tickets::an_unknown_flow_ticket_is_not_found_and_refuses_everything,
            tickets::a_flow_ticket_allows_the_maximum_of_attempts_then_refuses,
            tickets::a_released_attempt_can_be_made_again_and_never_goes_below_zero,
            tickets::a_flow_ticket_is_consumed_once,
            tickets::a_consumed_flow_ticket_refuses_attempts,
            tickets::an_expired_flow_ticket_is_dead_from_its_own_second,
            tickets::an_mfa_challenge_is_stored_fresh_and_found_by_its_digest,
            tickets::an_unknown_mfa_challenge_is_not_found_and_refuses_everything,
            tickets::an_mfa_challenge_allows_the_maximum_of_attempts_then_refuses,
            tickets::an_mfa_challenge_is_consumed_once_and_then_refuses_attempts,
            tickets::an_expired_mfa_challenge_is_dead_from_its_own_second,
            tickets::revoking_a_users_tickets_kills_their_flows_and_challenges,
            tickets::revoking_a_users_tickets_spares_other_users_and_anonymous_flows,
            sessions::a_created_session_is_found_by_its_refresh_token_as_active,
            sessions::an_unknown_refresh_token_is_not_found,
            sessions::session_fields_round_trip_for_every_amr,
            sessions::a_refresh_token_rotates_once,
            sessions::a_rotated_token_tells_when_it_was_rotated_and_that_its_successor_is_active,
            sessions::rotation_records_the_last_use_of_the_session,
            sessions::rotating_an_unknown_token_is_refused,
            sessions::a_successor_rotated_in_turn_is_no_longer_active,
            sessions::revoking_a_session_revokes_every_token_of_it,
            sessions::revoking_a_session_is_idempotent_and_ignores_unknown_ids,
            sessions::revoking_a_session_spares_other_sessions,
            sessions::a_token_of_a_revoked_session_does_not_rotate,
            sessions::revoking_every_session_of_a_user_spares_other_users,
            sessions::revoking_a_users_sessions_in_one_tenant_spares_their_other_tenants,
            sessions::the_store_answers_a_ping,
            concurrency::concurrent_rotations_of_one_token_let_exactly_one_through,
            concurrency::concurrent_consumptions_of_a_flow_ticket_let_exactly_one_through,
            concurrency::concurrent_flow_attempts_never_exceed_the_limit,
            concurrency::concurrent_challenge_attempts_never_exceed_the_limit,
            concurrency::concurrent_consumptions_of_a_challenge_let_exactly_one_through,
            concurrency::concurrent_acceptances_of_one_totp_step_let_exactly_one_through,
            concurrency::concurrent_acceptances_of_rising_totp_steps_keep_the_latest,
            concurrency::concurrent_uses_of_one_backup_code_let_exactly_one_through,
            concurrency::concurrent_sign_ups_with_one_email_let_exactly_one_through,
            concurrency::concurrent_tenants_with_one_slug_let_exactly_one_through,
            concurrency::concurrent_membership_changes_leave_one_membership,
            guards::failures_are_counted_within_a_window,
            guards::a_failure_after_the_window_starts_a_new_one,
            guards::an_unknown_key_has_no_failures_and_keys_are_independent,
            guards::clearing_a_key_forgets_its_failures,
            guards::concurrent_failures_are_all_counted,
            guards::a_trusted_device_is_trusted_for_its_user_until_it_expires,
            guards::forgetting_devices_ends_every_device_of_that_user_only,
            guards::an_email_code_is_stored_and_replaced_by_the_next,
            guards::email_codes_are_spaced_and_limited_per_challenge,
            guards::no_email_code_is_stored_for_a_dead_challenge,
            guards::concurrent_email_sends_let_exactly_one_through,
        }
    };
}

/// The expansion behind [`contract_tests!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($subject:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let subject: $crate::contract::Subject = ($subject).await.into();
                $crate::contract::$module::$case(subject.repositories().clone()).await;
            }
        )*
    };
}

/// The store under test, with whatever must live as long as it does.
pub struct Subject {
    repos: Repositories,
    // Declared after `repos` so it is dropped after them: a test database
    // must outlive the pool connected to it.
    _guard: Option<Box<dyn Any + Send>>,
}

impl Subject {
    pub fn new(repos: Repositories) -> Self {
        Self {
            repos,
            _guard: None,
        }
    }

    /// Keeps `guard` (a test database, a temporary directory) alive until
    /// the test ends, and drops it after the repositories.
    pub fn with_guard(repos: Repositories, guard: impl Any + Send) -> Self {
        Self {
            repos,
            _guard: Some(Box::new(guard)),
        }
    }

    pub fn repositories(&self) -> &Repositories {
        &self.repos
    }
}

impl From<Repositories> for Subject {
    fn from(repos: Repositories) -> Self {
        Self::new(repos)
    }
}

/// The moment every case takes as "now", unless it needs another.
pub(crate) const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

/// Turns a store failure into a test failure that says which call failed.
pub(crate) trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T> Must<T> for StoreResult<T> {
    fn must(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what} failed: {e}"))
    }
}

/// Asserts a conflict naming the broken rule.
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, rule: &str) {
    match result {
        Err(StoreError::Conflict(named)) => assert_eq!(named, rule),
        other => panic!("expected Conflict({rule}), got {other:?}"),
    }
}

/// Asserts [`StoreError::NotFound`].
pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "{what}: expected NotFound, got {result:?}"
    );
}

/// Bytes unique within this process and, with overwhelming likelihood,
/// across processes, so cases never collide in a shared store.
pub(crate) fn unique_bytes<const N: usize>() -> [u8; N] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos ^ u64::from(std::process::id()).rotate_left(32);
    state = state.wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed) << 20);
    let mut out = [0; N];
    for chunk in out.chunks_mut(8) {
        let word = splitmix64(&mut state).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    out
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn unique_hex() -> String {
    unique_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn token() -> TokenHash {
    TokenHash::from_bytes(unique_bytes())
}

pub(crate) fn new_tenant(name: &str) -> Tenant {
    let slug = format!("t-{}", unique_hex());
    Tenant {
        id: TenantId::from_random(unique_bytes()),
        slug: TenantSlug::parse(&slug).unwrap_or_else(|e| panic!("slug {slug}: {e}")),
        name: TenantName::parse(name).unwrap_or_else(|e| panic!("name {name}: {e}")),
    }
}

pub(crate) async fn stored_tenant(repos: &Repositories, name: &str) -> Tenant {
    let tenant = new_tenant(name);
    repos
        .tenants
        .create_tenant(&tenant)
        .await
        .must("create_tenant");
    tenant
}

pub(crate) fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap_or_else(|e| panic!("email {raw}: {e}"))
}

pub(crate) fn new_user() -> User {
    User {
        id: UserId::from_random(unique_bytes()),
        email: email(&format!("u{}@example.test", unique_hex())),
        disabled: false,
    }
}

/// A password hash in PHC form; stores treat it as opaque text.
pub(crate) const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

pub(crate) async fn stored_user(repos: &Repositories) -> User {
    let user = new_user();
    repos
        .users
        .create_user(&user, HASH)
        .await
        .must("create_user");
    user
}

pub(crate) fn flow_ticket(subject: Option<&User>, expires_at: Timestamp) -> FlowTicket {
    FlowTicket {
        subject: subject.map(|u| u.id),
        email: subject.map_or_else(|| new_user().email, |u| u.email.clone()),
        attempts: 0,
        expires_at,
        consumed: false,
    }
}

pub(crate) async fn stored_flow(repos: &Repositories, subject: Option<&User>) -> TokenHash {
    let hash = token();
    let ticket = flow_ticket(subject, NOW + 600);
    repos
        .tickets
        .insert_flow(&hash, &ticket)
        .await
        .must("insert_flow");
    hash
}

pub(crate) fn challenge(user: &User, tenant: &Tenant, expires_at: Timestamp) -> MfaChallenge {
    MfaChallenge {
        user_id: user.id,
        tenant_id: tenant.id,
        methods: vec![MfaMethod::Totp, MfaMethod::BackupCode],
        failures: 0,
        expires_at,
        consumed: false,
    }
}

pub(crate) async fn stored_challenge(repos: &Repositories, user: &User) -> TokenHash {
    let tenant = stored_tenant(repos, "Challenge Tenant").await;
    let hash = token();
    let fresh = challenge(user, &tenant, NOW + 300);
    repos
        .tickets
        .insert_challenge(&hash, &fresh)
        .await
        .must("insert_challenge");
    hash
}

pub(crate) fn new_session(user: &User, tenant: &Tenant) -> Session {
    Session {
        id: SessionId::from_random(unique_bytes()),
        user_id: user.id,
        tenant_id: tenant.id,
        amr: Amr::Password,
        created_at: NOW,
        last_used_at: NOW,
        expires_at: NOW + 30 * 86_400,
        revoked: false,
    }
}

/// A stored session of a new user in a new tenant, and its first token.
pub(crate) async fn stored_session(repos: &Repositories) -> (Session, TokenHash) {
    let user = stored_user(repos).await;
    let tenant = stored_tenant(repos, "Session Tenant").await;
    stored_session_of(repos, &user, &tenant).await
}

pub(crate) async fn stored_session_of(
    repos: &Repositories,
    user: &User,
    tenant: &Tenant,
) -> (Session, TokenHash) {
    let session = new_session(user, tenant);
    let refresh = token();
    repos
        .sessions
        .create_session(&session, &refresh)
        .await
        .must("create_session");
    (session, refresh)
}

/// Runs `n` copies of a call at once: every task waits at a barrier until
/// all are spawned, so the calls overlap instead of running one by one.
pub(crate) async fn race<F, Fut, T>(n: usize, call: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let pending = call(i);
            tokio::spawn(async move {
                barrier.wait().await;
                pending.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.unwrap_or_else(|e| panic!("racing task: {e}")));
    }
    results
}

/// How many of the racing calls answered `true`; any error fails the case.
pub(crate) fn winners(results: Vec<StoreResult<bool>>) -> usize {
    results
        .into_iter()
        .filter(|result| match result {
            Ok(won) => *won,
            Err(e) => panic!("racing call failed: {e}"),
        })
        .count()
}
