//! The command line: one binary serves and administers.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "portal-auth",
    version,
    about = "Portal Auth: login, tokens and sessions for a multi-tenant portal"
)]
pub struct Cli {
    /// A TOML file layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Provision a demo tenant and user with TOTP, and print how to log in.
    Demo,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users and memberships.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage second factors.
    #[command(subcommand)]
    Mfa(MfaCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        #[arg(long)]
        name: String,
        /// Derived from the name when absent.
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct UserRef {
    /// A user id or email.
    #[arg(long)]
    pub user: String,
}

#[derive(Debug, Args)]
pub struct Membership {
    /// A user id or email.
    #[arg(long)]
    pub user: String,
    /// A tenant id or slug.
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, reading the password from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (one trailing newline is stripped).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// A tenant id or slug; repeat for several.
        #[arg(long = "tenant")]
        tenants: Vec<String>,
    },
    /// Make the user an active member of a tenant.
    AddTenant(Membership),
    /// Suspend a membership; ends the user's sessions in that tenant.
    SuspendTenant(Membership),
    /// Disable a user; ends all their sessions.
    Disable(UserRef),
    /// Enable a disabled user.
    Enable(UserRef),
    /// Set a new password from standard input; ends all sessions.
    SetPassword {
        #[arg(long)]
        user: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Enrol TOTP with a new secret, confirmed at once.
    EnrollTotp(UserRef),
    /// Issue ten new backup codes; the old ones stop working.
    BackupCodes(UserRef),
    /// Enrol the email factor.
    EnableEmail(UserRef),
}
