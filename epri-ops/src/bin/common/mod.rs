//! What the benchmark binaries `ops-bench` and `recon-bench` share: the error type, the dataset
//! reader and the median timer.

use ndarray_npy::ReadNpyExt;
use std::time::Instant;

/// Any error, as a message for the user.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `datasets/<dataset>/<name>.npy`, relative to the workspace root.
pub fn npy<A: ReadNpyExt>(dataset: &str, name: &str) -> Res<A> {
    let path = format!("datasets/{dataset}/{name}.npy");
    let f = std::fs::File::open(&path)
        .map_err(|e| format!("{path}: {e} (run from the workspace root)"))?;
    Ok(A::read_npy(f).map_err(|e| format!("{path}: {e}"))?)
}

/// Median of `reps` timings of `f` after one warm-up call, in milliseconds.
pub fn median_ms(reps: usize, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    f()?;
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}
