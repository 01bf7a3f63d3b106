//! Password hashing: Argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane,
//! which are the argon2 crate's defaults), a fresh random salt per hash, PHC strings at rest.
//!
//! Requests hash through [`hash`] and [`check`], which run Argon2 on the blocking pool, as
//! many at once as there are cores: each run holds 19 MiB and a core for tens of
//! milliseconds, so a burst of sign-ins waits its turn instead of taking 19 MiB per request
//! at once. (The server binary also has glibc return such blocks when freed; see its
//! `allocator` module.)

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Turns to run Argon2: one per core.
static TURNS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// Runs `work` on the blocking pool once a turn is free.
async fn in_turn<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = TURNS
        .acquire()
        .await
        .map_err(|err| ApiError::Internal(format!("the password hashing turns are gone: {err}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| ApiError::Internal(format!("the password hashing task failed: {err}")))
}

/// Hashes a new password, in turn.
pub async fn hash(password: String) -> Result<String, ApiError> {
    in_turn(move || hash_password(&password))
        .await?
        .map_err(|err| ApiError::Internal(format!("cannot hash the password: {err}")))
}

/// Whether `password` matches `stored` (a PHC string), in turn. Without a stored hash (an
/// unknown account) it does the same work and answers false.
pub async fn check(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    in_turn(move || match stored {
        Some(hash) => verify_password(&password, &hash),
        None => verify_dummy_password(&password),
    })
    .await
}

/// A real hash of a password nobody has, made with the same parameters as every stored hash,
/// so that checking against it costs what checking a real account costs.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("taskpulse: no such account").unwrap_or_default());

/// Hashes a password into a PHC string. CPU-heavy (tens of milliseconds): requests use
/// [`hash`].
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the time a real verification takes, for a sign-in with an unknown email, so that
/// neither the answer nor its timing tells unknown emails from wrong passwords. Never matches.
pub fn verify_dummy_password(password: &str) -> bool {
    let _ = verify_password(password, &DUMMY_HASH);
    false
}

/// Makes the dummy hash now (tens of milliseconds), so that the first unknown-email sign-in
/// does not take longer than later ones.
pub fn prepare_dummy_hash() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() -> Result<(), argon2::password_hash::Error> {
        let hash = hash_password("correct horse battery staple")?;

        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        Ok(())
    }

    #[test]
    fn the_dummy_hash_is_a_real_hash_and_never_matches() {
        prepare_dummy_hash();

        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify_dummy_password("taskpulse: no such account"));
    }

    #[tokio::test]
    async fn turns_hash_and_check_like_the_plain_functions() -> Result<(), ApiError> {
        let stored = hash("pw-123456".to_owned()).await?;

        assert!(check("pw-123456".to_owned(), Some(stored.clone())).await?);
        assert!(!check("pw-1234567".to_owned(), Some(stored)).await?);
        assert!(!check("pw-123456".to_owned(), None).await?);
        Ok(())
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() -> Result<(), argon2::password_hash::Error>
    {
        assert_ne!(hash_password("pw-123456")?, hash_password("pw-123456")?);
        Ok(())
    }
}
