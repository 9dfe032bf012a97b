//! Service ports: time, randomness, hashing, signing, one-time codes.

use async_trait::async_trait;
use portal_auth_domain::{
    Amr, Email, Password, Secret, SessionId, TenantId, Timestamp, TokenHash, UserId,
};

/// The wall clock. The only source of "now" in the service.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Opaque bearer tokens (flow, MFA and refresh tokens, backup codes) and
/// their digests.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait OpaqueTokens: Send + Sync {
    /// A new token: 256 random bits, URL-safe base64 without padding, so
    /// every token has the same length and alphabet.
    fn generate(&self) -> String;

    /// Random bytes, for ids and secrets.
    fn random_bytes(&self, out: &mut [u8]);

    /// The SHA-256 digest under which a token is stored.
    fn digest(&self, token: &str) -> TokenHash;

    /// A keyed digest (HMAC-SHA-256 with a key only the service holds) for
    /// short secrets such as backup codes: a copy of the database alone is
    /// not enough to guess them offline.
    fn keyed_digest(&self, secret: &str) -> TokenHash;

    /// The successor of a refresh token: a keyed hash of it, with a key only
    /// the service holds. Deterministic, so a successor can be handed out
    /// again within the grace window without being stored in clear, and
    /// unpredictable to anyone holding the token but not the key.
    fn successor(&self, token: &str) -> String;
}

/// A failure inside a cryptographic adapter, never something a client
/// caused.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// More password checks are waiting than the adapter queues: the request
    /// is shed so that the ones already waiting finish in reasonable time.
    #[error("overloaded: the password hashing queue is full")]
    Overloaded,
    /// A bug or an exhausted resource; the text is for the log.
    #[error("crypto failure: {0}")]
    Failed(String),
}

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` is set when the stored hash was
    /// made with other parameters than the current ones.
    Match {
        needs_rehash: bool,
    },
    Mismatch,
}

/// Password hashing, off the async executor.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password into a PHC string with the current parameters.
    async fn hash(&self, password: &Password) -> Result<String, CryptoError>;

    /// Checks a password against a stored PHC string, or, when `stored` is
    /// `None` (an unknown user), against a dummy hash of the same cost so the
    /// work and the timing are the same. A hash that does not parse is a
    /// mismatch.
    async fn verify(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> Result<Verification, CryptoError>;
}

/// The claims of an access token that vary per token; `iss` and `aud` come
/// from the issuer's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub subject: UserId,
    pub tenant: TenantId,
    pub session: SessionId,
    pub amr: Amr,
    pub token_id: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Signing and checking access tokens.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait AccessTokens: Send + Sync {
    /// Signs a JWT with the current key.
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError>;

    /// The session of a token presented to logout: the signature, algorithm,
    /// `iss` and `aud` must check out, but an expired token is accepted (as
    /// OpenID Connect accepts an expired ID token as a logout hint). `None`
    /// for anything else.
    fn session_for_logout(&self, token: &str) -> Option<SessionId>;

    /// The public keys as a JWK set document.
    fn jwks_json(&self) -> String;
}

/// RFC 6238 codes.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Totp: Send + Sync {
    /// Whether `code` is the code of `secret` at time step `step`, compared
    /// in constant time.
    fn matches(&self, secret: &[u8], step: i64, code: &str) -> bool;
}

/// Why a message could not be handed to the mail server.
#[derive(Debug, thiserror::Error)]
#[error("mail not sent: {0}")]
pub struct MailError(pub String);

/// Outgoing mail.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends a one-time login code to the stored address. Returns once the
    /// mail server has accepted the message.
    async fn send_login_code(&self, to: &Email, code: &Secret<String>) -> Result<(), MailError>;
}
