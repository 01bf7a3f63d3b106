//! The server's allocator: mimalloc. Under load glibc's spent about a fifth of the server's CPU
//! in malloc and free (consolidating and trimming its heaps after every large free), and it
//! had to be told to give large blocks back to the system (each password hash takes a 19 MiB
//! block); mimalloc returns freed memory by itself and is faster on many small allocations
//! across threads (BENCHMARKS.md, "Write path"). It is built to commit its arenas as they are
//! used (`.cargo/config.toml`), and idle workers hand back what they freed (below).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How often a worker thread that goes idle hands its freed memory back.
const COLLECT_EVERY: Duration = Duration::from_millis(100);

thread_local! {
    static LAST_COLLECT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Run when a runtime worker parks: after a flood of connections ends, the memory they freed
/// sits in that thread's heap until the thread next allocates, which an idle worker may not do
/// for a long time. Collecting on park returns it; at most every 100 ms per thread, since a
/// busy worker parks thousands of times a second, and a longer pause would let a worker that
/// parks for good right after a burst keep what it freed.
pub fn collect_on_park() {
    let now = Instant::now();
    let due = LAST_COLLECT.with(|last| {
        let due = last
            .get()
            .is_none_or(|at| now.duration_since(at) >= COLLECT_EVERY);
        if due {
            last.set(Some(now));
        }
        due
    });
    if due {
        // SAFETY: mi_collect has no preconditions; it only walks this thread's own heap.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_collect(true);
        }
    }
}
