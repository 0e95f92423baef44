//! `epri info`: what a dataset holds, in the terms of an EPR imaging experiment.

use super::tv::CORRELATED_LAG1;
use crate::cli::InfoArgs;
use crate::datasets::{dataset_names, datasets_root};
use crate::error::Result;
use crate::io::array::{dtype_name, fmt_shape};
use crate::io::{Acquisition, HostArray};
use epri_ops::noise::estimate_noise;

fn describe(a: &HostArray) -> String {
    format!("{} {}", fmt_shape(a.shape()), dtype_name(a.precision()))
}

/// Prints the summary of the dataset, or the list of embedded datasets without arguments.
pub fn run(args: &InfoArgs) -> Result<()> {
    let s = &args.sources;
    if s.data.is_none() && s.proj.is_none() && s.h.is_none() && s.b.is_none() && s.fgrad.is_none() {
        let root = datasets_root();
        let root = root.canonicalize().unwrap_or(root);
        println!("Embedded datasets (in {}):", root.display());
        for name in dataset_names() {
            println!("  {name}");
        }
        println!("\nDescribe one with: epri info --data <NAME>");
        return Ok(());
    }
    let acq = Acquisition::load(s, false, false)?;
    println!("{}", summary(&acq).join("\n"));
    Ok(())
}

/// The lines printed by `epri info`.
pub fn summary(acq: &Acquisition) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = |k: &str, v: String| out.push(format!("{k:<13} {v}"));
    match &acq.dir {
        Some(d) => {
            let d = d.canonicalize().unwrap_or_else(|_| d.clone());
            line("dataset", format!("{} ({})", acq.label, d.display()))
        }
        None => line("dataset", acq.label.clone()),
    }
    let multi = acq.h.is_none() && !acq.spectra.is_empty();
    line(
        "dimension",
        format!(
            "{} ({})",
            super::dim_name(acq.dim()),
            if multi {
                "multi-source"
            } else {
                "single source"
            }
        ),
    );
    let b = acq.b.to_f64();
    let (nb, db) = (acq.nb(), acq.db());
    line(
        "field grid",
        format!(
            "Nb = {nb} samples, B = {:.3} .. {:.3} G, dB = {:.5} G",
            b[0],
            b[nb - 1],
            db
        ),
    );
    line("sweep width", format!("{:.3} G", acq.sweep_width()));
    match &acq.proj {
        Some(p) => line(
            "projections",
            format!("P = {}, proj {}", acq.nproj(), describe(p)),
        ),
        None => line(
            "projections",
            format!("P = {} (from fgrad; no proj file)", acq.nproj()),
        ),
    }
    if let Some(p) = &acq.proj {
        line("noise", noise_line(p));
    }
    let (gmin, gmax) = acq.fgrad_range();
    line(
        "gradients",
        format!(
            "|fgrad| = {gmin:.3} .. {gmax:.3} G/cm, fgrad {}",
            describe(&acq.fgrad)
        ),
    );
    if let Some(h) = &acq.h {
        line("spectrum", format!("h {}", describe(h)));
    }
    for (name, h) in &acq.spectra {
        line("spectrum", format!("{name} {}", describe(h)));
    }
    if gmax > 0.0 {
        line(
            "field of view",
            format!(
                "{:.3} cm: an object wider than sweep width / max|fgrad| aliases in B",
                acq.sweep_width() / gmax
            ),
        );
        line(
            "finest pixel",
            format!(
                "{:.5} cm = dB / max|fgrad|: smaller pixels use no more of the spectrum",
                db / gmax
            ),
        );
    }
    out
}

/// The noise level of the projections (for `--lambda auto`), or why it cannot be estimated.
fn noise_line(proj: &HostArray) -> String {
    let p = proj.to_f64();
    let Ok(p) = p.view().into_dimensionality::<ndarray::Ix2>() else {
        return "not estimated (the projections are not a 2D array)".into();
    };
    match estimate_noise(p) {
        Err(e) => format!("not estimated: {e}"),
        Ok(e) => {
            let peak = p.iter().fold(0f64, |m, x| m.max(x.abs()));
            let mut s = format!(
                "σ = {:.4e} ± {:.1e} per sample (third differences along B{}), peak SNR {:.0}",
                e.corrected_sigma,
                e.stderr,
                if e.correlation_measured {
                    ", corrected for correlation"
                } else {
                    ""
                },
                peak / e.sigma
            );
            if e.correlation[0] > CORRELATED_LAG1 {
                s.push_str(&format!(
                    "; the noise is correlated along B (autocorrelation {:.2} at lag 1, {:.2} at lag 2), σ is corrected for it (white-noise estimate {:.4e})",
                    e.correlation[0], e.correlation[1], e.sigma
                ));
            }
            s
        }
    }
}
