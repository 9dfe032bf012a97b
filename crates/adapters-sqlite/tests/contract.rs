//! The shared contract suite of the repository ports, run against
//! [`SqliteStore`] with a fresh database file per case.

use std::sync::Arc;

use portal_auth_adapters_sqlite::SqliteStore;
use portal_auth_ports::Repositories;
use portal_auth_ports::contract::Subject;

/// A migrated store on a new file in a temporary folder that lives as long
/// as the case.
async fn fresh_store() -> Subject {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    let store = SqliteStore::open(&url).unwrap_or_else(|e| panic!("open {url}: {e}"));
    store
        .run_migrations()
        .await
        .unwrap_or_else(|e| panic!("migrate {url}: {e}"));
    Subject::with_guard(Repositories::from_store(Arc::new(store)), dir)
}

portal_auth_ports::contract_tests!(fresh_store());
