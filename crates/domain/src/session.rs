//! Sessions: what a successful login creates, and when it ends.

use crate::{Amr, SessionId, TenantId, Timestamp, UserId};

/// A login session. Refresh tokens belong to it; revoking it kills them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub amr: Amr,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked: bool,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Seconds without a refresh after which a session ends.
    pub idle_secs: u64,
    /// Seconds after login at which a session ends whatever its use.
    pub absolute_secs: u64,
}

impl Session {
    /// Whether the session can still mint tokens at `now`.
    pub fn is_live(&self, now: Timestamp, lifetime: SessionLifetime) -> bool {
        !self.revoked
            && !self.expires_at.has_passed(now)
            && !(self.last_used_at + lifetime.idle_secs).has_passed(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(last_used: i64) -> Session {
        Session {
            id: SessionId::from_random([1; 16]),
            user_id: UserId::from_random([2; 16]),
            tenant_id: TenantId::from_random([3; 16]),
            amr: Amr::Password,
            created_at: Timestamp::from_unix(0),
            last_used_at: Timestamp::from_unix(last_used),
            expires_at: Timestamp::from_unix(1000),
            revoked: false,
        }
    }

    const LIFETIME: SessionLifetime = SessionLifetime {
        idle_secs: 100,
        absolute_secs: 1000,
    };

    #[test]
    fn a_session_ends_when_idle_too_long() {
        assert!(session(0).is_live(Timestamp::from_unix(99), LIFETIME));
        assert!(!session(0).is_live(Timestamp::from_unix(100), LIFETIME));
        assert!(session(50).is_live(Timestamp::from_unix(100), LIFETIME));
    }

    #[test]
    fn a_session_ends_at_its_absolute_expiry_whatever_its_use() {
        assert!(!session(990).is_live(Timestamp::from_unix(1000), LIFETIME));
    }

    #[test]
    fn a_revoked_session_is_dead() {
        let revoked = Session {
            revoked: true,
            ..session(0)
        };
        assert!(!revoked.is_live(Timestamp::from_unix(1), LIFETIME));
    }
}
