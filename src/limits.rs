//! Process limits: thousands of sockets need more than the usual 1024 descriptors.
//!
//! The load generator compiles this same file into itself (`loadgen/src/main.rs`), so it uses
//! nothing but `nix` and leaves logging to its callers.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors the server holds besides connections: the log, files, the runtime's own.
const OWN_DESCRIPTORS: u64 = 128;

/// How many client connections fit under the open-file limit with room to spare, so that
/// accepting one never fails for want of a descriptor: `outgoing` is the most connections the
/// server opens itself (database, webhooks, mail).
pub fn connection_capacity(outgoing: u64) -> usize {
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    let reserved = outgoing.saturating_add(OWN_DESCRIPTORS);
    usize::try_from(soft.saturating_sub(reserved).max(64)).unwrap_or(usize::MAX)
}

/// Raises the soft open-file limit towards `wanted`, never above the hard limit (which only a
/// privileged process may raise); an error when the limits cannot be read or set.
pub fn raise_open_file_limit(wanted: u64) -> nix::Result<()> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= wanted {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_NOFILE, wanted.min(hard), hard)
}
