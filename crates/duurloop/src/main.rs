//! The `duurloop` binary: parses the command line and hands over to the library.

// mimalloc instead of glibc malloc: rows are allocated on SQLite's worker threads and freed on
// the runtime's, and glibc's per-thread arenas took locks for those frees; allocation was a
// tenth of a participant request's time in a profile (about 15% more requests per second).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    duurloop::cli::main()
}
