//! Use cases of Portal Auth: the six login operations ([`AuthService`]) and
//! provisioning ([`Admin`]), written against the ports only.
//!
//! Each operation loads what a decision needs through the repository ports,
//! asks the pure functions of `portal_auth_domain` what follows, and carries
//! out the result: storing tickets, issuing tokens, counting failures. This
//! crate knows nothing of HTTP, SQL or any cryptographic library; adapters
//! are handed in as `Arc<dyn Port>`. Start reading at [`AuthService::identify`].

mod admin;
mod auth;
mod error;
mod settings;
mod throttle;

pub use admin::{Admin, AdminError, TotpEnrolment};
pub use auth::{
    AuthService, AuthenticateCommand, IdentifyOutcome, LoginCommand, LoginOutcome, MfaOutcome,
    MfaPending, Refreshed, SignedIn, UserView, VerifyMfaCommand,
};
pub use error::AuthError;
pub use settings::{AuthSettings, Services, TenantDisclosure, ThrottleSettings};
