//! What only the PostgreSQL store can show: damaged rows read fail-closed,
//! connection failures are clear, migrations and test databases behave.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use portal_auth_adapters_postgres::testing::TestDatabase;
use portal_auth_adapters_postgres::{PostgresStore, run_migrations};
use portal_auth_domain::flow::MfaChallenge;
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    Amr, Email, MembershipStatus, MfaMethod, SessionId, Tenant, TenantId, TenantName, TenantSlug,
    Timestamp, TokenHash, User, UserId,
};
use portal_auth_ports::{
    SessionRepository, StoreError, StoreHealth, TenantRepository, TicketRepository, UserRepository,
};

const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

async fn database() -> TestDatabase {
    TestDatabase::create()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests: {e}"))
}

async fn store(database: &TestDatabase) -> PostgresStore {
    PostgresStore::connect(database.url(), 2)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Runs raw SQL, as a faulty deploy or a hand edit would.
async fn tamper(database: &TestDatabase, statements: &[&str]) {
    let mut conn = AsyncPgConnection::establish(database.url())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    for statement in statements {
        diesel::sql_query(*statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn parsed<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("fixture does not parse: {e}"))
}

async fn user_and_tenant(store: &PostgresStore) -> (User, Tenant) {
    let user = User {
        id: UserId::from_random([1; 16]),
        email: parsed(Email::parse("ann@example.test")),
        disabled: false,
    };
    let tenant = Tenant {
        id: TenantId::from_random([2; 16]),
        slug: parsed(TenantSlug::parse("acme")),
        name: parsed(TenantName::parse("Acme")),
    };
    ok(store.create_user(&user, "$hash").await, "create_user");
    ok(store.create_tenant(&tenant).await, "create_tenant");
    (user, tenant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_membership_status_reads_as_suspended() {
    let database = database().await;
    let store = store(&database).await;
    let (user, tenant) = user_and_tenant(&store).await;
    let active = store.set_membership(user.id, tenant.id, MembershipStatus::Active);
    ok(active.await, "set_membership");

    tamper(
        &database,
        &[
            "ALTER TABLE memberships DROP CONSTRAINT memberships_status_check",
            "UPDATE memberships SET status = 'owner'",
        ],
    )
    .await;

    let record = ok(store.find_user_by_id(user.id).await, "find_user_by_id");
    let record = record.unwrap_or_else(|| panic!("user not found"));
    assert_eq!(record.memberships[0].status, MembershipStatus::Suspended);
    assert!(record.active_tenants().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_amr_makes_the_session_read_as_revoked() {
    let database = database().await;
    let store = store(&database).await;
    let (user, tenant) = user_and_tenant(&store).await;
    let session = Session {
        id: SessionId::from_random([3; 16]),
        user_id: user.id,
        tenant_id: tenant.id,
        amr: Amr::PasswordAndOtp,
        created_at: NOW,
        last_used_at: NOW,
        expires_at: NOW + 3600,
        revoked: false,
    };
    let refresh = TokenHash::from_bytes([4; 32]);
    ok(
        store.create_session(&session, &refresh).await,
        "create_session",
    );

    tamper(&database, &["UPDATE sessions SET amr = 'pwd hwk'"]).await;

    let found = ok(store.find_refresh(&refresh).await, "find_refresh");
    let found = found.unwrap_or_else(|| panic!("refresh token not found"));
    assert!(found.session.revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_mfa_method_is_dropped_from_a_challenge() {
    let database = database().await;
    let store = store(&database).await;
    let (user, tenant) = user_and_tenant(&store).await;
    let token = TokenHash::from_bytes([5; 32]);
    let challenge = MfaChallenge {
        user_id: user.id,
        tenant_id: tenant.id,
        methods: vec![MfaMethod::Totp, MfaMethod::BackupCode],
        failures: 0,
        expires_at: NOW + 300,
        consumed: false,
    };
    ok(
        store.insert_challenge(&token, &challenge).await,
        "insert_challenge",
    );

    tamper(
        &database,
        &["UPDATE mfa_challenges SET methods = 'sms totp TOTP  backup_code'"],
    )
    .await;

    let found = ok(store.find_challenge(&token).await, "find_challenge");
    let methods = found.map(|c| c.methods);
    assert_eq!(methods, Some(vec![MfaMethod::Totp, MfaMethod::BackupCode]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_reported_clearly_and_without_the_password() {
    let url = "postgres://portal_auth:hunter2@127.0.0.1:1/portal_auth";

    let connected = PostgresStore::connect(url, 2).await;
    let migrated = run_migrations(url).await;

    for outcome in [connected.map(|_| ()), migrated] {
        let Err(StoreError::Unavailable(message)) = outcome else {
            panic!("expected Unavailable, got {outcome:?}");
        };
        assert!(message.contains("127.0.0.1:1"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_again_change_nothing() {
    let database = database().await;

    ok(run_migrations(database.url()).await, "second run");

    let store = store(&database).await;
    user_and_tenant(&store).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_test_database_is_dropped_with_its_value_even_inside_a_runtime() {
    let database = database().await;
    let url = database.url().to_owned();
    ok(store(&database).await.ping().await, "ping");

    drop(database);

    let gone = PostgresStore::connect(&url, 1).await;
    assert!(
        matches!(gone, Err(StoreError::Unavailable(_))),
        "the database still exists"
    );
}

#[test]
fn a_test_database_is_dropped_with_its_value_outside_a_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let database = runtime.block_on(database());
    let url = database.url().to_owned();

    drop(database);

    let gone = runtime.block_on(PostgresStore::connect(&url, 1));
    assert!(
        matches!(gone, Err(StoreError::Unavailable(_))),
        "the database still exists"
    );
}
