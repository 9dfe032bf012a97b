//! Cryptographic adapters: the clock, random tokens and their digests,
//! argon2id password hashing, EdDSA-signed JWTs and RFC 6238 codes.
//!
//! Each type here implements one service port of `portal_auth_ports` and
//! depends on nothing else of ours but `domain`. Secrets are compared in
//! constant time; password hashing runs on tokio's blocking pool behind a
//! semaphore, so a burst of logins can neither stall the async executor nor
//! exhaust memory with concurrent 19 MiB argon2 runs. Start with
//! [`Argon2Hasher`] and [`SigningKey`].

mod hasher;
mod jwt;
mod tokens;
mod totp;

pub use hasher::{Argon2Hasher, Argon2Settings};
pub use jwt::{JwtSettings, JwtTokens, KeyError, SigningKey};
pub use tokens::{RandomTokens, SystemClock};
pub use totp::RfcTotp;
