//! An EPR imaging acquisition on the host: projections, field grid, reference spectrum,
//! field gradients, read from a dataset folder and/or single files, and checked.

use super::array::{fmt_shape, HostArray};
use super::bes3t::{self, Bes3t};
use super::read_array;
use crate::datasets::resolve_data_dir;
use crate::error::{Error, Result};
use backend_core::{Precision, Real};
use ndarray::{Array1, Array2, Ix1, Ix2};
use std::path::{Path, PathBuf};

/// Where the input arrays come from: a dataset folder, single files, or both (a file given
/// explicitly replaces the folder's).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Sources {
    /// Dataset folder holding proj.npy, B.npy, h.npy, fgrad.npy, or the name of an embedded
    /// dataset (e.g. phalanx-20220203; `epri info` without arguments lists them)
    #[arg(long, value_name = "DIR")]
    pub data: Option<String>,
    /// Projections (P, Nb): .npy, or a Bruker BES3T .DSC/.DTA (which also gives B and fgrad)
    #[arg(long, value_name = "FILE")]
    pub proj: Option<PathBuf>,
    /// Homogeneous field grid B (Nb,) in G, regularly spaced: .npy
    #[arg(long = "B", value_name = "FILE")]
    pub b: Option<PathBuf>,
    /// Reference spectrum h (Nb,) sampled on B: .npy or BES3T .DSC/.DTA
    #[arg(long = "h", value_name = "FILE")]
    pub h: Option<PathBuf>,
    /// Field gradients (d, P) in G/cm, d = 2 (x, y) or 3 (x, y, z): .npy
    #[arg(long, value_name = "FILE")]
    pub fgrad: Option<PathBuf>,
}

/// The arrays of an acquisition, as read (each in its file's precision), shapes checked.
#[derive(Clone, Debug)]
pub struct Acquisition {
    /// A short name for titles: the dataset folder name or the projection file's stem.
    pub label: String,
    /// Projections `(P, Nb)`, one per row (absent when a command does not need them).
    pub proj: Option<HostArray>,
    /// Field grid `(Nb,)`, G.
    pub b: HostArray,
    /// Reference spectrum `(Nb,)`; absent in multi-source folders (see `spectra`).
    pub h: Option<HostArray>,
    /// Field gradients `(d, P)`, G/cm.
    pub fgrad: HostArray,
    /// Other spectra of the folder (`htam.npy`, `htempo.npy`, `hmixt.npy`...), by name.
    pub spectra: Vec<(String, HostArray)>,
    /// The folder, when `--data` was given.
    pub dir: Option<PathBuf>,
    /// Every file read (with the companion of a BES3T file), so that no output replaces one.
    pub files: Vec<PathBuf>,
    /// The files holding the values of `proj` and `h` (the `.DTA` of a BES3T file), for
    /// messages about their values.
    pub data_files: Vec<(&'static str, PathBuf)>,
}

/// The arrays converted to one precision `T`, C order.
#[derive(Clone, Debug)]
pub struct HostData<T> {
    /// Projections `(P, Nb)`.
    pub proj: Option<Array2<T>>,
    /// Field grid `(Nb,)`.
    pub b: Array1<T>,
    /// Reference spectrum `(Nb,)`.
    pub h: Array1<T>,
    /// Field gradients `(d, P)`.
    pub fgrad: Array2<T>,
}

fn as1<T: Real>(a: &HostArray) -> Array1<T> {
    a.to_real::<T>()
        .into_dimensionality::<Ix1>()
        .expect("checked 1-D")
}

fn as2<T: Real>(a: &HostArray) -> Array2<T> {
    a.to_real::<T>()
        .into_dimensionality::<Ix2>()
        .expect("checked 2-D")
}

/// Reads the file arguments, remembering every file read; BES3T files are parsed once.
struct Loader {
    bes3t: Vec<Bes3t>,
    files: Vec<PathBuf>,
}

impl Loader {
    fn read(&mut self, path: &Path) -> Result<HostArray> {
        self.files.extend(input_files(path));
        if bes3t::is_bes3t(path) {
            let b = bes3t::read_bes3t(path)?;
            let data = b.data_array();
            self.bes3t.push(b);
            Ok(data)
        } else {
            read_array(path)
        }
    }
}

/// The file holding the values of a file argument: the `.DTA` companion of a BES3T file, else
/// the file itself.
fn data_file(path: &Path) -> PathBuf {
    input_files(path)
        .into_iter()
        .rev()
        .find(|p| super::has_extension(p, "dta"))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The files behind a file argument: the file itself, and for a BES3T file both its `.DSC`
/// and `.DTA` companions, whatever the case of their extensions.
pub fn input_files(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    if bes3t::is_bes3t(path) {
        for ext in ["DSC", "DTA", "dsc", "dta", "Dsc", "Dta"] {
            let p = path.with_extension(ext);
            if p.exists() {
                files.push(p);
            }
        }
    }
    files
}

impl Acquisition {
    /// Reads and checks the arrays. `need_proj`: whether the command needs projections;
    /// `need_h`: whether it needs the (single) reference spectrum.
    pub fn load(src: &Sources, need_proj: bool, need_h: bool) -> Result<Self> {
        let dir = src.data.as_deref().map(resolve_data_dir).transpose()?;
        let in_dir = |name: &str| dir.as_ref().map(|d| d.join(name));
        let mut loader = Loader {
            bes3t: Vec::new(),
            files: Vec::new(),
        };

        let proj_path = src.proj.clone().or_else(|| in_dir("proj.npy"));
        let proj = match (&proj_path, need_proj) {
            (Some(p), true) => Some(loader.read(p)?),
            (Some(p), false) if src.proj.is_some() || p.exists() => Some(loader.read(p)?),
            (None, true) => {
                return Err(Error::usage(
                    "no projections: give --data DIR (or a dataset name) or --proj FILE",
                ))
            }
            _ => None,
        };

        let mut spectra = Vec::new();
        let h_path = src.h.clone().or_else(|| in_dir("h.npy"));
        let h = match &h_path {
            Some(p) if src.h.is_some() || p.exists() => Some(loader.read(p)?),
            _ => None,
        };
        if let Some(d) = &dir {
            for name in ["htam", "htempo", "hmixt"] {
                let p = d.join(format!("{name}.npy"));
                if p.exists() {
                    spectra.push((name.to_string(), loader.read(&p)?));
                }
            }
        }
        if h.is_none() && need_h {
            let msg = if spectra.is_empty() {
                "no reference spectrum: give --h FILE (or --data DIR with an h.npy)".to_string()
            } else {
                let names: Vec<String> = spectra.iter().map(|(n, _)| format!("{n}.npy")).collect();
                format!(
                    "this is a multi-source dataset ({}, no h.npy): this command reconstructs one source; pick its spectrum with --h {}/{}",
                    names.join(", "),
                    dir.as_ref()
                        .map(|d| d.canonicalize().unwrap_or_else(|_| d.clone()))
                        .expect("spectra come from a folder")
                        .display(),
                    names[0]
                )
            };
            return Err(Error::usage(msg));
        }

        let from_bes3t_b = loader
            .bes3t
            .first()
            .map(|b| HostArray::F64(b.b.clone().into_dyn()));
        let b = match src.b.clone().or_else(|| in_dir("B.npy")) {
            Some(p) => loader.read(&p)?,
            None => from_bes3t_b.ok_or_else(|| {
                Error::usage(
                    "no field grid: give --B FILE (or --data DIR with a B.npy, or a BES3T --proj)",
                )
            })?,
        };
        let from_bes3t_g = loader
            .bes3t
            .iter()
            .find_map(|b| b.fgrad.clone())
            .map(|g| HostArray::F64(g.into_dyn()));
        let fgrad = match src.fgrad.clone().or_else(|| in_dir("fgrad.npy")) {
            Some(p) => loader.read(&p)?,
            None => from_bes3t_g.ok_or_else(|| {
                Error::usage("no field gradients: give --fgrad FILE (or --data DIR with an fgrad.npy, or a BES3T --proj with a gradient table)")
            })?,
        };

        let label = match (&dir, &proj_path) {
            (Some(d), _) => d.file_name().map(|n| n.to_string_lossy().into_owned()),
            (None, Some(p)) => p.file_stem().map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        }
        .unwrap_or_else(|| "epri".into());
        let data_files = [
            ("proj", proj.as_ref().and(proj_path.as_ref())),
            ("h", h.as_ref().and(h_path.as_ref())),
        ]
        .into_iter()
        .filter_map(|(name, p)| Some((name, data_file(p?))))
        .collect();
        let acq = Acquisition {
            label,
            proj,
            b,
            h,
            fgrad,
            spectra,
            dir,
            files: loader.files,
            data_files,
        };
        acq.check()?;
        Ok(acq)
    }

    /// Checks shapes, finiteness and the regularity of B.
    fn check(&self) -> Result<()> {
        let b = self.b.shape();
        if b.len() != 1 || b[0] < 2 {
            return Err(Error::data(format!(
                "B must be a 1-D array of at least 2 field values, got shape {}",
                fmt_shape(b)
            )));
        }
        let nb = b[0];
        let g = self.fgrad.shape();
        if g.len() != 2 || !(g[0] == 2 || g[0] == 3) {
            let hint = if g.len() == 2 && (g[1] == 2 || g[1] == 3) {
                " (it looks transposed: store it as (d, P), one gradient per column)"
            } else {
                ""
            };
            return Err(Error::data(format!(
                "fgrad must have shape (2, P) or (3, P) (G/cm, one gradient per column), got {}{hint}",
                fmt_shape(g)
            )));
        }
        let p = g[1];
        if p == 0 {
            return Err(Error::data(
                "fgrad has no column: the acquisition holds no projection",
            ));
        }
        let mut spectra: Vec<(&str, &HostArray)> =
            self.spectra.iter().map(|(n, a)| (n.as_str(), a)).collect();
        if let Some(h) = &self.h {
            spectra.push(("h", h));
        }
        for (name, h) in &spectra {
            if h.shape() != [nb] {
                return Err(Error::data(format!(
                    "{name} has shape {} but B has {nb} samples: the spectrum must be sampled on B",
                    fmt_shape(h.shape())
                )));
            }
        }
        if let Some(proj) = &self.proj {
            if proj.shape() != [p, nb] {
                return Err(Error::data(format!(
                    "proj has shape {}, expected (P, Nb) = ({p}, {nb}) from fgrad {} and B ({nb},)",
                    fmt_shape(proj.shape()),
                    fmt_shape(g)
                )));
            }
        }
        let mut arrays: Vec<(&str, &HostArray)> = vec![("B", &self.b), ("fgrad", &self.fgrad)];
        arrays.extend(spectra);
        if let Some(proj) = &self.proj {
            arrays.push(("proj", proj));
        }
        for (name, a) in arrays {
            if !a.all_finite() {
                return Err(Error::data(format!("{name} holds NaN or infinite values")));
            }
        }
        let bv = self.b.to_f64();
        let db = self.db();
        if db <= 0.0 {
            return Err(Error::data(format!(
                "B must be increasing (B[1] - B[0] = {db} G)"
            )));
        }
        let worst = bv
            .iter()
            .zip(bv.iter().skip(1))
            .map(|(a, b)| ((b - a) - db).abs())
            .fold(0.0, f64::max);
        // f32 storage of B ~ 3000 G rounds each value by ~1e-4 G.
        let tol = 1e-2 * db + 4.0 * f32::EPSILON as f64 * bv[nb - 1].abs();
        if worst > tol {
            return Err(Error::data(format!(
                "B is not regularly spaced (steps differ from B[1] - B[0] = {db} G by up to {worst} G)"
            )));
        }
        Ok(())
    }

    /// Image dimension, 2 or 3.
    pub fn dim(&self) -> usize {
        self.fgrad.shape()[0]
    }

    /// Number of projections P.
    pub fn nproj(&self) -> usize {
        self.fgrad.shape()[1]
    }

    /// Number of field samples Nb.
    pub fn nb(&self) -> usize {
        self.b.shape()[0]
    }

    /// Field step `B[1] - B[0]`, G.
    pub fn db(&self) -> f64 {
        let b = self.b.to_f64();
        b[1] - b[0]
    }

    /// Sweep width `B[Nb-1] - B[0]`, G.
    pub fn sweep_width(&self) -> f64 {
        let b = self.b.to_f64();
        b[b.len() - 1] - b[0]
    }

    /// Smallest and largest gradient magnitude, G/cm.
    pub fn fgrad_range(&self) -> (f64, f64) {
        let g = self.fgrad.to_f64();
        let d = g.shape()[0];
        (0..g.shape()[1])
            .map(|k| (0..d).map(|a| g[[a, k]] * g[[a, k]]).sum::<f64>().sqrt())
            .fold((f64::INFINITY, 0.0), |(lo, hi), m| (lo.min(m), hi.max(m)))
    }

    /// The default computing precision: the projections' (else the spectrum's) stored dtype.
    pub fn precision(&self) -> Precision {
        self.proj
            .as_ref()
            .or(self.h.as_ref())
            .unwrap_or(&self.b)
            .precision()
    }

    /// The reference spectrum, or the error explaining why there is none.
    pub fn h(&self) -> Result<&HostArray> {
        self.h
            .as_ref()
            .ok_or_else(|| Error::usage("no reference spectrum: give --h FILE"))
    }

    /// The geometry in `T`: the field grid, the gradients and the pixel size `delta` (cm).
    pub fn geometry<T: Real>(&self, delta: f64) -> Result<epri_ops::Geometry<T>> {
        let (b, fgrad) = (as1::<T>(&self.b), as2::<T>(&self.fgrad));
        Ok(epri_ops::Geometry::new(
            b.view(),
            T::of(delta),
            fgrad.view(),
        )?)
    }

    /// The reference spectrum `(Nb,)` in `T`, or the error explaining why there is none.
    pub fn h_as<T: Real>(&self) -> Result<Array1<T>> {
        Ok(as1(self.h()?))
    }

    /// The projections `(P, Nb)` in `T`, if loaded.
    pub fn proj_as<T: Real>(&self) -> Option<Array2<T>> {
        self.proj.as_ref().map(as2)
    }

    /// The arrays converted to `T` (projections only if loaded).
    pub fn host<T: Real>(&self) -> Result<HostData<T>> {
        Ok(HostData {
            proj: self.proj.as_ref().map(as2),
            b: as1(&self.b),
            h: as1(self.h()?),
            fgrad: as2(&self.fgrad),
        })
    }
}
