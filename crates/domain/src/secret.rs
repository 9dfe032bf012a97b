//! Wrappers for values that must never reach a log line.

use std::fmt;

/// A secret value: a password, a code, a token. Its `Debug` prints a
/// placeholder and it has no `Display`, so formatting it by accident leaks
/// nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value. Call sites of this method are the places to audit.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The SHA-256 digest of an opaque token. Tokens are stored and looked up
/// only by this digest, so a read of the database yields nothing usable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares two digests in time independent of where they differ.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Reads a digest back from storage; anything but 32 bytes is `None`.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_secret_hides_the_value() {
        let printed = format!("{:?}", Secret::new("hunter2"));
        assert!(!printed.contains("hunter2"));
    }

    #[test]
    fn digests_compare_by_every_byte() {
        let a = TokenHash::from_bytes([1; 32]);
        let mut last = [1; 32];
        last[31] = 2;
        assert!(a.ct_eq(&TokenHash::from_bytes([1; 32])));
        assert!(!a.ct_eq(&TokenHash::from_bytes(last)));
    }

    #[test]
    fn a_digest_of_the_wrong_length_does_not_parse() {
        assert!(TokenHash::from_slice(&[0; 31]).is_none());
        assert!(TokenHash::from_slice(&[0; 32]).is_some());
    }
}
