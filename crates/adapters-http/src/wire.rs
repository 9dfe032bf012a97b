//! The JSON shapes of the six endpoints, named and ordered as the seed's
//! reference page has them, and their conversions to and from the use
//! cases' types.
//!
//! Request types hold domain values (`Email`, `Password`) once decoded; the
//! `schema` attributes describe them as the strings they arrive as. Field
//! order here is schema order: it decides the order of 422 errors and of
//! properties in the OpenAPI document. Fields carry no doc comments, so the
//! generated document has no descriptions the seed page lacks.

use std::borrow::Cow;
use std::net::IpAddr;

use portal_auth_application::{
    AuthenticateCommand, IdentifyOutcome, LoginCommand, LoginOutcome, MfaPending, Refreshed,
    SignedIn, UserView, VerifyMfaCommand,
};
use portal_auth_domain::{Email, Password, Tenant};
use serde::Serialize;
use utoipa::ToSchema;

use crate::validation::{Fields, JsonRequest, ValidationError};

/// Step 1 of the two-step login.
#[derive(Debug, ToSchema)]
pub struct IdentifyRequest {
    #[schema(value_type = String, format = Email)]
    pub email: Email,
}

impl JsonRequest for IdentifyRequest {
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let email = fields.email("email");
        Some(Self { email: email? })
    }
}

/// Step 2 of the two-step login.
// No `Debug`: the body carries a token.
#[derive(ToSchema)]
pub struct AuthenticateRequest {
    pub flow_token: String,
    pub tenant_id: Option<String>,
    #[schema(value_type = String)]
    pub password: Password,
}

impl JsonRequest for AuthenticateRequest {
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let flow_token = fields.string("flow_token");
        let tenant_id = fields.optional_string("tenant_id");
        let password = fields.password("password");
        Some(Self {
            flow_token: flow_token?,
            tenant_id: tenant_id?,
            password: password?,
        })
    }
}

impl AuthenticateRequest {
    pub(crate) fn into_command(
        self,
        device_token: Option<String>,
        client: Option<IpAddr>,
    ) -> AuthenticateCommand {
        AuthenticateCommand {
            flow_token: self.flow_token,
            tenant_id: self.tenant_id,
            password: self.password,
            device_token,
            client,
        }
    }
}

/// The one-step login of older clients.
#[derive(Debug, ToSchema)]
#[schema(as = scaikey__api__v1__me__auth__LoginRequest)]
pub struct LoginRequest {
    #[schema(value_type = String, format = Email)]
    pub email: Email,
    #[schema(value_type = String)]
    pub password: Password,
    pub tenant_id: Option<String>,
}

impl JsonRequest for LoginRequest {
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let email = fields.email("email");
        let password = fields.password("password");
        let tenant_id = fields.optional_string("tenant_id");
        Some(Self {
            email: email?,
            password: password?,
            tenant_id: tenant_id?,
        })
    }
}

impl LoginRequest {
    pub(crate) fn into_command(
        self,
        device_token: Option<String>,
        client: Option<IpAddr>,
    ) -> LoginCommand {
        LoginCommand {
            email: self.email,
            password: self.password,
            tenant_id: self.tenant_id,
            device_token,
            client,
        }
    }
}

/// A second-factor code for a pending login.
// No `Debug`: the body carries a token.
#[derive(ToSchema)]
#[schema(as = PortalMFAVerifyRequest)]
pub struct MfaVerifyRequest {
    pub mfa_token: String,
    pub user_id: String,
    pub method: String,
    pub code: Option<String>,
    #[schema(default = false, required = false)]
    pub trust_device: bool,
}

impl JsonRequest for MfaVerifyRequest {
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let mfa_token = fields.string("mfa_token");
        let user_id = fields.string("user_id");
        let method = fields.string("method");
        let code = fields.optional_string("code");
        let trust_device = fields.lax_bool("trust_device", false);
        Some(Self {
            mfa_token: mfa_token?,
            user_id: user_id?,
            method: method?,
            code: code?,
            trust_device: trust_device?,
        })
    }
}

impl MfaVerifyRequest {
    pub(crate) fn into_command(self, client: Option<IpAddr>) -> VerifyMfaCommand {
        VerifyMfaCommand {
            mfa_token: self.mfa_token,
            user_id: self.user_id,
            method: self.method,
            code: self.code,
            trust_device: self.trust_device,
            client,
        }
    }
}

/// A refresh token to rotate.
// No `Debug`: the body carries a token.
#[derive(ToSchema)]
#[schema(as = scaikey__api__v1__me__auth__RefreshRequest)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl JsonRequest for RefreshRequest {
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let refresh_token = fields.string("refresh_token");
        Some(Self {
            refresh_token: refresh_token?,
        })
    }
}

/// A tenant as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantBody {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl From<&Tenant> for TenantBody {
    fn from(tenant: &Tenant) -> Self {
        Self {
            id: tenant.id.to_string(),
            slug: tenant.slug.as_str().to_owned(),
            name: tenant.name.as_str().to_owned(),
        }
    }
}

pub(crate) fn tenant_bodies(tenants: &[Tenant]) -> Vec<TenantBody> {
    tenants.iter().map(TenantBody::from).collect()
}

/// The signed-in user, for the tenant the tokens were issued for.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: String,
    pub email: String,
    pub tenant_id: String,
    pub tenant_slug: String,
    pub tenant_name: String,
}

impl From<UserView> for UserBody {
    fn from(user: UserView) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            tenant_id: user.tenant_id.to_string(),
            tenant_slug: user.tenant_slug.as_str().to_owned(),
            tenant_name: user.tenant_name.as_str().to_owned(),
        }
    }
}

/// A flow token, and the tenants to choose from when there is a choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifyResponse {
    pub flow_token: String,
    #[schema(inline)]
    pub tenants: Vec<TenantBody>,
    pub requires_tenant_selection: bool,
}

impl From<IdentifyOutcome> for IdentifyResponse {
    fn from(outcome: IdentifyOutcome) -> Self {
        Self {
            flow_token: outcome.flow_token,
            tenants: tenant_bodies(&outcome.tenants),
            requires_tenant_selection: outcome.requires_tenant_selection,
        }
    }
}

/// Either tokens (`SUCCESS`) or an MFA token (`MFA_REQUIRED`); every key is
/// always present, the unused ones `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticateResponse {
    #[schema(value_type = String, default = "SUCCESS", required = false)]
    pub status: &'static str,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    #[schema(inline)]
    pub user: Option<UserBody>,
    pub mfa_token: Option<String>,
    pub user_id: Option<String>,
    #[schema(value_type = Option<Vec<String>>)]
    pub available_methods: Option<Vec<&'static str>>,
}

impl AuthenticateResponse {
    fn signed_in(signed_in: SignedIn) -> Self {
        Self {
            status: "SUCCESS",
            access_token: Some(signed_in.access_token),
            refresh_token: Some(signed_in.refresh_token),
            user: Some(signed_in.user.into()),
            mfa_token: None,
            user_id: None,
            available_methods: None,
        }
    }

    fn mfa_required(pending: MfaPending) -> Self {
        Self {
            status: "MFA_REQUIRED",
            access_token: None,
            refresh_token: None,
            user: None,
            mfa_token: Some(pending.mfa_token),
            user_id: Some(pending.user_id.to_string()),
            available_methods: Some(pending.methods.iter().map(|m| m.as_str()).collect()),
        }
    }
}

impl From<LoginOutcome> for AuthenticateResponse {
    fn from(outcome: LoginOutcome) -> Self {
        match outcome {
            LoginOutcome::SignedIn(signed_in) => Self::signed_in(signed_in),
            LoginOutcome::MfaRequired(pending) => Self::mfa_required(pending),
        }
    }
}

/// Tokens from the one-step login.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = scaikey__api__v1__me__auth__LoginResponse)]
pub struct LoginResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(inline)]
    pub user: UserBody,
}

impl From<SignedIn> for LoginResponse {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_token: signed_in.access_token,
            refresh_token: signed_in.refresh_token,
            user: signed_in.user.into(),
        }
    }
}

/// Tokens after a second factor.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PortalMFAVerifyResponse)]
pub struct MfaVerifyResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(inline)]
    pub user: UserBody,
}

impl From<SignedIn> for MfaVerifyResponse {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_token: signed_in.access_token,
            refresh_token: signed_in.refresh_token,
            user: signed_in.user.into(),
        }
    }
}

/// A new access token and the rotated refresh token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = scaikey__api__v1__me__auth__RefreshResponse)]
pub struct RefreshResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl From<Refreshed> for RefreshResponse {
    fn from(refreshed: Refreshed) -> Self {
        Self {
            access_token: refreshed.access_token,
            refresh_token: Some(refreshed.refresh_token),
        }
    }
}

/// What logout always answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutResponse {
    #[schema(value_type = String, example = "Logged out")]
    pub detail: &'static str,
}

/// The 422 answer: every reason the body was refused.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HTTPValidationError)]
pub struct ValidationErrors {
    #[schema(required = false)]
    pub detail: Vec<ValidationError>,
}

/// Every other answer that is not a success: a sentence for a person and a
/// stable code for a program.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    #[schema(value_type = String)]
    pub detail: Cow<'static, str>,
    #[schema(value_type = String)]
    pub code: &'static str,
    /// Only with `tenant_selection_required`: the tenants to choose from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    pub tenants: Option<Vec<TenantBody>>,
}

impl ErrorResponse {
    pub(crate) fn new(code: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            detail: detail.into(),
            code,
            tenants: None,
        }
    }
}
