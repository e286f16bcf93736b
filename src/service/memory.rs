//! Giving memory back to the system after a large load. glibc's allocator keeps what a
//! load freed (decoded index shards, the copies made while parsing) in its arenas, so a
//! terminal that read 100,000 images' summaries would stay at twice its live size; after
//! such work the statistics task asks it to return the free pages.

/// Returns the allocator's free pages to the system (glibc only; elsewhere nothing).
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers from us; it only walks glibc's own arenas
    // (under their locks) and releases pages no allocation is using.
    unsafe {
        libc::malloc_trim(0);
    }
}
