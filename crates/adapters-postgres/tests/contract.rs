//! The shared repository contract suite, run against PostgreSQL: each case
//! gets a database of its own, created and migrated for it and dropped
//! after. A server must be running (see `scripts/pg-up.sh`); without one
//! every case fails rather than skips.

use std::sync::Arc;

use portal_auth_adapters_postgres::PostgresStore;
use portal_auth_adapters_postgres::testing::TestDatabase;
use portal_auth_ports::Repositories;
use portal_auth_ports::contract::Subject;

/// Enough connections for the concurrency cases to overlap for real, few
/// enough that parallel tests stay far below the server's limit.
const POOL_SIZE: usize = 8;

async fn subject() -> Subject {
    let database = TestDatabase::create()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests: {e}"));
    let store = PostgresStore::connect(database.url(), POOL_SIZE)
        .await
        .unwrap_or_else(|e| panic!("connect to the test database: {e}"));
    Subject::with_guard(Repositories::from_store(Arc::new(store)), database)
}

portal_auth_ports::contract_tests!(subject());
