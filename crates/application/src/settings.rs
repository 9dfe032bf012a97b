//! What the use cases are configured with.

use std::sync::Arc;

use portal_auth_domain::session::SessionLifetime;
use portal_auth_ports::{AccessTokens, Clock, Mailer, OpaqueTokens, PasswordHasher, Totp};

/// How much `identify` tells about a user's tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TenantDisclosure {
    /// Tenants are listed only when there is a choice to make (two or more);
    /// a single-tenant user looks exactly like an unknown email.
    #[default]
    SelectionOnly,
    /// Every user's tenants are listed. Gives up enumeration safety.
    Always,
    /// `identify` never lists tenants; `authenticate` names them once the
    /// password is right.
    AfterPassword,
}

/// Lifetimes and policies of the login flows.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    pub flow_token_ttl_secs: u64,
    pub mfa_token_ttl_secs: u64,
    pub access_ttl_secs: u64,
    pub refresh_reuse_grace_secs: u64,
    pub session: SessionLifetime,
    pub tenant_disclosure: TenantDisclosure,
    pub throttle: ThrottleSettings,
    /// How long a device trusted after a second factor skips it.
    pub trusted_device_ttl_secs: u64,
    /// The shortest time between two email codes for one MFA token.
    pub email_code_interval_secs: u64,
    /// How many email codes one MFA token may send.
    pub email_codes_per_token: u32,
}

/// Limits on failed password checks and second-factor codes.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub failures_per_email: u32,
    pub failures_per_address: u32,
    pub window_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            flow_token_ttl_secs: 600,
            mfa_token_ttl_secs: 300,
            access_ttl_secs: 900,
            refresh_reuse_grace_secs: 10,
            session: SessionLifetime {
                idle_secs: 7 * 86_400,
                absolute_secs: 30 * 86_400,
            },
            tenant_disclosure: TenantDisclosure::SelectionOnly,
            throttle: ThrottleSettings {
                failures_per_email: 10,
                failures_per_address: 1000,
                window_secs: 900,
            },
            trusted_device_ttl_secs: 30 * 86_400,
            email_code_interval_secs: 30,
            email_codes_per_token: 5,
        }
    }
}

/// The service ports the use cases call.
#[derive(Clone)]
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<dyn OpaqueTokens>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub access: Arc<dyn AccessTokens>,
    pub totp: Arc<dyn Totp>,
    /// Where email codes go; without one, the email factor is not offered.
    pub mailer: Option<Arc<dyn Mailer>>,
}

impl Services {
    /// Sixteen random bytes, for new ids.
    pub(crate) fn random_16(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        self.tokens.random_bytes(&mut bytes);
        bytes
    }
}
