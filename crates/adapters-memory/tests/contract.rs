//! The shared repository contract suite, run against the in-memory store.

use std::sync::Arc;

use portal_auth_adapters_memory::MemoryStore;
use portal_auth_ports::Repositories;

portal_auth_ports::contract_tests!(async {
    Repositories::from_store(Arc::new(MemoryStore::default()))
});
