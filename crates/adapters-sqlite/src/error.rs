//! Driver errors turned into port errors, in one place.

use diesel::result::{DatabaseErrorKind, Error};
use portal_auth_ports::StoreError;

/// Unique constraints a caller can act on, by the `table.column` SQLite names
/// in its message (SQLite does not report constraint names for them), and
/// the name the port gives each.
const UNIQUE_COLUMNS: &[(&str, &str)] = &[
    ("tenants.slug", "tenant_slug"),
    ("tenants.id", "tenant_id"),
    ("users.email", "user_email"),
    ("users.id", "user_id"),
    ("sessions.id", "session_id"),
    ("refresh_tokens.token_hash", "refresh_token"),
    ("flow_tickets.token_hash", "flow_token"),
    ("mfa_challenges.token_hash", "mfa_token"),
    ("trusted_devices.token_hash", "device_token"),
];

/// Maps a diesel error to the port's terms. A broken uniqueness rule is a
/// conflict and a missing referenced row is `NotFound`; anything else (a
/// busy or locked database, a full disk, a damaged file) is a fault the
/// client cannot fix, reported with its text for the log.
pub(crate) fn store_error(error: Error) -> StoreError {
    match &error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(unique_name(info.message()))
        }
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => StoreError::NotFound,
        Error::NotFound => StoreError::NotFound,
        _ => StoreError::Unavailable(format!("sqlite: {error}")),
    }
}

fn unique_name(message: &str) -> &'static str {
    UNIQUE_COLUMNS
        .iter()
        .find(|(column, _)| message.contains(column))
        .map_or("unique", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_the_broken_rule() {
        assert_eq!(
            unique_name("UNIQUE constraint failed: tenants.slug"),
            "tenant_slug"
        );
        assert_eq!(
            unique_name("UNIQUE constraint failed: users.email"),
            "user_email"
        );
        assert_eq!(unique_name("UNIQUE constraint failed: other.x"), "unique");
    }
}
