//! A stateful fake mailer for application tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use portal_auth_domain::{Email, Secret};
use portal_auth_ports::{MailError, Mailer};

/// Keeps the login codes it is asked to send instead of sending them.
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<(Email, String)>>,
    fail_next: AtomicBool,
}

impl RecordingMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `(address, code)` pairs sent so far, oldest first.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(to, code)| (to.as_str().to_owned(), code.clone()))
            .collect()
    }

    /// When `fail` is set, the next send returns [`MailError`] and records
    /// nothing; the send after it succeeds again.
    pub fn fail_next(&self, fail: bool) {
        self.fail_next.store(fail, Ordering::SeqCst);
    }

    /// A test that panicked while holding the lock leaves the list as it
    /// was, so a poisoned lock is still read.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Email, String)>> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send_login_code(&self, to: &Email, code: &Secret<String>) -> Result<(), MailError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(MailError("recording mailer told to fail".to_owned()));
        }

        self.lock().push((to.clone(), code.expose().clone()));
        Ok(())
    }
}
