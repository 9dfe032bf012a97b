//! Provisioning: what the admin command line does.
//!
//! Every change that takes access away (a new password, a disabled user, a
//! suspended membership) revokes the affected sessions and the user's
//! outstanding flow and MFA tokens at once, not at their next expiry. A new
//! password, a disabled user or a change of factors also ends every device
//! the user trusted.

use portal_auth_domain::{
    Email, MembershipStatus, Password, Secret, Tenant, TenantId, TenantName, TenantSlug, TokenHash,
    User, UserId,
};
use portal_auth_ports::{Repositories, StoreError};

use crate::Services;

/// The issuer shown in authenticator apps.
const TOTP_ISSUER: &str = "Portal Auth";
/// RFC 4226 recommends at least 128 bits of shared secret; 160 is the
/// customary length for SHA-1.
const TOTP_SECRET_BYTES: usize = 20;
const BACKUP_CODE_COUNT: usize = 10;

/// Why a provisioning command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no user {0}")]
    UserNotFound(String),
    #[error("no tenant {0}")]
    TenantNotFound(String),
    #[error("{}", describe_conflict(.0))]
    Conflict(&'static str),
    #[error("{user} is not a member of {tenant}")]
    NotMember { user: String, tenant: String },
    #[error("the user has no second factor; enrol one first")]
    NoFactor,
    #[error("{0}")]
    Unexpected(String),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Unexpected(other.to_string()),
        }
    }
}

impl From<portal_auth_ports::CryptoError> for AdminError {
    fn from(error: portal_auth_ports::CryptoError) -> Self {
        Self::Unexpected(error.to_string())
    }
}

/// A new TOTP enrolment: the secret in base32 and the URI for QR codes.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret: Secret<String>,
    pub otpauth_uri: Secret<String>,
}

/// The provisioning use cases.
pub struct Admin {
    repos: Repositories,
    services: Services,
}

impl Admin {
    pub fn new(repos: Repositories, services: Services) -> Self {
        Self { repos, services }
    }

    /// Creates a tenant; the slug is derived from the name when not given.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] or [`AdminError::Conflict`]`("tenant_slug")`.
    pub async fn create_tenant(
        &self,
        name: &str,
        slug: Option<&str>,
    ) -> Result<Tenant, AdminError> {
        let name = TenantName::parse(name).map_err(|e| invalid("name", &e))?;
        let slug = match slug {
            Some(slug) => TenantSlug::parse(slug).map_err(|e| invalid("slug", &e))?,
            None => TenantSlug::from_name(&name).map_err(|_| AdminError::Invalid {
                field: "name",
                reason: "no slug can be derived from it (it has no ASCII letters or digits); \
                         give one with --slug"
                    .to_owned(),
            })?,
        };
        let tenant = Tenant {
            id: TenantId::from_random(self.services.random_16()),
            slug,
            name,
        };
        self.repos.tenants.create_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates a user, optionally member of tenants given by id or slug.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`], [`AdminError::TenantNotFound`] (checked before
    /// anything is stored) or [`AdminError::Conflict`]`("user_email")`.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        tenants: &[String],
    ) -> Result<User, AdminError> {
        let email = Email::parse(email).map_err(|e| invalid("email", &e))?;
        let password = Password::new_password(password).map_err(|e| invalid("password", &e))?;
        let mut resolved = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            resolved.push(self.tenant(tenant).await?);
        }

        let hash = self.services.hasher.hash(&password).await?;
        let user = User {
            id: UserId::from_random(self.services.random_16()),
            email,
            disabled: false,
        };
        self.repos.users.create_user(&user, &hash).await?;
        for tenant in resolved {
            self.repos
                .users
                .set_membership(user.id, tenant.id, MembershipStatus::Active)
                .await?;
        }
        Ok(user)
    }

    /// Makes the user an active member of a tenant (again).
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`] or [`AdminError::TenantNotFound`].
    pub async fn add_tenant(&self, user: &str, tenant: &str) -> Result<(), AdminError> {
        let (user, tenant) = (self.user(user).await?, self.tenant(tenant).await?);
        self.repos
            .users
            .set_membership(user.id, tenant.id, MembershipStatus::Active)
            .await?;
        Ok(())
    }

    /// Suspends a membership and ends the user's sessions in that tenant.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`] or [`AdminError::TenantNotFound`].
    pub async fn suspend_tenant(&self, user_ref: &str, tenant_ref: &str) -> Result<(), AdminError> {
        let (user, tenant) = (self.user(user_ref).await?, self.tenant(tenant_ref).await?);
        let record = self.repos.users.find_user_by_id(user.id).await?;
        let member = record.is_some_and(|r| r.memberships.iter().any(|m| m.tenant.id == tenant.id));
        if !member {
            let (user, tenant) = (user_ref.to_owned(), tenant_ref.to_owned());
            return Err(AdminError::NotMember { user, tenant });
        }
        self.repos
            .users
            .set_membership(user.id, tenant.id, MembershipStatus::Suspended)
            .await?;
        let now = self.services.clock.now();
        self.repos
            .sessions
            .revoke_user_sessions(user.id, Some(tenant.id), now)
            .await?;
        self.repos.tickets.revoke_user_tickets(user.id, now).await?;
        Ok(())
    }

    /// Disables a user and ends every session and pending login of theirs.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`].
    pub async fn disable_user(&self, user: &str) -> Result<(), AdminError> {
        let user = self.user(user).await?;
        self.repos.users.set_disabled(user.id, true).await?;
        self.revoke_everything(user.id).await
    }

    /// # Errors
    ///
    /// [`AdminError::UserNotFound`].
    pub async fn enable_user(&self, user: &str) -> Result<(), AdminError> {
        let user = self.user(user).await?;
        self.repos.users.set_disabled(user.id, false).await?;
        Ok(())
    }

    /// Sets a new password and ends every session and pending login.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`] or [`AdminError::Invalid`].
    pub async fn set_password(&self, user: &str, password: &str) -> Result<(), AdminError> {
        let password = Password::new_password(password).map_err(|e| invalid("password", &e))?;
        let user = self.user(user).await?;
        let hash = self.services.hasher.hash(&password).await?;
        self.repos.users.set_password_hash(user.id, &hash).await?;
        self.revoke_everything(user.id).await
    }

    /// Enrols TOTP with a new secret, confirmed at once.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`].
    pub async fn enroll_totp(&self, user: &str) -> Result<TotpEnrolment, AdminError> {
        let user = self.user(user).await?;
        let mut secret = vec![0u8; TOTP_SECRET_BYTES];
        self.services.tokens.random_bytes(&mut secret);
        let encoded = data_encoding::BASE32_NOPAD.encode(&secret);
        self.repos
            .factors
            .set_totp(user.id, &Secret::new(secret))
            .await?;
        self.repos.devices.forget_devices(user.id).await?;

        let uri = otpauth_uri(&user.email, &encoded);
        Ok(TotpEnrolment {
            secret: Secret::new(encoded),
            otpauth_uri: Secret::new(uri),
        })
    }

    /// Issues ten new backup codes; the old ones die.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`], or [`AdminError::NoFactor`] for a user
    /// with no factor (backup codes are a fallback, not a factor).
    pub async fn backup_codes(&self, user: &str) -> Result<Vec<Secret<String>>, AdminError> {
        let user = self.user(user).await?;
        if !self.repos.factors.factors(user.id).await?.any() {
            return Err(AdminError::NoFactor);
        }
        let codes: Vec<String> = (0..BACKUP_CODE_COUNT).map(|_| self.backup_code()).collect();
        let digests: Vec<TokenHash> = codes
            .iter()
            .map(|c| {
                self.services
                    .tokens
                    .keyed_digest(&portal_auth_domain::mfa::normalise_backup_code(c))
            })
            .collect();
        self.repos
            .factors
            .replace_backup_codes(user.id, &digests)
            .await?;
        Ok(codes.into_iter().map(Secret::new).collect())
    }

    /// Enrols the email factor.
    ///
    /// # Errors
    ///
    /// [`AdminError::UserNotFound`].
    pub async fn enable_email(&self, user: &str) -> Result<(), AdminError> {
        let user = self.user(user).await?;
        self.repos.factors.enable_email(user.id).await?;
        self.repos.devices.forget_devices(user.id).await?;
        Ok(())
    }

    /// Finds a user by id or email.
    async fn user(&self, reference: &str) -> Result<User, AdminError> {
        let record = match UserId::parse(reference) {
            Some(id) => self.repos.users.find_user_by_id(id).await?,
            None => match Email::parse(reference) {
                Ok(email) => self.repos.users.find_user_by_email(&email).await?,
                Err(_) => None,
            },
        };
        record
            .map(|r| r.user)
            .ok_or_else(|| AdminError::UserNotFound(reference.to_owned()))
    }

    /// Finds a tenant by id or slug.
    async fn tenant(&self, reference: &str) -> Result<Tenant, AdminError> {
        let found = match TenantId::parse(reference) {
            Some(id) => self.repos.tenants.find_tenant_by_id(id).await?,
            None => match TenantSlug::parse(reference) {
                Ok(slug) => self.repos.tenants.find_tenant_by_slug(&slug).await?,
                Err(_) => None,
            },
        };
        found.ok_or_else(|| AdminError::TenantNotFound(reference.to_owned()))
    }

    async fn revoke_everything(&self, user: UserId) -> Result<(), AdminError> {
        let now = self.services.clock.now();
        self.repos
            .sessions
            .revoke_user_sessions(user, None, now)
            .await?;
        self.repos.tickets.revoke_user_tickets(user, now).await?;
        self.repos.devices.forget_devices(user).await?;
        Ok(())
    }

    /// Ten base32 characters (50 bits) shown as two groups of five.
    fn backup_code(&self) -> String {
        let mut bytes = [0u8; 7];
        self.services.tokens.random_bytes(&mut bytes);
        let encoded = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
        format!("{}-{}", &encoded[..5], &encoded[5..10])
    }
}

/// A conflict as a person reads it; the stores name the broken rule.
fn describe_conflict(rule: &str) -> String {
    match rule {
        "tenant_slug" => "a tenant with this slug already exists".to_owned(),
        "user_email" => "a user with this email already exists".to_owned(),
        other => format!("{other} is already taken"),
    }
}

fn invalid(field: &'static str, error: &impl std::fmt::Display) -> AdminError {
    AdminError::Invalid {
        field,
        reason: error.to_string(),
    }
}

/// The Key Uri Format of authenticator apps: issuer and account in the
/// label, issuer again as a parameter, percent-encoded.
fn otpauth_uri(email: &Email, secret: &str) -> String {
    let issuer = percent_encode(TOTP_ISSUER);
    let account = percent_encode(email.as_str());
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30"
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
