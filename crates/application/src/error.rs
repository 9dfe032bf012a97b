//! The outcomes of the login operations that are not a success.

use portal_auth_domain::Tenant;
use portal_auth_ports::{CryptoError, StoreError};

/// Why a login operation did not succeed. Each variant is an answer the
/// client acts on, plus [`AuthError::Unexpected`] for infrastructure faults,
/// whose text is for the log only.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the flow token is unknown, expired, used up or exhausted")]
    InvalidFlowToken,
    #[error("the email, password or tenant is wrong")]
    InvalidCredentials,
    #[error("the user belongs to several tenants and must choose one")]
    TenantSelectionRequired(Vec<Tenant>),
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("a second factor is required; use the two-step login")]
    MfaRequired,
    #[error("the MFA token is unknown, expired, used up or not this user's")]
    InvalidMfaToken,
    #[error("the MFA method was not offered for this login")]
    MfaMethodUnavailable,
    #[error("the MFA code is wrong")]
    InvalidMfaCode,
    #[error("the refresh token is unknown or its session has ended")]
    InvalidRefreshToken,
    #[error("a rotated refresh token was replayed; the session is revoked")]
    RefreshTokenReused,
    #[error("too many failed attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("the mail server cannot take the message")]
    MailUnavailable { retry_after_secs: u64 },
    /// The service cannot answer now: the store is unreachable or timed out,
    /// or password checks are queued past their limit and the request is
    /// shed. A passing condition the client may retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected failure: {0}")]
    Unexpected(String),
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Unexpected(other.to_string()),
        }
    }
}

impl From<CryptoError> for AuthError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::Overloaded => Self::Unavailable(error.to_string()),
            CryptoError::Failed(_) => Self::Unexpected(error.to_string()),
        }
    }
}
