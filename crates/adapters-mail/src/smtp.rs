//! Login codes delivered over SMTP with `lettre`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use portal_auth_domain::{Email, Secret};
use portal_auth_ports::{MailError, Mailer};

const SUBJECT: &str = "Your Portal Auth login code";

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain TCP, for a relay on the same host or a test server. Credentials
    /// are refused in this mode, since they would cross the wire in clear.
    None,
    /// STARTTLS (RFC 3207), required: a server that does not offer it fails
    /// the delivery rather than falling back to plain text, a downgrade an
    /// attacker on the path could otherwise force.
    StartTls,
    /// TLS from the first byte (RFC 8314 implicit TLS), usually port 465.
    Tls,
}

/// The mail server and the sender, as read from configuration.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender mailbox, `no-reply@example.com` or
    /// `Portal Auth <no-reply@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
    /// Empty for a server that takes mail without authentication.
    pub username: String,
    pub password: String,
    /// The most one delivery may take, from connecting to the server's last
    /// answer.
    pub timeout_secs: u64,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// The [`Mailer`] of production: one SMTP connection per message.
///
/// A connection pool would save a handshake per code, but login codes are
/// rare and a pooled connection that the server has silently dropped would
/// turn into a failed login.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    server: String,
}

impl SmtpMailer {
    /// Checks the settings and prepares the transport; nothing is sent and
    /// no connection is opened until the first message.
    ///
    /// # Errors
    ///
    /// [`MailError`] when `from` is not a mailbox, `host` is empty,
    /// `timeout_secs` is zero, a username is given with [`SmtpTls::None`],
    /// or the TLS connector cannot be built.
    ///
    /// # Security
    ///
    /// TLS certificates are checked against `host` with the system's roots.
    pub fn new(settings: SmtpSettings) -> Result<Self, MailError> {
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| MailError(format!("smtp: `from` is not a mailbox: {e}")))?;
        if settings.host.is_empty() {
            return Err(MailError("smtp: the host is empty".to_owned()));
        }
        if settings.timeout_secs == 0 {
            return Err(MailError(
                "smtp: the timeout must be at least 1 s".to_owned(),
            ));
        }

        let timeout = Duration::from_secs(settings.timeout_secs);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(timeout))
            .tls(tls(&settings)?);
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(settings.username, settings.password));
        }

        Ok(Self {
            transport: builder.build(),
            from,
            timeout,
            server: format!("{}:{}", settings.host, settings.port),
        })
    }

    fn message(&self, to: &Email, code: &Secret<String>) -> Result<Message, MailError> {
        let address = to
            .as_str()
            .parse::<Address>()
            .map_err(|e| self.failure(to, &format!("address not accepted: {e}")))?;

        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address))
            .subject(SUBJECT)
            // RFC 5322 3.6.4: a message SHOULD carry an id; filters score
            // its absence as spam.
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(body(code.expose()))
            .map_err(|e| self.failure(to, &format!("message not built: {e}")))
    }

    /// An error text for logs: the recipient's domain and the server, never
    /// the full address, which a server's rejection often quotes back.
    fn failure(&self, to: &Email, cause: &str) -> MailError {
        let masked = format!("…@{}", to.domain());
        let cause = without(cause, to.as_str(), &masked);
        MailError(format!("to {masked} via {}: {cause}", self.server))
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.email.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_login_code(&self, to: &Email, code: &Secret<String>) -> Result<(), MailError> {
        let message = self.message(to, code)?;

        // lettre bounds only the TCP connect with its timeout; a server that
        // accepts and then stalls would hold the login request forever, so
        // the whole exchange runs under one deadline as well.
        let outcome = tokio::time::timeout(self.timeout, self.transport.send(message)).await;

        match outcome {
            Ok(Ok(_)) => {
                tracing::debug!(
                    domain = to.domain(),
                    "login code accepted by the mail server"
                );
                Ok(())
            }
            Ok(Err(e)) => Err(self.failure(to, &e.to_string())),
            Err(_) => Err(self.failure(to, &format!("no answer within {:?}", self.timeout))),
        }
    }
}

fn tls(settings: &SmtpSettings) -> Result<Tls, MailError> {
    let parameters = || {
        TlsParameters::new(settings.host.clone())
            .map_err(|e| MailError(format!("smtp: TLS for {} not set up: {e}", settings.host)))
    };

    match settings.tls {
        SmtpTls::None if !settings.username.is_empty() => Err(MailError(
            "smtp: credentials over plain TCP are refused; use StartTls or Tls".to_owned(),
        )),
        SmtpTls::None => Ok(Tls::None),
        SmtpTls::StartTls => Ok(Tls::Required(parameters()?)),
        SmtpTls::Tls => Ok(Tls::Wrapper(parameters()?)),
    }
}

/// The plain-text body. The code stands on a line of its own so a mail
/// client's selection or an autofill heuristic picks up the digits alone.
fn body(code: &str) -> String {
    format!(
        "Your Portal Auth login code is:\n\
         \n    {code}\n\n\
         It expires with this login attempt, in a few minutes.\n\
         \n\
         If you did not try to sign in, ignore this mail.\n"
    )
}

/// `text` with every occurrence of `needle` replaced, ignoring ASCII case:
/// `needle` is a normalised (lowercase) address, and a server may quote it
/// back in another case. ASCII lowercasing keeps every byte offset, so the
/// matches found in the lowered copy are valid in `text`.
fn without(text: &str, needle: &str, replacement: &str) -> String {
    let lowered = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut kept = 0;
    for (start, found) in lowered.match_indices(needle) {
        out.push_str(&text[kept..start]);
        out.push_str(replacement);
        kept = start + found.len();
    }
    out.push_str(&text[kept..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_masked_in_any_ascii_case() {
        let text = "550 <Alice@Example.COM>: unknown; alice@example.com again";

        let masked = without(text, "alice@example.com", "…@example.com");

        assert_eq!(masked, "550 <…@example.com>: unknown; …@example.com again");
    }

    #[test]
    fn a_text_without_the_address_is_left_alone() {
        assert_eq!(without("421 busy", "a@b.example", "x"), "421 busy");
    }

    #[test]
    fn the_body_holds_the_code_on_a_line_of_its_own() {
        assert!(body("493817").lines().any(|line| line.trim() == "493817"));
    }
}
