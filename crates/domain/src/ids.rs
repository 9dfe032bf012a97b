//! Identifiers. Each is its own type so a tenant id can never be passed where
//! a user id is expected.

use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// Builds an id from 16 random bytes, as a version 4 UUID.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }

            /// Parses the textual form, in either case. Anything that is not a
            /// UUID is `None`, never an error a caller could tell apart.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text).ok().map(Self)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A user: one global identity across tenants.
    UserId
);
uuid_id!(
    /// A tenant, the organisation tokens are issued for.
    TenantId
);
uuid_id!(
    /// A login session, the owner of a chain of refresh tokens.
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_in_either_case_and_print_lowercase() {
        let id = TenantId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF");
        assert_eq!(
            id.map(|id| id.to_string()).as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
    }

    #[test]
    fn a_slug_or_an_empty_string_is_not_an_id() {
        assert_eq!(TenantId::parse("acme"), None);
        assert_eq!(TenantId::parse(""), None);
    }

    #[test]
    fn random_ids_are_version_4() {
        let id = UserId::from_random([7; 16]);
        assert_eq!(id.as_uuid().get_version_num(), 4);
    }
}
