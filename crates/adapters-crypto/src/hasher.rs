//! Argon2id password hashing on a bounded blocking pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
};
use async_trait::async_trait;
use portal_auth_domain::Password;
use portal_auth_ports::{CryptoError, PasswordHasher, Verification};
use tokio::sync::Semaphore;

/// Argon2id cost parameters. The defaults are OWASP's first choice:
/// 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// How many hashes may run at once; each holds `memory_kib` of memory.
    pub max_concurrent: usize,
    /// How many may wait for a slot; past that a check is refused as
    /// [`CryptoError::Overloaded`] (503 to the client) instead of queueing
    /// without bound while every waiting request times out.
    pub max_waiting: usize,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 2,
            max_waiting: 64,
        }
    }
}

/// Hashes and verifies passwords with argon2id.
pub struct Argon2Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    /// A hash of a random password with the current parameters, checked for
    /// unknown users so that they cost as much as known ones.
    dummy: String,
}

impl Argon2Hasher {
    /// Checks the parameters and makes the dummy hash.
    ///
    /// # Errors
    ///
    /// [`CryptoError`] when argon2 rejects the parameters.
    pub fn new(settings: Argon2Settings) -> Result<Self, CryptoError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| CryptoError::Failed(format!("argon2 parameters: {e}")))?;
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        let dummy = hash_with(&params, &random)?;
        let permits = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
        Ok(Self {
            params,
            permits,
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: settings.max_waiting,
            dummy,
        })
    }

    /// Runs a closure on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CryptoError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _queued = Waiting::join(&self.waiting, self.max_waiting)?;
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| CryptoError::Failed("the hashing pool is closed".into()))?
            }
        };
        let _permit = permit;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| CryptoError::Failed(format!("hashing task failed: {e}")))
    }
}

/// A place in the queue for a hashing slot, given back when dropped (also
/// when the waiting request is cancelled).
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn join(counter: &Arc<AtomicUsize>, max: usize) -> Result<Self, CryptoError> {
        let ahead = counter.fetch_add(1, Ordering::SeqCst);
        let place = Self(counter.clone());
        if ahead >= max {
            return Err(CryptoError::Overloaded);
        }
        Ok(place)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, CryptoError> {
    argon2(params)
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| CryptoError::Failed(format!("argon2 hashing: {e}")))
}

/// Whether a parsed hash was made with exactly the current algorithm,
/// version and parameters.
fn is_current(hash: &PasswordHash, params: &Params) -> bool {
    let algorithm_ok = hash.algorithm.as_str() == "argon2id";
    let version_ok = hash.version == Some(Version::V0x13 as u32);
    let params_ok = Params::try_from(hash).is_ok_and(|stored| {
        stored.m_cost() == params.m_cost()
            && stored.t_cost() == params.t_cost()
            && stored.p_cost() == params.p_cost()
    });
    algorithm_ok && version_ok && params_ok
}

fn verify_blocking(params: &Params, password: &[u8], stored: &str, real: bool) -> Verification {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    // Verification uses the parameters inside the stored hash.
    let matched = argon2(params).verify_password(password, &hash).is_ok();
    if matched && real {
        Verification::Match {
            needs_rehash: !is_current(&hash, params),
        }
    } else {
        Verification::Mismatch
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, CryptoError> {
        let params = self.params.clone();
        let bytes = password.expose().as_bytes().to_vec();
        self.run(move || hash_with(&params, &bytes)).await?
    }

    async fn verify(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> Result<Verification, CryptoError> {
        let params = self.params.clone();
        let bytes = password.expose().as_bytes().to_vec();
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.clone());
        self.run(move || verify_blocking(&params, &bytes, &stored, real))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Settings {
        Argon2Settings {
            max_waiting: 64,
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
        }
    }

    fn password(text: &str) -> Password {
        Password::presented(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> Result<(), CryptoError> {
        let hasher = Argon2Hasher::new(cheap())?;
        let hash = hasher.hash(&password("correct horse")).await?;
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let right = hasher
            .verify(&password("correct horse"), Some(hash.clone()))
            .await?;
        assert_eq!(
            right,
            Verification::Match {
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify(&password("correct horsE"), Some(hash))
            .await?;
        assert_eq!(wrong, Verification::Mismatch);
        Ok(())
    }

    #[tokio::test]
    async fn a_hash_with_older_parameters_asks_for_a_rehash() -> Result<(), CryptoError> {
        let old = Argon2Hasher::new(cheap())?.hash(&password("pw")).await?;
        let current = Argon2Hasher::new(Argon2Settings {
            memory_kib: 128,
            ..cheap()
        })?;
        let verdict = current.verify(&password("pw"), Some(old)).await?;
        assert_eq!(verdict, Verification::Match { needs_rehash: true });
        Ok(())
    }

    #[tokio::test]
    async fn unknown_users_and_garbage_hashes_never_match() -> Result<(), CryptoError> {
        let hasher = Argon2Hasher::new(cheap())?;
        assert_eq!(
            hasher.verify(&password(""), None).await?,
            Verification::Mismatch
        );
        let garbage = Some("not a phc string".to_owned());
        assert_eq!(
            hasher.verify(&password("x"), garbage).await?,
            Verification::Mismatch
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_past_the_queue_limit_are_shed() -> Result<(), CryptoError> {
        let slow = Argon2Settings {
            memory_kib: 8192,
            iterations: 4,
            max_concurrent: 1,
            max_waiting: 2,
            ..cheap()
        };
        let hasher = Arc::new(Argon2Hasher::new(slow)?);
        let checks = (0..12).map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.verify(&password("pw"), None).await })
        });
        let outcomes = futures_outcomes(checks.collect()).await;
        let shed = outcomes
            .iter()
            .filter(|o| matches!(o, Err(CryptoError::Overloaded)))
            .count();
        let done = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(Verification::Mismatch)))
            .count();
        assert!(shed >= 1, "nothing was shed");
        assert!(done >= 3, "too little was done: {done}");
        assert_eq!(shed + done, 12);
        Ok(())
    }

    async fn futures_outcomes(
        tasks: Vec<tokio::task::JoinHandle<Result<Verification, CryptoError>>>,
    ) -> Vec<Result<Verification, CryptoError>> {
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap_or_else(|e| panic!("{e}")));
        }
        outcomes
    }

    #[test]
    fn parameters_argon2_rejects_are_an_error() {
        let zero = Argon2Settings {
            iterations: 0,
            ..cheap()
        };
        assert!(Argon2Hasher::new(zero).is_err());
    }
}
