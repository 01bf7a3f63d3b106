//! Authentication: password hashing, access tokens (JWT), refresh tokens, the bearer security
//! scheme, the session flows (register, login, refresh, logout) built from them, and an
//! external identity provider whose tokens are accepted beside ours, and personal access tokens
//! with their scopes.

mod bearer;
mod jwt;
mod password;
mod personal;
mod provider;
mod refresh;
mod scope;
mod secret;
mod session;
mod verify;

pub use bearer::BearerAuth;
pub(crate) use bearer::{Caller, VerifiedBearer, caller};
pub use jwt::{
    ACCESS_TOKEN_TYPE, AUDIENCE, AccessClaims, AccessToken, AccessTokens, ISSUER, MIN_SECRET_BYTES,
    Subject, WeakSecret,
};
pub use password::{hash_password, prepare_dummy_hash};
pub use personal::{
    NewPersonalSecret, PERSONAL_TOKEN_PREFIX, generate_personal_token, personal_token_digest,
};
pub use provider::{IdentityProvider, ProviderSettings, SettingsError};
pub use refresh::{generate_refresh_token, hash_refresh_token};
pub(crate) use scope::check_write;
pub use secret::{SECRET_FILE, SecretError, load_or_generate_secret};
pub use session::{Credentials, Session, login, logout, refresh, register};
pub use verify::{VerifiedToken, verify, verify_token};
