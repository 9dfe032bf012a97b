//! `SmtpMailer` against a fake SMTP server on 127.0.0.1 that records what it
//! is told, accepts or rejects recipients, or stays silent.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portal_auth_adapters_mail::{SmtpMailer, SmtpSettings, SmtpTls};
use portal_auth_domain::{Email, Secret};
use portal_auth_ports::Mailer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT_SECS: u64 = 1;

/// A little more than the mailer's deadline, for scheduling on a busy host.
const DEADLINE: Duration = Duration::from_millis(TIMEOUT_SECS * 1000 + 1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Accept,
    RejectRecipients,
    Silent,
}

/// One message as the server saw it: the envelope and the raw DATA.
#[derive(Debug, Clone, Default)]
struct Delivery {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

struct FakeSmtp {
    addr: SocketAddr,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl FakeSmtp {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let deliveries = Arc::new(Mutex::new(Vec::new()));

        let recorded = Arc::clone(&deliveries);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, behaviour, Arc::clone(&recorded)));
            }
        });

        Self { addr, deliveries }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }
}

async fn session(
    stream: TcpStream,
    behaviour: Behaviour,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
) -> std::io::Result<()> {
    if behaviour == Behaviour::Silent {
        // Holds the connection open without a greeting, as a hung server does.
        tokio::time::sleep(Duration::from_secs(60)).await;
        return Ok(());
    }

    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut delivery = Delivery::default();
    write.write_all(b"220 fake.test ESMTP\r\n").await?;

    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let argument = line.trim_end().split_once(':').map(|(_, a)| a.to_owned());

        let reply = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250 fake.test".to_owned()
        } else if command.starts_with("MAIL FROM:") {
            delivery.mail_from = argument.unwrap_or_default();
            "250 2.1.0 Ok".to_owned()
        } else if command.starts_with("RCPT TO:") {
            let recipient = argument.unwrap_or_default();
            if behaviour == Behaviour::RejectRecipients {
                // Real servers quote the address back, so the test can check
                // that the mailer keeps it out of its error text.
                format!("550 5.1.1 {recipient}: Recipient address rejected")
            } else {
                delivery.rcpt_to.push(recipient);
                "250 2.1.5 Ok".to_owned()
            }
        } else if command == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            delivery.data = read_data(&mut reader).await?;
            deliveries
                .lock()
                .unwrap()
                .push(std::mem::take(&mut delivery));
            "250 2.0.0 Ok: queued".to_owned()
        } else if command == "RSET" {
            delivery = Delivery::default();
            "250 2.0.0 Ok".to_owned()
        } else if command == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognized".to_owned()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// Reads the message up to the lone dot that ends it (RFC 5321, 4.1.1.4).
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<String> {
    let mut data = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 || line == ".\r\n" {
            return Ok(data);
        }
        data.push_str(&line);
    }
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        from: "Portal Auth <no-reply@portal.example>".to_owned(),
        tls: SmtpTls::None,
        username: String::new(),
        password: String::new(),
        timeout_secs: TIMEOUT_SECS,
    }
}

fn alice() -> Email {
    Email::parse("alice@example.com").unwrap()
}

fn code() -> Secret<String> {
    Secret::new("493817".to_owned())
}

/// A port on 127.0.0.1 that nothing listens on: bound, read, then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_code_and_the_recipient_reach_the_mail_server() {
    let server = FakeSmtp::start(Behaviour::Accept).await;
    let mailer = SmtpMailer::new(settings(server.addr.port())).unwrap();

    mailer.send_login_code(&alice(), &code()).await.unwrap();

    let deliveries = server.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.mail_from, "<no-reply@portal.example>");
    assert_eq!(delivery.rcpt_to, ["<alice@example.com>"]);
    assert!(delivery.data.contains("To: alice@example.com\r\n"));
    assert!(delivery.data.contains("\r\n    493817\r\n"));
}

#[tokio::test]
async fn the_message_names_the_sender_and_the_subject_and_says_what_to_do() {
    let server = FakeSmtp::start(Behaviour::Accept).await;
    let mailer = SmtpMailer::new(settings(server.addr.port())).unwrap();

    mailer.send_login_code(&alice(), &code()).await.unwrap();

    let data = &server.deliveries()[0].data;
    assert!(data.contains("From: \"Portal Auth\" <no-reply@portal.example>\r\n"));
    assert!(data.contains("Subject: Your Portal Auth login code\r\n"));
    assert!(data.contains("\r\nMessage-ID: <"));
    assert!(data.contains("Content-Type: text/plain; charset=utf-8\r\n"));
    assert!(data.contains("It expires with this login attempt, in a few minutes."));
    assert!(data.contains("If you did not try to sign in, ignore this mail."));
}

#[tokio::test]
async fn each_code_is_a_message_of_its_own() {
    let server = FakeSmtp::start(Behaviour::Accept).await;
    let mailer = SmtpMailer::new(settings(server.addr.port())).unwrap();
    let bob = Email::parse("bob@example.org").unwrap();

    mailer.send_login_code(&alice(), &code()).await.unwrap();
    mailer
        .send_login_code(&bob, &Secret::new("120034".to_owned()))
        .await
        .unwrap();

    let deliveries = server.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[1].rcpt_to, ["<bob@example.org>"]);
    assert!(deliveries[1].data.contains("120034"));
    assert!(!deliveries[1].data.contains("493817"));
}

#[tokio::test]
async fn a_rejected_recipient_gives_a_mail_error_that_names_only_the_domain() {
    let server = FakeSmtp::start(Behaviour::RejectRecipients).await;
    let mailer = SmtpMailer::new(settings(server.addr.port())).unwrap();

    let started = Instant::now();
    let error = mailer.send_login_code(&alice(), &code()).await.unwrap_err();

    assert!(started.elapsed() < DEADLINE);
    assert!(server.deliveries().is_empty());
    let text = error.to_string();
    assert!(text.contains("550"), "{text}");
    assert!(text.contains("@example.com"), "{text}");
    assert!(!text.contains("alice"), "{text}");
    assert!(!text.contains("493817"), "{text}");
}

#[tokio::test]
async fn a_closed_port_gives_a_mail_error_within_the_timeout() {
    let mailer = SmtpMailer::new(settings(closed_port().await)).unwrap();

    let started = Instant::now();
    let error = mailer.send_login_code(&alice(), &code()).await.unwrap_err();

    assert!(started.elapsed() < DEADLINE);
    assert!(!error.to_string().contains("alice"), "{error}");
}

#[tokio::test]
async fn a_server_that_never_answers_gives_a_mail_error_within_the_timeout() {
    let server = FakeSmtp::start(Behaviour::Silent).await;
    let mailer = SmtpMailer::new(settings(server.addr.port())).unwrap();

    let started = Instant::now();
    let error = mailer.send_login_code(&alice(), &code()).await.unwrap_err();

    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(TIMEOUT_SECS), "{elapsed:?}");
    assert!(elapsed < DEADLINE, "{elapsed:?}");
    assert!(error.to_string().contains("no answer"), "{error}");
}

#[test]
fn a_sender_that_is_not_a_mailbox_is_refused_at_construction() {
    let mut settings = settings(2525);
    settings.from = "Portal Auth".to_owned();

    let error = SmtpMailer::new(settings).unwrap_err();

    assert!(error.to_string().contains("`from`"), "{error}");
}

#[test]
fn credentials_over_plain_tcp_are_refused_at_construction() {
    let mut settings = settings(2525);
    settings.username = "portal".to_owned();
    settings.password = "hunter2".to_owned();

    let error = SmtpMailer::new(settings).unwrap_err();

    assert!(error.to_string().contains("plain TCP"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[test]
fn a_zero_timeout_is_refused_at_construction() {
    let mut settings = settings(2525);
    settings.timeout_secs = 0;

    assert!(SmtpMailer::new(settings).is_err());
}

#[test]
fn an_empty_host_is_refused_at_construction() {
    let mut settings = settings(2525);
    settings.host = String::new();

    assert!(SmtpMailer::new(settings).is_err());
}

#[test]
fn tls_settings_with_credentials_build_a_mailer() {
    for tls in [SmtpTls::StartTls, SmtpTls::Tls] {
        let mut settings = settings(587);
        settings.host = "mail.portal.example".to_owned();
        settings.tls = tls;
        settings.username = "portal".to_owned();
        settings.password = "hunter2".to_owned();

        assert!(SmtpMailer::new(settings).is_ok(), "{tls:?}");
    }
}

#[test]
fn debug_of_the_settings_hides_the_password() {
    let mut settings = settings(2525);
    settings.password = "hunter2".to_owned();

    let printed = format!("{settings:?}");

    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("127.0.0.1"), "{printed}");
}
