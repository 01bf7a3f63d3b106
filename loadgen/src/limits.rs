//! Thousands of sockets need more than the usual 1024 descriptors.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft open-file limit towards `wanted` (never above the hard limit).
pub fn raise_open_file_limit(wanted: u64) {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft >= wanted {
        return;
    }
    let target = wanted.min(hard);
    if let Err(err) = setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
        eprintln!("loadgen: cannot raise the open-file limit to {target}: {err}");
    }
}
