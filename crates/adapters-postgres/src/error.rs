//! Driver errors turned into port errors, in one place.
//!
//! Unique violations are recognised by constraint name, which is why the
//! migrations name every constraint. Anything else is a fault whose text
//! goes to the log, never to a client.

use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::pooled_connection::deadpool::PoolError;
use portal_auth_ports::StoreError;

/// Maps a query error to what the port promises.
pub(crate) fn query_error(error: Error) -> StoreError {
    match &error {
        Error::NotFound => StoreError::NotFound,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            match info.constraint_name() {
                Some("tenants_slug_key") => StoreError::Conflict("tenant_slug"),
                Some("users_email_key") => StoreError::Conflict("user_email"),
                // A repeated primary key is a repeated random id or token
                // digest: a broken random source, not a client's mistake.
                _ => unavailable(&error),
            }
        }
        // Every foreign key points at a user, tenant or session the call
        // named; the row it needs does not exist.
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => StoreError::NotFound,
        _ => unavailable(&error),
    }
}

/// A connection could not be had: the server is down, refuses us, or the
/// pool stayed exhausted past its wait timeout.
pub(crate) fn pool_error(error: PoolError) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL connection: {error}"))
}

/// A row that breaks an invariant the schema cannot express, such as an
/// email that no longer parses.
pub(crate) fn damaged(what: &str) -> StoreError {
    StoreError::Unavailable(format!("damaged row: {what}"))
}

fn unavailable(error: &Error) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL: {error}"))
}
