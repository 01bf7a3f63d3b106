//! The server's allocator: mimalloc. Under load glibc's spent about a fifth of the server's CPU
//! in malloc and free (consolidating and trimming its heaps after every large free), and it
//! had to be told to give large blocks back to the system (each password hash takes a 19 MiB
//! block); mimalloc returns freed memory by itself and is faster on many small allocations
//! across threads (BENCHMARKS.md, "Write path").

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
