//! The clock and opaque random tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use portal_auth_domain::{Timestamp, TokenHash};
use portal_auth_ports::{Clock, OpaqueTokens};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The system wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(chrono::Utc::now().timestamp())
    }
}

/// Opaque tokens from the operating system's CSPRNG (through `rand`'s
/// thread-local generator, seeded and reseeded from it).
pub struct RandomTokens {
    successor_key: [u8; 32],
}

impl RandomTokens {
    /// `successor_key` keys the derivation of refresh-token successors; it
    /// must be secret and the same on every node.
    pub fn new(successor_key: [u8; 32]) -> Self {
        Self { successor_key }
    }
}

impl OpaqueTokens for RandomTokens {
    fn generate(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn random_bytes(&self, out: &mut [u8]) {
        rand::rng().fill_bytes(out);
    }

    fn digest(&self, token: &str) -> TokenHash {
        TokenHash::from_bytes(Sha256::digest(token.as_bytes()).into())
    }

    fn keyed_digest(&self, secret: &str) -> TokenHash {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail;
        // the plain digest keeps the function total all the same.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.successor_key) else {
            return self.digest(secret);
        };
        mac.update(b"portal-auth keyed digest v1\0");
        mac.update(secret.as_bytes());
        TokenHash::from_bytes(mac.finalize().into_bytes().into())
    }

    fn successor(&self, token: &str) -> String {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail
        // here; the fallback keeps the function total all the same.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.successor_key) else {
            return self.generate();
        };
        mac.update(b"portal-auth refresh successor v1\0");
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_one_length_and_alphabet() {
        let tokens = RandomTokens::new([1; 32]);
        for _ in 0..50 {
            let token = tokens.generate();
            assert_eq!(token.len(), 43);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
        assert_ne!(tokens.generate(), tokens.generate());
    }

    #[test]
    fn successors_are_deterministic_keyed_and_look_like_tokens() {
        let a = RandomTokens::new([1; 32]);
        let b = RandomTokens::new([2; 32]);
        assert_eq!(a.successor("t"), a.successor("t"));
        assert_ne!(a.successor("t"), b.successor("t"));
        assert_ne!(a.successor("t"), a.successor("u"));
        assert_eq!(a.successor("t").len(), 43);
    }

    #[test]
    fn keyed_digests_depend_on_the_key() {
        let (a, b) = (RandomTokens::new([1; 32]), RandomTokens::new([2; 32]));
        assert_eq!(a.keyed_digest("code"), a.keyed_digest("code"));
        assert_ne!(a.keyed_digest("code"), b.keyed_digest("code"));
        assert_ne!(a.keyed_digest("code"), a.digest("code"));
    }

    #[test]
    fn digests_are_sha256() {
        let digest = RandomTokens::new([0; 32]).digest("abc");
        assert_eq!(digest.as_bytes()[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
