//! The login flow as state transitions.
//!
//! `identify` opens a flow ticket; `authenticate` (or the one-step `login`)
//! checks the password against it and then decides, here, what follows:
//! tokens, a second factor, a tenant choice, or a refusal. MFA challenges
//! follow the same pattern. The callers load the facts, call these pure
//! functions, and carry out the outcome.

use crate::{Amr, Email, MfaMethod, Tenant, TenantId, Timestamp, User, UserId};

/// Password attempts a flow ticket allows, and code attempts an MFA
/// challenge allows, before it dies.
pub const MAX_ATTEMPTS: u32 = 5;

/// The server-side state behind a flow token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTicket {
    /// The user the email named, if any: an unknown email gets a ticket too,
    /// so the two cases look the same from outside.
    pub subject: Option<UserId>,
    /// The normalised email the flow was opened for; throttling counts by it.
    pub email: Email,
    pub attempts: u32,
    pub expires_at: Timestamp,
    pub consumed: bool,
}

impl FlowTicket {
    /// Whether a password attempt may be made with this ticket at `now`.
    pub fn accepts_attempt(&self, now: Timestamp) -> bool {
        !self.consumed && !self.expires_at.has_passed(now) && self.attempts < MAX_ATTEMPTS
    }
}

/// What the password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Match,
    Mismatch,
}

/// What is known of the user a login names, once loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user: User,
    /// The tenants in which the membership is active.
    pub active_tenants: Vec<Tenant>,
    /// The second-factor methods the user can use now, in offer order.
    pub methods: Vec<MfaMethod>,
    /// Whether the user has enrolled any factor at all.
    pub has_factor: bool,
    /// Whether the request carries a trusted-device token valid for this user.
    pub trusted_device: bool,
}

/// The outcome of a login attempt once the password has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginDecision {
    /// Unknown user, wrong password, or a tenant that is not the user's.
    /// Counts as a failed attempt.
    InvalidCredentials,
    AccountDisabled,
    /// The password was right but the user must pick one of these tenants.
    SelectTenant(Vec<Tenant>),
    /// A second factor is needed before tokens.
    SecondFactor {
        tenant: Tenant,
        methods: Vec<MfaMethod>,
    },
    /// Tokens may be issued.
    Authenticated {
        tenant: Tenant,
        amr: Amr,
    },
}

/// Decides a login attempt.
///
/// A user without an active tenant is treated as unknown. The tenant is
/// checked before anything that tells the account's state, so a wrong
/// `tenant_id` answers exactly as a wrong password.
pub fn decide_login(
    candidate: Option<&Candidate>,
    check: PasswordCheck,
    requested_tenant: Option<&str>,
) -> LoginDecision {
    let Some(candidate) = candidate.filter(|c| !c.active_tenants.is_empty()) else {
        return LoginDecision::InvalidCredentials;
    };
    if check == PasswordCheck::Mismatch {
        return LoginDecision::InvalidCredentials;
    }
    let tenant = match requested_tenant {
        Some(raw) => match find_tenant(&candidate.active_tenants, raw) {
            Some(tenant) => tenant.clone(),
            None => return LoginDecision::InvalidCredentials,
        },
        None => match candidate.active_tenants.as_slice() {
            [only] => only.clone(),
            several => {
                if candidate.user.disabled {
                    return LoginDecision::AccountDisabled;
                }
                return LoginDecision::SelectTenant(several.to_vec());
            }
        },
    };
    if candidate.user.disabled {
        return LoginDecision::AccountDisabled;
    }
    if candidate.has_factor && !candidate.trusted_device {
        return LoginDecision::SecondFactor {
            tenant,
            methods: candidate.methods.clone(),
        };
    }
    LoginDecision::Authenticated {
        tenant,
        amr: Amr::Password,
    }
}

fn find_tenant<'a>(tenants: &'a [Tenant], raw: &str) -> Option<&'a Tenant> {
    let id = TenantId::parse(raw)?;
    tenants.iter().find(|t| t.id == id)
}

/// The server-side state behind an MFA token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub methods: Vec<MfaMethod>,
    pub failures: u32,
    pub expires_at: Timestamp,
    pub consumed: bool,
}

/// Why an MFA verification is refused before any code is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeRejection {
    /// Unknown, expired, consumed, exhausted, or issued to someone else.
    InvalidToken,
    /// The method was not offered for this challenge.
    MethodUnavailable,
}

impl MfaChallenge {
    /// Checks that a code for `method` may be tried for `claimed_user` at `now`.
    ///
    /// # Errors
    ///
    /// The [`ChallengeRejection`] to answer with.
    pub fn admits(
        &self,
        claimed_user: &str,
        method: Option<MfaMethod>,
        now: Timestamp,
    ) -> Result<MfaMethod, ChallengeRejection> {
        let live = !self.consumed
            && !self.expires_at.has_passed(now)
            && self.failures < MAX_ATTEMPTS
            && UserId::parse(claimed_user) == Some(self.user_id);
        if !live {
            return Err(ChallengeRejection::InvalidToken);
        }
        method
            .filter(|m| self.methods.contains(m))
            .ok_or(ChallengeRejection::MethodUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Email, TenantName, TenantSlug};

    fn tenant(n: u8) -> Tenant {
        let slug = format!("t{n}");
        Tenant {
            id: TenantId::from_random([n; 16]),
            slug: TenantSlug::parse(&slug).unwrap_or_else(|_| panic!("slug {slug}")),
            name: TenantName::parse(&slug).unwrap_or_else(|_| panic!("name {slug}")),
        }
    }

    fn candidate(tenants: usize) -> Candidate {
        Candidate {
            user: User {
                id: UserId::from_random([9; 16]),
                email: Email::parse("ann@example.com").unwrap_or_else(|e| panic!("{e}")),
                disabled: false,
            },
            active_tenants: (1..=tenants).map(|n| tenant(n as u8)).collect(),
            methods: vec![],
            has_factor: false,
            trusted_device: false,
        }
    }

    use LoginDecision as D;
    use PasswordCheck::{Match, Mismatch};

    #[test]
    fn unknown_users_and_wrong_passwords_look_alike() {
        assert_eq!(decide_login(None, Match, None), D::InvalidCredentials);
        assert_eq!(
            decide_login(Some(&candidate(1)), Mismatch, None),
            D::InvalidCredentials
        );
    }

    #[test]
    fn a_user_without_an_active_tenant_is_unknown() {
        assert_eq!(
            decide_login(Some(&candidate(0)), Match, None),
            D::InvalidCredentials
        );
    }

    #[test]
    fn a_single_tenant_needs_no_choice() {
        let c = candidate(1);
        let expected = D::Authenticated {
            tenant: tenant(1),
            amr: Amr::Password,
        };
        assert_eq!(decide_login(Some(&c), Match, None), expected);
    }

    #[test]
    fn several_tenants_need_a_choice_only_after_the_right_password() {
        let c = candidate(2);
        assert_eq!(
            decide_login(Some(&c), Mismatch, None),
            D::InvalidCredentials
        );
        assert_eq!(
            decide_login(Some(&c), Match, None),
            D::SelectTenant(vec![tenant(1), tenant(2)])
        );
    }

    #[test]
    fn the_tenant_is_matched_by_id_in_any_case() {
        let c = candidate(2);
        let id = tenant(2).id.to_string().to_uppercase();
        let expected = D::Authenticated {
            tenant: tenant(2),
            amr: Amr::Password,
        };
        assert_eq!(decide_login(Some(&c), Match, Some(&id)), expected);
    }

    #[test]
    fn a_slug_empty_string_or_foreign_tenant_is_not_the_users() {
        let c = candidate(2);
        let foreign = tenant(7).id.to_string();
        for requested in ["t1", "", foreign.as_str()] {
            assert_eq!(
                decide_login(Some(&c), Match, Some(requested)),
                D::InvalidCredentials
            );
        }
    }

    #[test]
    fn a_disabled_user_learns_it_only_with_the_right_password() {
        let mut c = candidate(1);
        c.user.disabled = true;
        assert_eq!(
            decide_login(Some(&c), Mismatch, None),
            D::InvalidCredentials
        );
        assert_eq!(decide_login(Some(&c), Match, None), D::AccountDisabled);
        let mut several = candidate(2);
        several.user.disabled = true;
        assert_eq!(
            decide_login(Some(&several), Match, None),
            D::AccountDisabled
        );
    }

    #[test]
    fn a_factor_requires_a_second_step_unless_the_device_is_trusted() {
        let mut c = candidate(1);
        c.has_factor = true;
        c.methods = vec![MfaMethod::Totp, MfaMethod::BackupCode];
        let expected = D::SecondFactor {
            tenant: tenant(1),
            methods: c.methods.clone(),
        };
        assert_eq!(decide_login(Some(&c), Match, None), expected);
        c.trusted_device = true;
        let expected = D::Authenticated {
            tenant: tenant(1),
            amr: Amr::Password,
        };
        assert_eq!(decide_login(Some(&c), Match, None), expected);
    }

    #[test]
    fn a_flow_ticket_dies_when_consumed_expired_or_exhausted() {
        let fresh = FlowTicket {
            subject: None,
            email: candidate(0).user.email,
            attempts: 0,
            expires_at: Timestamp::from_unix(100),
            consumed: false,
        };
        let now = Timestamp::from_unix(50);
        assert!(fresh.accepts_attempt(now));
        assert!(
            !FlowTicket {
                consumed: true,
                ..fresh.clone()
            }
            .accepts_attempt(now)
        );
        assert!(
            !FlowTicket {
                attempts: MAX_ATTEMPTS,
                ..fresh.clone()
            }
            .accepts_attempt(now)
        );
        assert!(!fresh.accepts_attempt(Timestamp::from_unix(100)));
    }

    fn challenge() -> MfaChallenge {
        MfaChallenge {
            user_id: UserId::from_random([9; 16]),
            tenant_id: TenantId::from_random([1; 16]),
            methods: vec![MfaMethod::Totp],
            failures: 0,
            expires_at: Timestamp::from_unix(100),
            consumed: false,
        }
    }

    #[test]
    fn a_challenge_admits_only_its_user_and_methods() {
        let c = challenge();
        let user = c.user_id.to_string();
        let now = Timestamp::from_unix(1);
        assert_eq!(
            c.admits(&user, Some(MfaMethod::Totp), now),
            Ok(MfaMethod::Totp)
        );
        assert_eq!(
            c.admits(&user.to_uppercase(), Some(MfaMethod::Totp), now),
            Ok(MfaMethod::Totp)
        );
        assert_eq!(
            c.admits(&user, Some(MfaMethod::Email), now),
            Err(ChallengeRejection::MethodUnavailable)
        );
        assert_eq!(
            c.admits(&user, None, now),
            Err(ChallengeRejection::MethodUnavailable)
        );
        let other = UserId::from_random([8; 16]).to_string();
        assert_eq!(
            c.admits(&other, Some(MfaMethod::Totp), now),
            Err(ChallengeRejection::InvalidToken)
        );
    }

    #[test]
    fn a_challenge_dies_when_consumed_expired_or_exhausted() {
        let user = challenge().user_id.to_string();
        let now = Timestamp::from_unix(1);
        for dead in [
            MfaChallenge {
                consumed: true,
                ..challenge()
            },
            MfaChallenge {
                failures: MAX_ATTEMPTS,
                ..challenge()
            },
            MfaChallenge {
                expires_at: now,
                ..challenge()
            },
        ] {
            assert_eq!(
                dead.admits(&user, Some(MfaMethod::Totp), now),
                Err(ChallengeRejection::InvalidToken)
            );
        }
    }
}
