//! `epri`: see `epri --help`.

use clap::error::ErrorKind;
use clap::Parser;

/// glibc's allocator, set before the first allocation: large blocks (up to 32 MiB, glibc's
/// largest mmap threshold) come from the heap, and freed memory is kept there (trimmed only
/// beyond 1 GiB), so a buffer freed by one stage is reused by the next without the kernel
/// unmapping it, then faulting in and zeroing fresh pages again. Measured on `epri project`
/// of a 100³ image (bench/project100.py, 5 runs alternated with the same binary without it):
/// whole process 50–58 ms against 52–78 ms, CPU time 72–87 ms against 76–105 ms, page faults
/// 8 000 against 8 650 (BENCHMARKS.md). The cost: a process keeps its peak heap until it ends.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only changes allocator parameters; a refused value (return 0) leaves
    // glibc's default, which is correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() {
    tune_allocator();
    // A bug must still read as one line, not as a panic trace.
    std::panic::set_hook(Box::new(|info| {
        let msg = epri_demos::error::panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error ({}{at}); please report it",
            msg.replace('\n', " ")
        );
    }));
    let cli = match epri_demos::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // Help and version go to stdout as clap writes them.
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                eprintln!(
                    "error: {}",
                    epri_demos::cli::one_line_usage_error(&e, std::env::args().nth(1).as_deref())
                );
                std::process::exit(2);
            }
        },
    };
    // The command runs on a worker of rayon's pool (RAYON_NUM_THREADS threads, default: one per
    // core): the CPU backend's parallel loops then start from inside the pool instead of
    // handing every call to it from a foreign thread and sleeping until it is done.
    let result = match rayon::ThreadPoolBuilder::new().build() {
        Ok(pool) => pool.install(|| epri_demos::commands::run(cli)),
        Err(_) => epri_demos::commands::run(cli),
    };
    if let Err(e) = result {
        eprintln!("error: {}", e.one_line());
        std::process::exit(e.exit_code());
    }
}
