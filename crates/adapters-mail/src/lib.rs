//! Outgoing mail: the adapter behind the `Mailer` port of
//! `portal_auth_ports`, which sends one-time login codes.
//!
//! [`SmtpMailer`] hands each message to an SMTP server through `lettre`,
//! over implicit TLS, STARTTLS or (for a relay on the same host) plain TCP,
//! as [`SmtpSettings`] says. One connection is opened per message and the
//! whole exchange runs under one deadline, so a dead or stalled server costs
//! a request at most `timeout_secs`. Neither the code nor the full address
//! reaches a log line or an error text.
//!
//! With the `testing` feature, `RecordingMailer` is a stateful fake that
//! keeps what it was asked to send, for application tests.
//!
//! Like every adapter, it depends on nothing of ours but `ports` and `domain`.
//! Start with [`SmtpMailer::new`].

#[cfg(feature = "testing")]
mod recording;
mod smtp;

#[cfg(feature = "testing")]
pub use recording::RecordingMailer;
pub use smtp::{SmtpMailer, SmtpSettings, SmtpTls};
