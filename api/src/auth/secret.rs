//! Where the HS256 secret comes from: the configuration, or else a file in the data directory
//! that is generated once (32 random bytes, mode 0600) and reused on every later start, so
//! that a restart does not sign everyone out.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::jwt::MIN_SECRET_BYTES;

/// The file, inside the data directory, that holds a generated secret (base64url text).
pub const SECRET_FILE: &str = "jwt-secret";

/// Why no secret could be had. The messages never include the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The configured secret is too short.
    #[error(
        "--jwt-secret / TASKPULSE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long (it has {0})"
    )]
    TooShort(usize),
    /// The secret file exists but does not hold a usable secret.
    #[error(
        "{} does not hold a base64url secret of at least {MIN_SECRET_BYTES} bytes; \
         delete it to have a new one generated (this signs everyone out)",
        .0.display()
    )]
    Corrupt(PathBuf),
    /// The secret file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

/// The secret to sign access tokens with: `configured` when given, else the one kept in
/// `data_dir` (generated now when there is none yet).
pub fn load_or_generate_secret(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<Vec<u8>, SecretError> {
    if let Some(secret) = configured {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort(secret.len()));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    match read_secret(&path) {
        Err(SecretError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }
    let mut secret = vec![0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    match write_new_secret(&path, &secret) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new JWT secret");
            Ok(secret)
        }
        // Another process started in the same directory and wrote one first: use that one.
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => read_secret(&path),
        Err(source) => Err(SecretError::Io { path, source }),
    }
}

fn read_secret(path: &Path) -> Result<Vec<u8>, SecretError> {
    let text = fs::read_to_string(path).map_err(|source| SecretError::Io {
        path: path.to_owned(),
        source,
    })?;
    match URL_SAFE_NO_PAD.decode(text.trim()) {
        Ok(secret) if secret.len() >= MIN_SECRET_BYTES => Ok(secret),
        _ => Err(SecretError::Corrupt(path.to_owned())),
    }
}

/// Creates the file (never overwriting one) readable by its owner only.
fn write_new_secret(path: &Path, secret: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let written = file
        .write_all(format!("{}\n", URL_SAFE_NO_PAD.encode(secret)).as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        // A half-written file would stop every later start; leave none behind.
        let _ = fs::remove_file(path);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> anyhow::Result<PathBuf> {
        let dir = std::env::temp_dir().join(format!("taskpulse-secret-{}", uuid::Uuid::now_v7()));
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    #[test]
    fn a_generated_secret_is_kept_private_and_reused() -> anyhow::Result<()> {
        let dir = temp_dir()?;

        let first = load_or_generate_secret(None, &dir)?;
        let second = load_or_generate_secret(None, &dir)?;

        assert_eq!(first.len(), MIN_SECRET_BYTES);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(SECRET_FILE))?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_configured_secret_wins_and_must_be_long_enough() -> anyhow::Result<()> {
        let dir = temp_dir()?;
        let long = "x".repeat(MIN_SECRET_BYTES);

        assert_eq!(load_or_generate_secret(Some(&long), &dir)?, long.as_bytes());
        assert!(matches!(
            load_or_generate_secret(Some("short"), &dir),
            Err(SecretError::TooShort(5))
        ));
        assert!(!dir.join(SECRET_FILE).exists());
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_corrupt_secret_file_is_an_error_not_a_new_secret() -> anyhow::Result<()> {
        let dir = temp_dir()?;
        fs::write(dir.join(SECRET_FILE), "too-short")?;

        let outcome = load_or_generate_secret(None, &dir);

        assert!(matches!(outcome, Err(SecretError::Corrupt(_))));
        fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
