//! Process-wide tuning of glibc's allocator for the server.

/// Blocks above 128 KiB go back to the system when freed. Each password hash (Argon2) takes a
/// 19 MiB block; after the first one is freed glibc would raise its mapping threshold and keep
/// such blocks inside its heaps, where fragmentation held ~470 MB after 200 registrations at
/// once (about 60 MB with this).
#[allow(unsafe_code)]
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, under the allocator's own lock.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
