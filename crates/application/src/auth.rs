//! The six login operations.

use std::net::IpAddr;

use portal_auth_domain::flow::{
    Candidate, ChallengeRejection, FlowTicket, LoginDecision, MfaChallenge, PasswordCheck,
    decide_login,
};
use portal_auth_domain::mfa::{normalise_backup_code, totp_candidate_steps, totp_step_is_fresh};
use portal_auth_domain::refresh::{ReuseVerdict, judge_reuse};
use portal_auth_domain::session::Session;
use portal_auth_domain::{
    Amr, Email, MfaMethod, Password, SessionId, Tenant, TenantId, TenantName, TenantSlug,
    Timestamp, UserId,
};
use portal_auth_domain::{Secret, TokenHash};
use portal_auth_ports::{
    AccessClaims, EmailCodeStored, Factors, RefreshState, Repositories, UserRecord, Verification,
};

use crate::throttle::Attempt;
use crate::{AuthError, AuthSettings, Services, TenantDisclosure};

/// The login operations, over a store and the service ports.
pub struct AuthService {
    repos: Repositories,
    services: Services,
    settings: AuthSettings,
}

/// What `identify` answers.
#[derive(Clone)]
pub struct IdentifyOutcome {
    pub flow_token: String,
    pub tenants: Vec<Tenant>,
    pub requires_tenant_selection: bool,
}

/// Step 2 of the two-step login.
#[derive(Clone)]
pub struct AuthenticateCommand {
    pub flow_token: String,
    pub tenant_id: Option<String>,
    pub password: Password,
    /// The trusted-device cookie, if the request carried one.
    pub device_token: Option<String>,
    /// The client's address, for throttling.
    pub client: Option<IpAddr>,
}

/// The one-step login.
#[derive(Clone)]
pub struct LoginCommand {
    pub email: Email,
    pub password: Password,
    pub tenant_id: Option<String>,
    pub device_token: Option<String>,
    pub client: Option<IpAddr>,
}

/// A second-factor code for a pending login.
#[derive(Clone)]
pub struct VerifyMfaCommand {
    pub mfa_token: String,
    pub user_id: String,
    pub method: String,
    pub code: Option<String>,
    pub trust_device: bool,
    pub client: Option<IpAddr>,
}

/// The user as the responses show them: identity and the tenant signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: UserId,
    pub email: Email,
    pub tenant_id: TenantId,
    pub tenant_slug: TenantSlug,
    pub tenant_name: TenantName,
}

/// A completed login.
#[derive(Clone)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    pub user: UserView,
    /// A new trusted-device token to set as a cookie, when one was asked for.
    pub device_token: Option<String>,
}

/// A login waiting for its second factor.
#[derive(Clone)]
pub struct MfaPending {
    pub mfa_token: String,
    pub user_id: UserId,
    pub methods: Vec<MfaMethod>,
}

/// What `authenticate` answers when it succeeds.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    MfaRequired(MfaPending),
}

/// What `mfa/verify` answers when it succeeds.
#[derive(Debug, Clone)]
pub enum MfaOutcome {
    SignedIn(SignedIn),
    /// An email code was sent; the client asks the user for it.
    CodeSent,
}

/// A rotated refresh token and a new access token.
#[derive(Clone)]
pub struct Refreshed {
    pub access_token: String,
    pub refresh_token: String,
}

impl AuthService {
    pub fn new(repos: Repositories, services: Services, settings: AuthSettings) -> Self {
        Self {
            repos,
            services,
            settings,
        }
    }

    /// Step 1: opens a flow for an email, known or not.
    ///
    /// An unknown email, a user without an active tenant and a single-tenant
    /// user get the same answer and do the same work (one read, one write),
    /// so neither the body nor the timing tells them apart.
    ///
    /// # Errors
    ///
    /// Only [`AuthError::Unavailable`] and [`AuthError::Unexpected`].
    pub async fn identify(&self, email: Email) -> Result<IdentifyOutcome, AuthError> {
        let now = self.now();
        let record = self.repos.users.find_user_by_email(&email).await?;
        let tenants = record
            .as_ref()
            .map(UserRecord::active_tenants)
            .unwrap_or_default();
        let subject = record.filter(|_| !tenants.is_empty()).map(|r| r.user.id);

        let flow_token = self.services.tokens.generate();
        let ticket = FlowTicket {
            subject,
            email,
            attempts: 0,
            expires_at: now + self.settings.flow_token_ttl_secs,
            consumed: false,
        };
        self.repos
            .tickets
            .insert_flow(&self.services.tokens.digest(&flow_token), &ticket)
            .await?;

        let disclosed = match self.settings.tenant_disclosure {
            TenantDisclosure::SelectionOnly if tenants.len() >= 2 => tenants,
            TenantDisclosure::Always => tenants,
            TenantDisclosure::SelectionOnly | TenantDisclosure::AfterPassword => Vec::new(),
        };
        let requires_tenant_selection = disclosed.len() >= 2;
        tracing::debug!(flow = "identify", "flow ticket issued");
        Ok(IdentifyOutcome {
            flow_token,
            tenants: disclosed,
            requires_tenant_selection,
        })
    }

    /// Step 2: checks the password against a flow ticket.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidFlowToken`], [`AuthError::InvalidCredentials`],
    /// [`AuthError::TenantSelectionRequired`], [`AuthError::AccountDisabled`].
    pub async fn authenticate(&self, cmd: AuthenticateCommand) -> Result<LoginOutcome, AuthError> {
        let now = self.now();
        let flow_hash = self.services.tokens.digest(&cmd.flow_token);
        let ticket = self.repos.tickets.find_flow(&flow_hash).await?;
        let attempt = self.attempt(ticket.as_ref().map(|t| &t.email), cmd.client);
        attempt
            .check(&*self.repos.throttle, self.settings.throttle, now)
            .await?;
        let Some(ticket) = ticket.filter(|t| t.accepts_attempt(now)) else {
            return Err(AuthError::InvalidFlowToken);
        };
        if !self
            .repos
            .tickets
            .reserve_flow_attempt(&flow_hash, now)
            .await?
        {
            return Err(AuthError::InvalidFlowToken);
        }

        // An unknown email reads a user that does not exist, so both cases
        // do the same work before the (equally costly) password check.
        let subject = ticket
            .subject
            .unwrap_or_else(|| UserId::from_random(self.services.random_16()));
        let record = self.repos.users.find_user_by_id(subject).await?;
        let counted = attempt
            .count(&*self.repos.throttle, self.settings.throttle, now)
            .await;
        if let Err(error) = counted {
            self.repos.tickets.release_flow_attempt(&flow_hash).await?;
            return Err(error);
        }
        let tenant = cmd.tenant_id.as_deref();
        let device = cmd.device_token.as_deref();
        let checked = self
            .check_password(record, &cmd.password, tenant, device, now)
            .await;
        let checked = match checked {
            Ok(checked) => checked,
            Err(error) => {
                // A shed or failed check was no attempt at all: give it back.
                self.repos.tickets.release_flow_attempt(&flow_hash).await?;
                return Err(error);
            }
        };
        match &checked.decision {
            LoginDecision::SelectTenant(_) | LoginDecision::AccountDisabled => {
                self.repos.tickets.release_flow_attempt(&flow_hash).await?;
            }
            LoginDecision::Authenticated { .. } | LoginDecision::SecondFactor { .. } => {
                if !self.repos.tickets.consume_flow(&flow_hash, now).await? {
                    return Err(AuthError::InvalidFlowToken);
                }
            }
            LoginDecision::InvalidCredentials => {}
        }
        self.finish_password_step(checked, &attempt, now).await
    }

    /// The one-step login of older clients: identify and authenticate at
    /// once. It never bypasses a second factor.
    ///
    /// # Errors
    ///
    /// As [`AuthService::authenticate`], and [`AuthError::MfaRequired`] for a
    /// user with a factor.
    pub async fn login(&self, cmd: LoginCommand) -> Result<SignedIn, AuthError> {
        let now = self.now();
        let attempt = self.attempt(Some(&cmd.email), cmd.client);
        attempt
            .check(&*self.repos.throttle, self.settings.throttle, now)
            .await?;

        let record = self.repos.users.find_user_by_email(&cmd.email).await?;
        attempt
            .count(&*self.repos.throttle, self.settings.throttle, now)
            .await?;
        let tenant = cmd.tenant_id.as_deref();
        let device = cmd.device_token.as_deref();
        let checked = self
            .check_password(record, &cmd.password, tenant, device, now)
            .await?;
        if matches!(checked.decision, LoginDecision::SecondFactor { .. }) {
            return Err(AuthError::MfaRequired);
        }
        match self.finish_password_step(checked, &attempt, now).await? {
            LoginOutcome::SignedIn(signed_in) => Ok(signed_in),
            LoginOutcome::MfaRequired(_) => Err(AuthError::MfaRequired),
        }
    }

    /// Checks a second-factor code and completes the login.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidMfaToken`], [`AuthError::MfaMethodUnavailable`],
    /// [`AuthError::InvalidMfaCode`].
    pub async fn verify_mfa(&self, cmd: VerifyMfaCommand) -> Result<MfaOutcome, AuthError> {
        let now = self.now();
        let token_hash = self.services.tokens.digest(&cmd.mfa_token);
        let challenge = self.repos.tickets.find_challenge(&token_hash).await?;
        let record = match &challenge {
            Some(c) => self.repos.users.find_user_by_id(c.user_id).await?,
            None => None,
        };
        let attempt = self.attempt(record.as_ref().map(|r| &r.user.email), cmd.client);
        attempt
            .check(&*self.repos.throttle, self.settings.throttle, now)
            .await?;
        let (Some(challenge), Some(record)) = (challenge, record) else {
            return Err(AuthError::InvalidMfaToken);
        };
        let method = challenge
            .admits(&cmd.user_id, MfaMethod::parse(&cmd.method), now)
            .map_err(|rejection| match rejection {
                ChallengeRejection::InvalidToken => AuthError::InvalidMfaToken,
                ChallengeRejection::MethodUnavailable => AuthError::MfaMethodUnavailable,
            })?;
        if method == MfaMethod::Email && cmd.code.is_none() {
            return self
                .send_email_code(&cmd.mfa_token, &challenge, &record, now)
                .await;
        }
        if !self
            .repos
            .tickets
            .reserve_challenge_attempt(&token_hash, now)
            .await?
        {
            return Err(AuthError::InvalidMfaToken);
        }

        attempt
            .count(&*self.repos.throttle, self.settings.throttle, now)
            .await?;
        if !self.code_is_valid(&cmd, &challenge, method, now).await? {
            attempt
                .failed(&*self.repos.throttle, self.settings.throttle, now)
                .await?;
            let user_id = challenge.user_id;
            tracing::warn!(%user_id, method = method.as_str(), "second factor failed");
            return Err(AuthError::InvalidMfaCode);
        }
        if !self
            .repos
            .tickets
            .consume_challenge(&token_hash, now)
            .await?
        {
            self.give_back_code(&cmd, challenge.user_id, method, now)
                .await?;
            return Err(AuthError::InvalidMfaToken);
        }
        let Some((record, tenant)) = with_active_tenant(record, challenge.tenant_id) else {
            return Err(AuthError::InvalidMfaToken);
        };
        if record.user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let mut signed_in = self
            .start_session(&record, tenant, Amr::PasswordAndOtp, now)
            .await?;
        if cmd.trust_device {
            signed_in.device_token = Some(self.trust_device(&record, now).await?);
        }
        attempt.succeeded(&*self.repos.throttle).await?;
        let user_id = record.user.id;
        tracing::info!(%user_id, method = method.as_str(), "signed in with a second factor");
        Ok(MfaOutcome::SignedIn(signed_in))
    }

    /// A concurrent verification consumed the MFA token first: a backup
    /// code this one used is given back, so a double submit or a second tab
    /// never spends a code for nothing. TOTP steps and email codes are not
    /// worth keeping: the next code is at most 30 seconds away.
    async fn give_back_code(
        &self,
        cmd: &VerifyMfaCommand,
        user: UserId,
        method: MfaMethod,
        used_at: Timestamp,
    ) -> Result<(), AuthError> {
        if let (MfaMethod::BackupCode, Some(code)) = (method, cmd.code.as_deref()) {
            let digest = self
                .services
                .tokens
                .keyed_digest(&normalise_backup_code(code));
            self.repos
                .factors
                .restore_backup_code(user, &digest, used_at)
                .await?;
        }
        Ok(())
    }

    /// Mails a new code for a pending login. Sending is not an attempt: it
    /// counts against the token's sends, not its failures.
    async fn send_email_code(
        &self,
        mfa_token: &str,
        challenge: &MfaChallenge,
        record: &UserRecord,
        now: Timestamp,
    ) -> Result<MfaOutcome, AuthError> {
        let Some(mailer) = &self.services.mailer else {
            return Err(AuthError::MfaMethodUnavailable);
        };
        let code = self.six_digits();
        let digest = self.email_code_digest(mfa_token, &code);
        let token_hash = self.services.tokens.digest(mfa_token);
        let interval = self.settings.email_code_interval_secs;
        let sends = self.settings.email_codes_per_token;
        let stored =
            self.repos
                .tickets
                .store_email_code(&token_hash, &digest, now, interval, sends);
        match stored.await? {
            EmailCodeStored::Stored => {}
            EmailCodeStored::TooSoon { retry_after_secs } => {
                let retry_after_secs = retry_after_secs.max(1);
                return Err(AuthError::TooManyAttempts { retry_after_secs });
            }
            EmailCodeStored::TooMany => {
                let left = u64::try_from(challenge.expires_at - now)
                    .unwrap_or(1)
                    .max(1);
                return Err(AuthError::TooManyAttempts {
                    retry_after_secs: left,
                });
            }
            EmailCodeStored::NotLive => return Err(AuthError::InvalidMfaToken),
        }

        match mailer
            .send_login_code(&record.user.email, &Secret::new(code))
            .await
        {
            Ok(()) => {
                tracing::info!(user_id = %record.user.id, "email code sent");
                Ok(MfaOutcome::CodeSent)
            }
            Err(error) => {
                tracing::error!(%error, "email code could not be sent");
                Err(AuthError::MailUnavailable {
                    retry_after_secs: interval.max(1),
                })
            }
        }
    }

    /// A uniformly drawn six-digit code; rejection sampling avoids the bias
    /// of a plain modulo.
    fn six_digits(&self) -> String {
        const RANGE: u32 = 1_000_000;
        const LIMIT: u32 = u32::MAX - u32::MAX % RANGE;
        loop {
            let mut bytes = [0u8; 4];
            self.services.tokens.random_bytes(&mut bytes);
            let value = u32::from_le_bytes(bytes);
            if value < LIMIT {
                return format!("{:06}", value % RANGE);
            }
        }
    }

    /// An email code is stored bound to its MFA token, so a digest read from
    /// the store cannot be tried against another login.
    fn email_code_digest(&self, mfa_token: &str, code: &str) -> TokenHash {
        let material = format!("email-code:{mfa_token}:{}", code.trim());
        self.services.tokens.digest(&material)
    }

    async fn trust_device(&self, record: &UserRecord, now: Timestamp) -> Result<String, AuthError> {
        let token = self.services.tokens.generate();
        let expires_at = now + self.settings.trusted_device_ttl_secs;
        let digest = self.services.tokens.digest(&token);
        self.repos
            .devices
            .trust_device(&digest, record.user.id, expires_at)
            .await?;
        Ok(token)
    }

    /// Rotates a refresh token.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidRefreshToken`] for an unknown token or a dead
    /// session, user or membership; [`AuthError::RefreshTokenReused`] for a
    /// replayed token outside the grace window, which revokes the session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Refreshed, AuthError> {
        let now = self.now();
        let presented = self.services.tokens.digest(refresh_token);
        let Some(record) = self.repos.sessions.find_refresh(&presented).await? else {
            return Err(AuthError::InvalidRefreshToken);
        };
        let session = record.session;
        if !self.session_may_refresh(&session, now).await? {
            return Err(AuthError::InvalidRefreshToken);
        }

        let successor = self.services.tokens.successor(refresh_token);
        let successor_hash = self.services.tokens.digest(&successor);
        let state = match record.state {
            RefreshState::Active => {
                if self
                    .repos
                    .sessions
                    .rotate_refresh(&presented, &successor_hash, now)
                    .await?
                {
                    return self.refreshed(&session, successor, now);
                }
                // Lost a race with a concurrent refresh: judge it as a replay.
                self.repos
                    .sessions
                    .find_refresh(&presented)
                    .await?
                    .map(|r| r.state)
            }
            rotated @ RefreshState::Rotated(_) => Some(rotated),
        };
        let Some(RefreshState::Rotated(rotated)) = state else {
            return Err(AuthError::InvalidRefreshToken);
        };
        match judge_reuse(rotated, now, self.settings.refresh_reuse_grace_secs) {
            ReuseVerdict::SameSuccessor => self.refreshed(&session, successor, now),
            ReuseVerdict::Theft => {
                self.repos.sessions.revoke_session(session.id, now).await?;
                tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reused; session revoked");
                Err(AuthError::RefreshTokenReused)
            }
        }
    }

    /// Ends the session of an access token. Anything unverifiable is
    /// ignored: logout always succeeds and tells nothing.
    pub async fn logout(&self, bearer_token: Option<&str>) {
        let Some(session) = bearer_token.and_then(|t| self.services.access.session_for_logout(t))
        else {
            return;
        };
        match self
            .repos
            .sessions
            .revoke_session(session, self.now())
            .await
        {
            Ok(()) => tracing::info!(session_id = %session, "logged out"),
            Err(error) => tracing::error!(%error, "logout could not revoke the session"),
        }
    }

    /// The public keys that verify access tokens, as a JWK set document.
    pub fn jwks_json(&self) -> String {
        self.services.access.jwks_json()
    }

    /// Whether the store answers.
    pub async fn ready(&self) -> bool {
        self.repos.health.ping().await.is_ok()
    }

    fn now(&self) -> Timestamp {
        self.services.clock.now()
    }

    fn attempt(&self, email: Option<&Email>, client: Option<IpAddr>) -> Attempt {
        Attempt::new(&*self.services.tokens, email, client)
    }

    /// Loads the candidate's factors, checks the password (against a dummy
    /// hash when there is no candidate, so the work is the same) and decides.
    async fn check_password(
        &self,
        record: Option<UserRecord>,
        password: &Password,
        requested_tenant: Option<&str>,
        device_token: Option<&str>,
        now: Timestamp,
    ) -> Result<PasswordAttempt, AuthError> {
        let stored = record.as_ref().map(|r| r.password_hash.expose().clone());
        let verification = self.services.hasher.verify(password, stored).await?;
        // Factors and devices are read only once the password is right, so a
        // wrong password costs the same for every email, known or not.
        let candidate = match (record, verification) {
            (Some(record), Verification::Match { .. }) => {
                Some(self.candidate(record, device_token, now).await?)
            }
            (Some(record), Verification::Mismatch) => Some(bare_candidate(record)),
            (None, _) => None,
        };
        let (check, needs_rehash) = match verification {
            Verification::Match { needs_rehash } => (PasswordCheck::Match, needs_rehash),
            Verification::Mismatch => (PasswordCheck::Mismatch, false),
        };
        let decision = decide_login(candidate.as_ref().map(|c| &c.0), check, requested_tenant);
        Ok(PasswordAttempt {
            candidate,
            decision,
            needs_rehash,
            password: password.clone(),
        })
    }

    async fn candidate(
        &self,
        record: UserRecord,
        device_token: Option<&str>,
        now: Timestamp,
    ) -> Result<(Candidate, UserRecord), AuthError> {
        let factors = self.repos.factors.factors(record.user.id).await?;
        let trusted_device = match device_token {
            Some(token) => {
                let digest = self.services.tokens.digest(token);
                self.repos
                    .devices
                    .is_trusted_device(&digest, record.user.id, now)
                    .await?
            }
            None => false,
        };
        let candidate = Candidate {
            user: record.user.clone(),
            active_tenants: record.active_tenants(),
            methods: offered_methods(&factors, self.services.mailer.is_some()),
            has_factor: factors.any(),
            trusted_device,
        };
        Ok((candidate, record))
    }

    /// Carries out a login decision taken after the password check.
    async fn finish_password_step(
        &self,
        checked: PasswordAttempt,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<LoginOutcome, AuthError> {
        let PasswordAttempt {
            candidate,
            decision,
            needs_rehash,
            password,
        } = checked;
        // An unknown user is logged as `-`, so log lines read alike.
        let user_id = candidate
            .as_ref()
            .map_or_else(|| "-".to_owned(), |c| c.0.user.id.to_string());
        let record = || accepted_record(candidate.as_ref());
        match decision {
            LoginDecision::InvalidCredentials => {
                attempt
                    .failed(&*self.repos.throttle, self.settings.throttle, now)
                    .await?;
                tracing::warn!(%user_id, "password check failed");
                Err(AuthError::InvalidCredentials)
            }
            LoginDecision::AccountDisabled => {
                tracing::warn!(%user_id, "login refused: account disabled");
                Err(AuthError::AccountDisabled)
            }
            LoginDecision::SelectTenant(tenants) => {
                Err(AuthError::TenantSelectionRequired(tenants))
            }
            LoginDecision::SecondFactor { tenant, methods } => {
                let record = record()?;
                self.rehash_if_needed(record, &password, needs_rehash).await;
                let pending = self.open_challenge(record, &tenant, methods, now).await?;
                tracing::info!(user_id = %record.user.id, "password accepted; second factor required");
                Ok(LoginOutcome::MfaRequired(pending))
            }
            LoginDecision::Authenticated { tenant, amr } => {
                let record = record()?;
                self.rehash_if_needed(record, &password, needs_rehash).await;
                let signed_in = self.start_session(record, tenant, amr, now).await?;
                attempt.succeeded(&*self.repos.throttle).await?;
                tracing::info!(user_id = %record.user.id, "signed in");
                Ok(LoginOutcome::SignedIn(signed_in))
            }
        }
    }

    /// Upgrades a hash made with older parameters. A failure here must not
    /// fail the login, so it is logged and left for the next one.
    async fn rehash_if_needed(&self, record: &UserRecord, password: &Password, needed: bool) {
        if !needed {
            return;
        }
        let result = match self.services.hasher.hash(password).await {
            Ok(hash) => self
                .repos
                .users
                .set_password_hash(record.user.id, &hash)
                .await
                .map_err(AuthError::from),
            Err(error) => Err(error.into()),
        };
        match result {
            Ok(()) => {
                tracing::info!(user_id = %record.user.id, "password re-hashed with current parameters")
            }
            Err(error) => {
                tracing::error!(user_id = %record.user.id, %error, "password re-hash failed")
            }
        }
    }

    async fn open_challenge(
        &self,
        record: &UserRecord,
        tenant: &Tenant,
        methods: Vec<MfaMethod>,
        now: Timestamp,
    ) -> Result<MfaPending, AuthError> {
        let mfa_token = self.services.tokens.generate();
        let challenge = MfaChallenge {
            user_id: record.user.id,
            tenant_id: tenant.id,
            methods: methods.clone(),
            failures: 0,
            expires_at: now + self.settings.mfa_token_ttl_secs,
            consumed: false,
        };
        let hash = self.services.tokens.digest(&mfa_token);
        self.repos
            .tickets
            .insert_challenge(&hash, &challenge)
            .await?;
        Ok(MfaPending {
            mfa_token,
            user_id: record.user.id,
            methods,
        })
    }

    async fn code_is_valid(
        &self,
        cmd: &VerifyMfaCommand,
        challenge: &MfaChallenge,
        method: MfaMethod,
        now: Timestamp,
    ) -> Result<bool, AuthError> {
        let Some(code) = cmd.code.as_deref() else {
            return Ok(false);
        };
        match method {
            MfaMethod::Totp => self.totp_is_valid(challenge.user_id, code, now).await,
            MfaMethod::BackupCode => {
                let digest = self
                    .services
                    .tokens
                    .keyed_digest(&normalise_backup_code(code));
                let used = self
                    .repos
                    .factors
                    .consume_backup_code(challenge.user_id, &digest, now);
                Ok(used.await?)
            }
            MfaMethod::Email => {
                let token_hash = self.services.tokens.digest(&cmd.mfa_token);
                let stored = self.repos.tickets.email_code(&token_hash).await?;
                let typed = self.email_code_digest(&cmd.mfa_token, code);
                Ok(stored.is_some_and(|stored| stored.ct_eq(&typed)))
            }
        }
    }

    /// RFC 6238 with one step of drift each way. Every candidate step is
    /// computed, so the timing does not tell which one matched; the newest
    /// matching step is then claimed atomically, refusing replays.
    async fn totp_is_valid(
        &self,
        user: UserId,
        code: &str,
        now: Timestamp,
    ) -> Result<bool, AuthError> {
        let factors = self.repos.factors.factors(user).await?;
        let Some(totp) = factors.totp else {
            return Ok(false);
        };
        let secret = totp.secret.expose();
        let matching = totp_candidate_steps(now.unix())
            .into_iter()
            .filter(|&step| self.services.totp.matches(secret, step, code))
            .filter(|&step| totp_step_is_fresh(step, totp.last_step))
            .max();
        match matching {
            Some(step) => Ok(self.repos.factors.accept_totp_step(user, step).await?),
            None => Ok(false),
        }
    }

    async fn start_session(
        &self,
        record: &UserRecord,
        tenant: Tenant,
        amr: Amr,
        now: Timestamp,
    ) -> Result<SignedIn, AuthError> {
        let session = Session {
            id: SessionId::from_random(self.services.random_16()),
            user_id: record.user.id,
            tenant_id: tenant.id,
            amr,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.settings.session.absolute_secs,
            revoked: false,
        };
        let refresh_token = self.services.tokens.generate();
        let refresh_hash = self.services.tokens.digest(&refresh_token);
        self.repos
            .sessions
            .create_session(&session, &refresh_hash)
            .await?;

        let access_token = self.access_token(&session, now)?;
        let user = UserView {
            id: record.user.id,
            email: record.user.email.clone(),
            tenant_id: tenant.id,
            tenant_slug: tenant.slug,
            tenant_name: tenant.name,
        };
        Ok(SignedIn {
            access_token,
            refresh_token,
            user,
            device_token: None,
        })
    }

    fn access_token(&self, session: &Session, now: Timestamp) -> Result<String, AuthError> {
        let mut jti = [0u8; 16];
        self.services.tokens.random_bytes(&mut jti);
        let claims = AccessClaims {
            subject: session.user_id,
            tenant: session.tenant_id,
            session: session.id,
            amr: session.amr,
            token_id: data_encoding::HEXLOWER.encode(&jti),
            issued_at: now,
            expires_at: now + self.settings.access_ttl_secs,
        };
        Ok(self.services.access.issue(&claims)?)
    }

    fn refreshed(
        &self,
        session: &Session,
        successor: String,
        now: Timestamp,
    ) -> Result<Refreshed, AuthError> {
        let access_token = self.access_token(session, now)?;
        tracing::debug!(session_id = %session.id, "refresh token rotated");
        Ok(Refreshed {
            access_token,
            refresh_token: successor,
        })
    }

    /// A session may mint tokens while it is live and its user is enabled and
    /// still an active member of its tenant.
    async fn session_may_refresh(
        &self,
        session: &Session,
        now: Timestamp,
    ) -> Result<bool, AuthError> {
        if !session.is_live(now, self.settings.session) {
            return Ok(false);
        }
        let record = self.repos.users.find_user_by_id(session.user_id).await?;
        Ok(record.is_some_and(|r| {
            !r.user.disabled && r.active_tenants().iter().any(|t| t.id == session.tenant_id)
        }))
    }
}

/// A password check and what was decided from it.
struct PasswordAttempt {
    candidate: Option<(Candidate, UserRecord)>,
    decision: LoginDecision,
    needs_rehash: bool,
    password: Password,
}

/// What a wrong password needs to know of a user: who it was, for the log.
fn bare_candidate(record: UserRecord) -> (Candidate, UserRecord) {
    let candidate = Candidate {
        user: record.user.clone(),
        active_tenants: record.active_tenants(),
        methods: Vec::new(),
        has_factor: false,
        trusted_device: false,
    };
    (candidate, record)
}

/// The user record behind a positive decision; `decide_login` takes no
/// positive decision without a candidate, so the error is a bug report.
fn accepted_record(candidate: Option<&(Candidate, UserRecord)>) -> Result<&UserRecord, AuthError> {
    candidate
        .map(|c| &c.1)
        .ok_or_else(|| AuthError::Unexpected("a login was accepted without a user".into()))
}

/// The second-factor methods a user can use, in offer order. Backup codes
/// are a fallback beside a factor, never offered alone; email codes only
/// when mail can be sent.
fn offered_methods(factors: &Factors, mail_configured: bool) -> Vec<MfaMethod> {
    let mut methods = Vec::new();
    if factors.totp.is_some() {
        methods.push(MfaMethod::Totp);
    }
    if factors.email && mail_configured {
        methods.push(MfaMethod::Email);
    }
    if factors.any() && factors.backup_codes_left > 0 {
        methods.push(MfaMethod::BackupCode);
    }
    methods
}

fn with_active_tenant(record: UserRecord, tenant: TenantId) -> Option<(UserRecord, Tenant)> {
    let found = record
        .active_tenants()
        .into_iter()
        .find(|t| t.id == tenant)?;
    Some((record, found))
}

/// Tokens and codes never reach a log line: `Debug` of the types that carry
/// them prints every other field and a placeholder for the secrets.
mod redacted {
    use std::fmt;

    use super::{
        AuthenticateCommand, IdentifyOutcome, LoginCommand, MfaPending, Refreshed, SignedIn,
        VerifyMfaCommand,
    };

    const HIDDEN: &str = "[redacted]";

    impl fmt::Debug for IdentifyOutcome {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("IdentifyOutcome")
                .field("flow_token", &HIDDEN)
                .field("tenants", &self.tenants)
                .field("requires_tenant_selection", &self.requires_tenant_selection)
                .finish()
        }
    }

    impl fmt::Debug for AuthenticateCommand {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("AuthenticateCommand")
                .field("flow_token", &HIDDEN)
                .field("tenant_id", &self.tenant_id)
                .field("password", &self.password)
                .field("device_token", &self.device_token.as_ref().map(|_| HIDDEN))
                .field("client", &self.client)
                .finish()
        }
    }

    impl fmt::Debug for LoginCommand {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("LoginCommand")
                .field("email", &self.email)
                .field("password", &self.password)
                .field("tenant_id", &self.tenant_id)
                .field("device_token", &self.device_token.as_ref().map(|_| HIDDEN))
                .field("client", &self.client)
                .finish()
        }
    }

    impl fmt::Debug for VerifyMfaCommand {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("VerifyMfaCommand")
                .field("mfa_token", &HIDDEN)
                .field("user_id", &self.user_id)
                .field("method", &self.method)
                .field("code", &self.code.as_ref().map(|_| HIDDEN))
                .field("trust_device", &self.trust_device)
                .field("client", &self.client)
                .finish()
        }
    }

    impl fmt::Debug for SignedIn {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SignedIn")
                .field("access_token", &HIDDEN)
                .field("refresh_token", &HIDDEN)
                .field("user", &self.user)
                .field("device_token", &self.device_token.as_ref().map(|_| HIDDEN))
                .finish()
        }
    }

    impl fmt::Debug for MfaPending {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("MfaPending")
                .field("mfa_token", &HIDDEN)
                .field("user_id", &self.user_id)
                .field("methods", &self.methods)
                .finish()
        }
    }

    impl fmt::Debug for Refreshed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Refreshed")
                .field("access_token", &HIDDEN)
                .field("refresh_token", &HIDDEN)
                .finish()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn debug_never_prints_a_token_or_code() {
            let command = VerifyMfaCommand {
                mfa_token: "mfa-secret".into(),
                user_id: "u".into(),
                method: "totp".into(),
                code: Some("123456".into()),
                trust_device: false,
                client: None,
            };
            let refreshed = Refreshed {
                access_token: "access-secret".into(),
                refresh_token: "refresh-secret".into(),
            };
            let printed = format!("{command:?} {refreshed:?}");
            for secret in ["mfa-secret", "123456", "access-secret", "refresh-secret"] {
                assert!(!printed.contains(secret), "{secret} in {printed}");
            }
        }
    }
}
