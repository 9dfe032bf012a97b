//! Users and their memberships in tenants.

use crate::{Email, Tenant, UserId};

/// A user: one identity, one email, one password, across tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub disabled: bool,
}

/// Whether a membership lets its user sign in to the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipStatus {
    Active,
    Suspended,
}

impl MembershipStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    /// Reads a stored status. Anything unrecognised reads as suspended: a
    /// damaged row must never grant access (fail closed).
    pub fn from_stored(text: &str) -> Self {
        if text == "active" {
            Self::Active
        } else {
            Self::Suspended
        }
    }
}

/// A user's membership in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub tenant: Tenant,
    pub status: MembershipStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_stored_status_fails_closed() {
        assert_eq!(
            MembershipStatus::from_stored("active"),
            MembershipStatus::Active
        );
        assert_eq!(
            MembershipStatus::from_stored("ACTIVE"),
            MembershipStatus::Suspended
        );
        assert_eq!(
            MembershipStatus::from_stored(""),
            MembershipStatus::Suspended
        );
    }
}
