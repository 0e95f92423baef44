//! `epri selftest` end to end: the conformance table and the timings pass on the CPU and, with
//! `--features opencl`, on the OpenCL device (PoCL in CI; skipped with a printed reason when
//! there is none, unless `EPRI_REQUIRE_OPENCL=1`); a backend that cannot be opened is one
//! `error:` line.

use std::process::{Command, Output};

fn selftest(backend: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_epri"))
        .args(["selftest", "--backend", backend])
        .output()
        .expect("the epri binary runs")
}

/// Asserts that the run passed: exit 0, one `ok` row per check and timing, no failure, the
/// summary line alone on its line.
fn assert_passes(o: &Output) {
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(!out.contains("FAILED"), "{out}");
    for row in [
        "memory::upload_download_roundtrip",
        "nufft::matches_direct_3d",
        "errors::invalid_arguments",
        "timing::tv_iteration (2D",
        "timing::projection (3D",
    ] {
        let line = out.lines().find(|l| l.starts_with(row));
        assert!(
            line.is_some_and(|l| l.contains(" ok ")),
            "no ok row {row} in\n{out}"
        );
    }
    let summary = out
        .lines()
        .find(|l| l.ends_with(" failed"))
        .expect("a summary line");
    let passed: usize = summary
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary {summary:?}"));
    let rows = out.lines().filter(|l| l.contains(" ok ")).count();
    assert_eq!(passed, rows, "{out}");
    assert!(passed >= 49, "{out}");
}

#[test]
fn passes_on_the_cpu() {
    assert_passes(&selftest("cpu"));
}

#[cfg(feature = "opencl")]
#[test]
fn passes_on_opencl() {
    let o = selftest("opencl");
    let out = String::from_utf8_lossy(&o.stdout);
    if !o.status.success() && !out.contains("epri selftest on") {
        let err = String::from_utf8_lossy(&o.stderr);
        if std::env::var("EPRI_REQUIRE_OPENCL").is_ok_and(|v| v == "1") {
            panic!("OpenCL required (EPRI_REQUIRE_OPENCL=1) but unavailable: {err}");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipped: no OpenCL device: {err}");
        return;
    }
    assert_passes(&o);
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_backend_that_cannot_open_is_one_error_line() {
    let o = selftest("cuda");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("--features cuda"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(o.stdout.is_empty());
}
