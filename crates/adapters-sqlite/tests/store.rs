//! What the contract suite cannot see: the file itself. Reopening,
//! migrating, damaged rows, two stores on one file, and callers that give up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use portal_auth_adapters_sqlite::SqliteStore;
use portal_auth_domain::flow::MfaChallenge;
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    Amr, Email, MembershipStatus, MfaMethod, SessionId, Tenant, TenantId, TenantName, TenantSlug,
    Timestamp, TokenHash, User, UserId,
};
use portal_auth_ports::{
    DeviceRepository, EmailCodeStored, RefreshState, SessionRepository, StoreError,
    TenantRepository, ThrottleRepository, ThrottleState, TicketRepository, UserRepository,
};

const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

fn must<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what} failed: {e}"))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"))
}

async fn open_migrated(path: &Path) -> SqliteStore {
    let store = must(
        SqliteStore::open(&format!("sqlite://{}", path.display())),
        "open",
    );
    must(store.run_migrations().await, "run_migrations");
    store
}

/// Runs SQL on the file behind the store's back, as damage or an old
/// release would, with the foreign keys that would refuse it switched off.
fn tamper(path: &Path, sql: &str) {
    let address = path.to_str().unwrap_or_else(|| panic!("UTF-8 path"));
    let mut conn = SqliteConnection::establish(address).unwrap_or_else(|e| panic!("{e}"));
    conn.batch_execute(&format!("PRAGMA foreign_keys = OFF; {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn digest(byte: u8) -> TokenHash {
    TokenHash::from_bytes([byte; 32])
}

struct Fixture {
    user: User,
    tenant: Tenant,
    session: Session,
    refresh: TokenHash,
}

/// A user, a tenant with an active membership, and a session with its
/// first refresh token.
async fn seed(store: &SqliteStore) -> Fixture {
    let user = User {
        id: UserId::from_random([1; 16]),
        email: Email::parse("ann@example.test").unwrap_or_else(|e| panic!("{e}")),
        disabled: false,
    };
    let tenant = Tenant {
        id: TenantId::from_random([2; 16]),
        slug: TenantSlug::parse("acme").unwrap_or_else(|e| panic!("{e}")),
        name: TenantName::parse("Acme").unwrap_or_else(|e| panic!("{e}")),
    };
    let session = Session {
        id: SessionId::from_random([3; 16]),
        user_id: user.id,
        tenant_id: tenant.id,
        amr: Amr::PasswordAndOtp,
        created_at: NOW,
        last_used_at: NOW,
        expires_at: NOW + 86_400,
        revoked: false,
    };
    let refresh = digest(10);
    must(store.create_user(&user, HASH).await, "create_user");
    must(store.create_tenant(&tenant).await, "create_tenant");
    let active = MembershipStatus::Active;
    must(
        store.set_membership(user.id, tenant.id, active).await,
        "set_membership",
    );
    must(
        store.create_session(&session, &refresh).await,
        "create_session",
    );
    Fixture {
        user,
        tenant,
        session,
        refresh,
    }
}

fn nested_db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("not/yet/there/auth.db")
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let dir = temp_dir();
    let path = nested_db(&dir);
    let store = open_migrated(&path).await;
    let fixture = seed(&store).await;
    let successor = digest(11);
    let rotated = store.rotate_refresh(&fixture.refresh, &successor, NOW + 5);
    assert!(must(rotated.await, "rotate_refresh"));
    drop(store);

    let reopened = open_migrated(&path).await;

    let found = must(reopened.find_refresh(&successor).await, "find_refresh");
    let found = found.unwrap_or_else(|| panic!("the successor is gone after reopening"));
    assert_eq!(found.state, RefreshState::Active);
    let expected = Session {
        last_used_at: NOW + 5,
        ..fixture.session
    };
    assert_eq!(found.session, expected);
    let old = must(
        reopened.find_refresh(&fixture.refresh).await,
        "find_refresh",
    );
    assert!(matches!(
        old.map(|r| r.state),
        Some(RefreshState::Rotated(_))
    ));
    let user = must(reopened.find_user_by_id(fixture.user.id).await, "find_user");
    assert_eq!(user.map(|r| r.active_tenants()), Some(vec![fixture.tenant]));
}

#[tokio::test]
async fn opening_creates_the_missing_folders_and_the_file() {
    let dir = temp_dir();
    let path = nested_db(&dir);

    must(SqliteStore::open(path.to_str().unwrap_or_default()), "open");

    assert!(path.is_file());
}

#[tokio::test]
async fn migrating_again_applies_nothing() {
    let dir = temp_dir();
    let store = open_migrated(&dir.path().join("auth.db")).await;

    let again = must(store.run_migrations().await, "run_migrations again");

    assert_eq!(again, 0);
}

#[tokio::test]
async fn a_location_that_cannot_be_created_is_unavailable() {
    let dir = temp_dir();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));

    let opened = SqliteStore::open(&format!("sqlite://{}/auth.db", file.display()));

    assert!(matches!(opened, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn an_in_memory_store_works_for_tests() {
    let store = must(SqliteStore::open("sqlite::memory:"), "open");
    must(store.run_migrations().await, "run_migrations");

    let fixture = seed(&store).await;

    let found = must(store.find_refresh(&fixture.refresh).await, "find_refresh");
    assert_eq!(found.map(|r| r.session), Some(fixture.session));
}

#[tokio::test]
async fn an_unknown_amr_reads_as_a_revoked_session() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let store = open_migrated(&path).await;
    let fixture = seed(&store).await;

    tamper(&path, "UPDATE sessions SET amr = 'hwk'");

    let found = must(store.find_refresh(&fixture.refresh).await, "find_refresh");
    assert_eq!(found.map(|r| r.session.revoked), Some(true));
}

#[tokio::test]
async fn an_unknown_membership_status_reads_as_suspended() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let store = open_migrated(&path).await;
    let fixture = seed(&store).await;

    // The check constraint refuses the value, so it is switched off to
    // write what an older or damaged file might hold.
    tamper(
        &path,
        "PRAGMA ignore_check_constraints = ON; UPDATE memberships SET status = 'ACTIVE'",
    );

    let found = must(store.find_user_by_id(fixture.user.id).await, "find_user");
    let record = found.unwrap_or_else(|| panic!("user not found"));
    assert_eq!(record.memberships.len(), 1);
    assert_eq!(record.memberships[0].status, MembershipStatus::Suspended);
    assert!(record.active_tenants().is_empty());
}

#[tokio::test]
async fn a_damaged_identifier_hides_the_row_instead_of_trusting_it() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let store = open_migrated(&path).await;
    let fixture = seed(&store).await;

    tamper(&path, "UPDATE sessions SET user_id = 'not-a-uuid'");

    let found = must(store.find_refresh(&fixture.refresh).await, "find_refresh");
    assert_eq!(found, None);
}

#[tokio::test]
async fn a_token_of_a_revoked_session_does_not_rotate() {
    let dir = temp_dir();
    let store = open_migrated(&dir.path().join("auth.db")).await;
    let fixture = seed(&store).await;
    let revoked = store.revoke_session(fixture.session.id, NOW + 1).await;
    must(revoked, "revoke_session");

    let successor = digest(11);

    let rotated = store.rotate_refresh(&fixture.refresh, &successor, NOW + 2);

    assert!(!must(rotated.await, "rotate_refresh"));
    let successor = must(store.find_refresh(&successor).await, "find_refresh");
    assert_eq!(successor, None);
}

/// Two stores on one file stand for two processes (the server and an
/// admin command): only SQLite's own lock orders their writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_rotate_a_token_once() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let first = Arc::new(open_migrated(&path).await);
    let second = Arc::new(open_migrated(&path).await);
    let fixture = seed(&first).await;

    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let store = if i % 2 == 0 { &first } else { &second }.clone();
            let presented = fixture.refresh;
            tokio::spawn(async move {
                store
                    .rotate_refresh(&presented, &digest(100 + i), NOW + 1)
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        let rotated = task.await.unwrap_or_else(|e| panic!("task: {e}"));
        winners += usize::from(must(rotated, "rotate_refresh"));
    }

    assert_eq!(winners, 1);
}

/// A caller that stops waiting (a client that hangs up) must neither cut a
/// transaction short nor break the store; on a single-threaded runtime, as
/// actix-web workers use, giving up must not panic either.
#[tokio::test(flavor = "current_thread")]
async fn a_call_its_caller_gave_up_on_still_completes_whole() {
    let dir = temp_dir();
    let store = open_migrated(&dir.path().join("auth.db")).await;
    let fixture = seed(&store).await;

    let successor = digest(11);

    // Polled once, which starts the call, then dropped.
    tokio::select! {
        biased;
        _ = store.rotate_refresh(&fixture.refresh, &successor, NOW + 1) => {
            panic!("the call was expected to still be running");
        }
        () = std::future::ready(()) => {}
    }

    let mut state = None;
    for _ in 0..100 {
        let found = must(store.find_refresh(&fixture.refresh).await, "find_refresh");
        state = found.map(|r| r.state);
        if state != Some(RefreshState::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(matches!(state, Some(RefreshState::Rotated(_))));
    let successor = must(store.find_refresh(&successor).await, "find_refresh");
    assert_eq!(successor.map(|r| r.state), Some(RefreshState::Active));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// The server migrates on one runtime and serves on others, and tests may
/// share a store across their runtimes: pooled connections must not stay
/// bound to the runtime that opened them.
#[test]
fn a_store_outlives_the_runtime_that_opened_it() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let opening = runtime();
    let (store, fixture) = opening.block_on(async {
        let store = open_migrated(&path).await;
        let fixture = seed(&store).await;
        (store, fixture)
    });
    drop(opening);

    let serving = runtime();
    let successor = digest(11);
    let rotated = serving.block_on(store.rotate_refresh(&fixture.refresh, &successor, NOW + 1));
    let found = serving.block_on(store.find_refresh(&successor));

    assert!(must(rotated, "rotate_refresh"));
    assert!(must(found, "find_refresh").is_some());
}

/// Two stores on one file stand for two processes: the counting upsert
/// must lose no failure even when only SQLite's lock orders the writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_count_every_failure() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let first = Arc::new(open_migrated(&path).await);
    let second = Arc::new(open_migrated(&path).await);
    let key = digest(50);

    let tasks: Vec<_> = (0..40u8)
        .map(|i| {
            let store = if i % 2 == 0 { &first } else { &second }.clone();
            tokio::spawn(async move { store.record_failure(&key, NOW, 900).await })
        })
        .collect();
    for task in tasks {
        let counted = task.await.unwrap_or_else(|e| panic!("task: {e}"));
        must(counted, "record_failure");
    }

    let state = must(first.throttle_state(&key, NOW).await, "throttle_state");
    assert_eq!(
        state,
        ThrottleState {
            failures: 40,
            window_ends_at: NOW + 900
        }
    );
}

/// A challenge of the seeded user, for the email code cases.
async fn seed_challenge(store: &SqliteStore, fixture: &Fixture, token: TokenHash) {
    let challenge = MfaChallenge {
        user_id: fixture.user.id,
        tenant_id: fixture.tenant.id,
        methods: vec![MfaMethod::Email],
        failures: 0,
        expires_at: NOW + 300,
        consumed: false,
    };
    must(
        store.insert_challenge(&token, &challenge).await,
        "insert_challenge",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_send_one_email_code() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let first = Arc::new(open_migrated(&path).await);
    let second = Arc::new(open_migrated(&path).await);
    let fixture = seed(&first).await;
    let challenge = digest(60);
    seed_challenge(&first, &fixture, challenge).await;

    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let store = if i % 2 == 0 { &first } else { &second }.clone();
            tokio::spawn(async move {
                store
                    .store_email_code(&challenge, &digest(100 + i), NOW, 30, 5)
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        let stored = task.await.unwrap_or_else(|e| panic!("task: {e}"));
        outcomes.push(must(stored, "store_email_code"));
    }

    let too_soon = EmailCodeStored::TooSoon {
        retry_after_secs: 30,
    };
    let stored = outcomes
        .iter()
        .filter(|o| **o == EmailCodeStored::Stored)
        .count();
    assert_eq!(stored, 1);
    assert!(
        outcomes
            .iter()
            .all(|o| *o == EmailCodeStored::Stored || *o == too_soon),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_damaged_email_code_reads_as_none() {
    let dir = temp_dir();
    let path = dir.path().join("auth.db");
    let store = open_migrated(&path).await;
    let fixture = seed(&store).await;
    let challenge = digest(60);
    seed_challenge(&store, &fixture, challenge).await;
    let code = digest(61);
    let stored = store.store_email_code(&challenge, &code, NOW, 30, 5).await;
    assert_eq!(must(stored, "store_email_code"), EmailCodeStored::Stored);

    tamper(
        &path,
        "PRAGMA ignore_check_constraints = ON;
         UPDATE mfa_challenges SET email_code_hash = zeroblob(31)",
    );

    let code = must(store.email_code(&challenge).await, "email_code");
    assert_eq!(code, None);
}

#[tokio::test]
async fn huge_windows_and_intervals_saturate_instead_of_failing() {
    let dir = temp_dir();
    let store = open_migrated(&dir.path().join("auth.db")).await;
    let fixture = seed(&store).await;
    let challenge = digest(60);
    seed_challenge(&store, &fixture, challenge).await;

    let counted = must(
        store.record_failure(&digest(50), NOW, u64::MAX).await,
        "record_failure",
    );
    let (code, next) = (digest(61), digest(62));
    let first = store
        .store_email_code(&challenge, &code, NOW, u64::MAX, 5)
        .await;
    let second = store
        .store_email_code(&challenge, &next, NOW + 1, u64::MAX, 5)
        .await;

    assert_eq!(counted.window_ends_at, Timestamp::from_unix(i64::MAX));
    assert_eq!(must(first, "store_email_code"), EmailCodeStored::Stored);
    let wait = u64::try_from(i64::MAX - (NOW.unix() + 1)).unwrap_or(0);
    assert_eq!(
        must(second, "store_email_code"),
        EmailCodeStored::TooSoon {
            retry_after_secs: wait
        }
    );
}

#[tokio::test]
async fn a_device_needs_a_known_user_and_a_new_token() {
    let dir = temp_dir();
    let store = open_migrated(&dir.path().join("auth.db")).await;
    let fixture = seed(&store).await;
    let device = digest(70);
    must(
        store
            .trust_device(&device, fixture.user.id, NOW + 100)
            .await,
        "trust_device",
    );

    let stranger = UserId::from_random([9; 16]);
    let unknown = store.trust_device(&digest(71), stranger, NOW + 100).await;
    let again = store
        .trust_device(&device, fixture.user.id, NOW + 500)
        .await;

    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    assert!(
        matches!(again, Err(StoreError::Conflict("device_token"))),
        "{again:?}"
    );
    // The refused second call changed nothing: the first expiry stands.
    let at = NOW + 100;
    assert!(!must(
        store.is_trusted_device(&device, fixture.user.id, at).await,
        "is_trusted_device"
    ));
}

#[tokio::test]
async fn a_new_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("nested/store.db");
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()));
    let store = store.unwrap_or_else(|e| panic!("{e}"));
    store
        .run_migrations()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o600));
}
