//! Authentication: password hashing, access tokens (JWT), refresh tokens, the bearer security
//! scheme, and the session flows (register, login, refresh, logout) built from them.

mod bearer;
mod jwt;
mod password;
mod refresh;
mod secret;
mod session;

pub use bearer::BearerAuth;
pub(crate) use bearer::VerifiedBearer;
pub use jwt::{
    ACCESS_TOKEN_TYPE, AUDIENCE, AccessClaims, AccessToken, AccessTokens, ISSUER, MIN_SECRET_BYTES,
    Subject, WeakSecret,
};
pub use password::{hash_password, prepare_dummy_hash};
pub use refresh::{generate_refresh_token, hash_refresh_token};
pub use secret::{SECRET_FILE, SecretError, load_or_generate_secret};
pub use session::{Credentials, Session, login, logout, refresh, register};
