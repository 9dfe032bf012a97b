//! `RecordingMailer`, the fake that application tests hold.

#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use portal_auth_adapters_mail::RecordingMailer;
use portal_auth_domain::{Email, Secret};
use portal_auth_ports::Mailer;

fn send(mailer: &RecordingMailer, to: &str, code: &str) -> Result<(), String> {
    let to = Email::parse(to).unwrap();
    let code = Secret::new(code.to_owned());
    let sending = mailer.send_login_code(&to, &code);
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(sending)
        .map_err(|e| e.to_string())
}

#[test]
fn sent_codes_are_kept_in_order_with_their_normalised_address() {
    let mailer = RecordingMailer::new();

    send(&mailer, " Alice@Example.com", "111111").unwrap();
    send(&mailer, "bob@example.org", "222222").unwrap();

    assert_eq!(
        mailer.sent(),
        [
            ("alice@example.com".to_owned(), "111111".to_owned()),
            ("bob@example.org".to_owned(), "222222".to_owned()),
        ]
    );
}

#[test]
fn fail_next_fails_one_send_and_records_nothing_for_it() {
    let mailer = RecordingMailer::new();
    mailer.fail_next(true);

    assert!(send(&mailer, "alice@example.com", "111111").is_err());
    send(&mailer, "alice@example.com", "222222").unwrap();

    assert_eq!(
        mailer.sent(),
        [("alice@example.com".to_owned(), "222222".to_owned())]
    );
}

#[test]
fn fail_next_can_be_called_off_before_the_send() {
    let mailer = RecordingMailer::new();
    mailer.fail_next(true);
    mailer.fail_next(false);

    send(&mailer, "alice@example.com", "111111").unwrap();

    assert_eq!(mailer.sent().len(), 1);
}
