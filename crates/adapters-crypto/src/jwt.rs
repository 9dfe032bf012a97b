//! Access tokens: JWS-signed JWTs with EdDSA (RFC 8037, Ed25519), and the
//! JWK set that lets resource servers verify them offline.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::{Jwk, JwkSet, KeyPair};
use josekit::jws::alg::eddsa::{EddsaJwsSigner, EddsaJwsVerifier};
use josekit::jws::{EdDSA, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use portal_auth_domain::SessionId;
use portal_auth_ports::{AccessClaims, AccessTokens, CryptoError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Why a signing key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

/// An Ed25519 signing key, with its key id (the RFC 7638 thumbprint of its
/// public JWK, so the id follows from the key and never drifts from it).
pub struct SigningKey {
    pair: EdKeyPair,
    kid: String,
}

impl SigningKey {
    /// Loads a PKCS#8 PEM private key.
    ///
    /// # Errors
    ///
    /// [`KeyError`] for anything but an Ed25519 PKCS#8 PEM key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let pair = EdDSA
            .key_pair_from_pem(pem)
            .map_err(|e| KeyError(format!("not an Ed25519 PKCS#8 PEM key ({e})")))?;
        Self::from_pair(pair)
    }

    /// Makes a new random key.
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the crypto library fails.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = EdDSA
            .generate_key_pair(EdCurve::Ed25519)
            .map_err(|e| KeyError(e.to_string()))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: EdKeyPair) -> Result<Self, KeyError> {
        let public = pair.to_jwk_public_key();
        let x = public.parameter("x").and_then(Value::as_str);
        let Some(x) = x else {
            return Err(KeyError("the public key has no x coordinate".into()));
        };
        // RFC 7638 §3.2: required members only, in lexicographic order.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self { pair, kid })
    }

    /// The PKCS#8 PEM form, for storing a generated key.
    pub fn to_pem(&self) -> Vec<u8> {
        self.pair.to_pem_private_key()
    }

    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// A 256-bit secret derived from the private key for one purpose, so the
    /// service needs no second secret to configure. Different labels give
    /// unrelated secrets.
    pub fn derive_secret(&self, label: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"portal-auth derived secret v1\0");
        hasher.update(label.as_bytes());
        hasher.update([0]);
        hasher.update(self.pair.to_der_private_key());
        hasher.finalize().into()
    }
}

/// Who issues access tokens and for whom.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
}

/// Signs access tokens and checks them at logout.
pub struct JwtTokens {
    signer: EddsaJwsSigner,
    verifier: EddsaJwsVerifier,
    kid: String,
    settings: JwtSettings,
    jwks: String,
}

impl JwtTokens {
    /// # Errors
    ///
    /// [`KeyError`] when the key cannot make a signer or verifier.
    pub fn new(key: &SigningKey, settings: JwtSettings) -> Result<Self, KeyError> {
        let mut signer = EdDSA
            .signer_from_der(key.pair.to_der_private_key())
            .map_err(key_error)?;
        signer.set_key_id(key.kid.clone());
        let mut public = key.pair.to_jwk_public_key();
        public.set_key_id(&key.kid);
        public.set_algorithm("EdDSA");
        public.set_key_use("sig");
        let mut verifier = EdDSA.verifier_from_jwk(&public).map_err(key_error)?;
        verifier.set_key_id(key.kid.clone());
        let jwks = jwks_document(public);
        Ok(Self {
            signer,
            verifier,
            kid: key.kid.clone(),
            settings,
            jwks,
        })
    }
}

fn key_error(error: josekit::JoseError) -> KeyError {
    KeyError(error.to_string())
}

fn jwks_document(public: Jwk) -> String {
    let mut set = JwkSet::new();
    set.push_key(public);
    set.to_string()
}

impl AccessTokens for JwtTokens {
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError> {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(self.kid.clone());
        let mut payload = JwtPayload::new();
        payload.set_issuer(&self.settings.issuer);
        payload.set_subject(claims.subject.to_string());
        payload.set_audience(vec![self.settings.audience.clone()]);
        let extra = [
            ("tid", json!(claims.tenant.to_string())),
            ("sid", json!(claims.session.to_string())),
            ("jti", json!(claims.token_id)),
            ("iat", json!(claims.issued_at.unix())),
            ("exp", json!(claims.expires_at.unix())),
            ("amr", json!(claims.amr.values())),
        ];
        for (name, value) in extra {
            payload
                .set_claim(name, Some(value))
                .map_err(|e| CryptoError::Failed(e.to_string()))?;
        }
        jwt::encode_with_signer(&payload, &header, &self.signer)
            .map_err(|e| CryptoError::Failed(format!("signing an access token: {e}")))
    }

    fn session_for_logout(&self, token: &str) -> Option<SessionId> {
        // Checks the signature, that `alg` is ours (so `none` and HMAC
        // confusion fail) and that `kid` is ours; `exp` is deliberately not
        // checked, see the port's contract.
        let (payload, _) = jwt::decode_with_verifier(token, &self.verifier).ok()?;
        if payload.issuer() != Some(self.settings.issuer.as_str()) {
            return None;
        }
        let audiences = payload.audience()?;
        if !audiences.contains(&self.settings.audience.as_str()) {
            return None;
        }
        SessionId::parse(payload.claim("sid")?.as_str()?)
    }

    fn jwks_json(&self) -> String {
        self.jwks.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_auth_domain::{Amr, TenantId, Timestamp, UserId};

    fn settings() -> JwtSettings {
        JwtSettings {
            issuer: "https://auth.example.test".into(),
            audience: "portal".into(),
        }
    }

    fn claims(expires_at: i64) -> AccessClaims {
        AccessClaims {
            subject: UserId::from_random([1; 16]),
            tenant: TenantId::from_random([2; 16]),
            session: SessionId::from_random([3; 16]),
            amr: Amr::PasswordAndOtp,
            token_id: "jti-1".into(),
            issued_at: Timestamp::from_unix(expires_at - 900),
            expires_at: Timestamp::from_unix(expires_at),
        }
    }

    fn decode_part(token: &str, index: usize) -> Value {
        let part = token.split('.').nth(index).unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    #[test]
    fn tokens_carry_the_documented_header_and_claims() -> Result<(), Box<dyn std::error::Error>> {
        let key = SigningKey::generate()?;
        let tokens = JwtTokens::new(&key, settings())?;
        let token = tokens.issue(&claims(2_000_000_000))?;
        let header = decode_part(&token, 0);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.key_id());
        let body = decode_part(&token, 1);
        assert_eq!(body["iss"], "https://auth.example.test");
        assert_eq!(body["aud"], "portal");
        assert_eq!(body["sub"], UserId::from_random([1; 16]).to_string());
        assert_eq!(body["tid"], TenantId::from_random([2; 16]).to_string());
        assert_eq!(body["sid"], SessionId::from_random([3; 16]).to_string());
        assert_eq!(body["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(body["exp"], 2_000_000_000);
        assert_eq!(body["iat"], 2_000_000_000 - 900);
        assert_eq!(body["jti"], "jti-1");
        Ok(())
    }

    #[test]
    fn the_jwks_publishes_the_public_key_only() -> Result<(), Box<dyn std::error::Error>> {
        let key = SigningKey::generate()?;
        let tokens = JwtTokens::new(&key, settings())?;
        let jwks: Value = serde_json::from_str(&tokens.jwks_json())?;
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["kid"], key.key_id());
        assert_eq!(jwk["alg"], "EdDSA");
        assert!(jwk.get("d").is_none());
        Ok(())
    }

    #[test]
    fn logout_accepts_an_expired_token_but_nothing_forged() -> Result<(), Box<dyn std::error::Error>>
    {
        let key = SigningKey::generate()?;
        let tokens = JwtTokens::new(&key, settings())?;
        let expired = tokens.issue(&claims(1_000_000))?;
        assert_eq!(
            tokens.session_for_logout(&expired),
            Some(SessionId::from_random([3; 16]))
        );

        let other = JwtTokens::new(&SigningKey::generate()?, settings())?;
        assert_eq!(other.session_for_logout(&expired), None);
        let foreign_audience = JwtTokens::new(
            &key,
            JwtSettings {
                audience: "other".into(),
                ..settings()
            },
        )?;
        assert_eq!(foreign_audience.session_for_logout(&expired), None);
        let foreign_issuer = JwtTokens::new(
            &key,
            JwtSettings {
                issuer: "https://evil.test".into(),
                ..settings()
            },
        )?;
        assert_eq!(foreign_issuer.session_for_logout(&expired), None);
        Ok(())
    }

    #[test]
    fn an_unsigned_token_is_rejected() -> Result<(), Box<dyn std::error::Error>> {
        let key = SigningKey::generate()?;
        let tokens = JwtTokens::new(&key, settings())?;
        let signed = tokens.issue(&claims(2_000_000_000))?;
        let body = signed.split('.').nth(1).unwrap_or_default();
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, key.key_id()));
        assert_eq!(
            tokens.session_for_logout(&format!("{header}.{body}.")),
            None
        );
        assert_eq!(tokens.session_for_logout("garbage"), None);
        Ok(())
    }

    #[test]
    fn a_key_survives_a_pem_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let key = SigningKey::generate()?;
        let again = SigningKey::from_pem(&key.to_pem())?;
        assert_eq!(again.key_id(), key.key_id());
        assert_eq!(again.derive_secret("a"), key.derive_secret("a"));
        assert_ne!(key.derive_secret("a"), key.derive_secret("b"));
        assert!(SigningKey::from_pem(b"-----BEGIN NOTHING-----").is_err());
        Ok(())
    }
}
