//! What each command does, and how its outcome is printed.

use std::io::Read;
use std::process::ExitCode;

use portal_auth_application::{AdminError, TotpEnrolment};
use serde_json::{Value, json};

use crate::cli::{Command, MfaCommand, TenantCommand, UserCommand};
use crate::settings::Settings;
use crate::wiring;

/// A command that did not succeed: bad usage (exit 2) or a failure (exit 1).
#[derive(Debug)]
pub struct Failure {
    usage: bool,
    error: anyhow::Error,
}

impl Failure {
    pub fn usage(error: anyhow::Error) -> Self {
        Self { usage: true, error }
    }

    pub fn fault(error: anyhow::Error) -> Self {
        Self {
            usage: false,
            error,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::fault(error)
    }
}

impl From<AdminError> for Failure {
    fn from(error: AdminError) -> Self {
        let usage = matches!(error, AdminError::Invalid { .. });
        Self {
            usage,
            error: error.into(),
        }
    }
}

/// Prints a failure on stderr and picks the exit code.
pub fn report(json: bool, failure: &Failure) -> ExitCode {
    let message = format!("{:#}", failure.error);
    if json {
        eprintln!("{}", json!({ "error": message }));
    } else {
        eprintln!("portal-auth: {message}");
    }
    ExitCode::from(if failure.usage { 2 } else { 1 })
}

/// Runs one command.
///
/// # Errors
///
/// A [`Failure`] to report.
pub async fn run(command: Command, json: bool, settings: &Settings) -> Result<(), Failure> {
    if let Command::Serve = command {
        return Ok(crate::serve::serve(settings).await?);
    }
    if let Command::Migrate = command {
        wiring::open_store(settings, true).await?;
        return emit(json, json!({ "migrated": true }), "migrations applied");
    }
    let wired = wiring::wire(settings).await?;
    let admin = &wired.admin;
    match command {
        Command::Serve | Command::Migrate => Ok(()),
        Command::Demo => crate::serve::demo(admin, settings, json).await,
        Command::Tenant(TenantCommand::Create { name, slug }) => {
            let tenant = admin.create_tenant(&name, slug.as_deref()).await?;
            let out = json!({ "id": tenant.id.to_string(), "slug": tenant.slug.as_str(), "name": tenant.name.as_str() });
            emit(
                json,
                out,
                &format!(
                    "tenant {} created with id {}",
                    tenant.slug.as_str(),
                    tenant.id
                ),
            )
        }
        Command::User(command) => user_command(admin, command, json).await,
        Command::Mfa(command) => mfa_command(admin, command, json).await,
    }
}

async fn user_command(
    admin: &portal_auth_application::Admin,
    command: UserCommand,
    json: bool,
) -> Result<(), Failure> {
    match command {
        UserCommand::Create { email, tenants, .. } => {
            let password = read_password()?;
            let user = admin.create_user(&email, &password, &tenants).await?;
            let out = json!({ "id": user.id.to_string(), "email": user.email.as_str() });
            emit(
                json,
                out,
                &format!("user {} created with id {}", user.email.as_str(), user.id),
            )
        }
        UserCommand::AddTenant(m) => {
            admin.add_tenant(&m.user, &m.tenant).await?;
            let out = json!({ "user": m.user, "tenant": m.tenant, "status": "active" });
            emit(json, out, "membership active")
        }
        UserCommand::SuspendTenant(m) => {
            admin.suspend_tenant(&m.user, &m.tenant).await?;
            let out = json!({ "user": m.user, "tenant": m.tenant, "status": "suspended" });
            emit(json, out, "membership suspended; its sessions are revoked")
        }
        UserCommand::Disable(u) => {
            admin.disable_user(&u.user).await?;
            emit(
                json,
                json!({ "user": u.user, "disabled": true }),
                "user disabled; sessions revoked",
            )
        }
        UserCommand::Enable(u) => {
            admin.enable_user(&u.user).await?;
            emit(
                json,
                json!({ "user": u.user, "disabled": false }),
                "user enabled",
            )
        }
        UserCommand::SetPassword { user, .. } => {
            let password = read_password()?;
            admin.set_password(&user, &password).await?;
            let out = json!({ "user": user, "password_changed": true });
            emit(json, out, "password changed; sessions revoked")
        }
    }
}

async fn mfa_command(
    admin: &portal_auth_application::Admin,
    command: MfaCommand,
    json: bool,
) -> Result<(), Failure> {
    match command {
        MfaCommand::EnrollTotp(u) => {
            let TotpEnrolment {
                secret,
                otpauth_uri,
            } = admin.enroll_totp(&u.user).await?;
            let text = format!(
                "secret: {}\notpauth_uri: {}",
                secret.expose(),
                otpauth_uri.expose()
            );
            let out = json!({ "secret": secret.expose(), "otpauth_uri": otpauth_uri.expose() });
            emit(json, out, &text)
        }
        MfaCommand::BackupCodes(u) => {
            let codes = admin.backup_codes(&u.user).await?;
            let codes: Vec<&str> = codes.iter().map(|c| c.expose().as_str()).collect();
            emit(json, json!({ "codes": codes }), &codes.join("\n"))
        }
        MfaCommand::EnableEmail(u) => {
            admin.enable_email(&u.user).await?;
            emit(
                json,
                json!({ "user": u.user, "email_factor": true }),
                "email factor enabled",
            )
        }
    }
}

/// Prints a command's result: the JSON object, or the text for people.
pub fn emit(json: bool, object: Value, text: &str) -> Result<(), Failure> {
    if json {
        println!("{object}");
    } else {
        println!("{text}");
    }
    Ok(())
}

/// Reads a password from standard input, stripping exactly one trailing
/// LF or CRLF: the newline a shell's `echo` or a here-string adds.
fn read_password() -> Result<String, Failure> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| Failure::usage(anyhow::anyhow!("reading the password from stdin: {e}")))?;
    Ok(strip_one_newline(raw))
}

fn strip_one_newline(mut raw: String) -> String {
    if raw.ends_with("\r\n") {
        raw.truncate(raw.len() - 2);
    } else if raw.ends_with('\n') {
        raw.truncate(raw.len() - 1);
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_trailing_newline_is_stripped() {
        assert_eq!(strip_one_newline("pw\n".into()), "pw");
        assert_eq!(strip_one_newline("pw\r\n".into()), "pw");
        assert_eq!(strip_one_newline("pw\n\n".into()), "pw\n");
        assert_eq!(strip_one_newline("pw ".into()), "pw ");
    }
}
