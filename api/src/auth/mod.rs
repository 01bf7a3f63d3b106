//! Authentication: password hashing (and, with the REST API, tokens).

mod password;

pub use password::{hash_password, verify_password};
