//! The command line of `epri` (clap derive).

use crate::io::Sources;
use backend_core::{DeviceSpec, Precision};
use clap::{Args, Parser, Subcommand, ValueEnum};
use epri_ops::recon::{LambdaRule, TvOptions};
use std::path::PathBuf;

/// EPR imaging: projection, backprojection, TV-regularised and filtered-backprojection
/// reconstruction of EPR images on the CPU, OpenCL and CUDA devices (a port of PyEPRI).
///
/// Units: B in G, pixel size in cm, field gradients in G/cm. Images are stored (Y, X) or
/// (Y, X, Z); sinograms (P, Nb), one projection per row; fgrad (d, P), one gradient per column.
#[derive(Parser, Debug)]
#[command(name = "epri", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the compute devices this build can use (CPU, OpenCL, CUDA), or why there are none
    Devices,
    /// Describe a dataset: dimension, sweep width, number of projections, field step, gradients
    /// (without arguments: list the embedded datasets)
    Info(InfoArgs),
    /// Project an image: simulate the projections (P, Nb) of an image for given B, h and fgrad,
    /// or of a spectral-spatial image (Nb, Ny, Nx, Nz) for given B and fgrad (no h)
    Project(ProjectArgs),
    /// Backproject projections: apply the adjoint of the projection operator (2D, 3D, or
    /// spectral-spatial 4D with --shape NB,NY,NX,NZ)
    Backproject(BackprojectArgs),
    /// Reconstruct an image by TV-regularised least squares (PyEPRI's tv_monosrc)
    Tv(TvArgs),
    /// Reconstruct a spectral-spatial (4D) image, one spectrum per voxel, by least squares
    /// with spatial and spectral TV (projections, B and fgrad; no reference spectrum)
    Spectral(SpectralArgs),
    /// Reconstruct an image by filtered backprojection (PyEPRI's eprfbp2d / eprfbp3d)
    Fbp(FbpArgs),
    /// Separate the sources of a multi-source dataset, one image per spectrum, by
    /// TV-regularised least squares (PyEPRI's tv_multisrc)
    Separate(SeparateArgs),
    /// Fit a line shape to every voxel's spectrum of a spectral-spatial image (Nb, Ny, Nx[, Nz])
    /// and write maps of peak-to-peak linewidth, its standard error, amplitude, centre, a
    /// validity mask and, with a calibration, pO2 (EPR oximetry)
    Oximetry(OximetryArgs),
    /// Run the PyEPRI gallery examples (9 FBP, 9 TV, 4 source separations) on the embedded
    /// datasets and write one PNG per image and an index.html
    Gallery(GalleryArgs),
    /// Check that a device computes correctly: every primitive of the backend against direct
    /// host computations (pass/fail table), then a short timing of the main operators; exits
    /// with status 1 if a check fails
    Selftest(SelftestArgs),
    /// Print the relative l2 error ‖A − B‖ / ‖B‖ of two .npy arrays of the same shape
    Compare(CompareArgs),
}

/// Floating-point precision of the computation (and of the .npy written).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecisionArg {
    /// 32-bit floats (float32), PyEPRI's choice for every example
    F32,
    /// 64-bit floats (float64)
    F64,
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        }
    }
}

/// Where to compute.
#[derive(Args, Clone, Debug)]
pub struct ComputeArgs {
    /// Compute device: cpu, opencl, opencl:<platform>:<device>, cuda, cuda:<index>
    /// (`epri devices` lists them)
    #[arg(long, value_name = "NAME", default_value = "cpu", value_parser = parse_backend)]
    pub backend: DeviceSpec,
    /// Precision of the computation and of the .npy written [default: the dtype of the input
    /// data, float32 for the embedded datasets]
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
}

/// The TV solvers' options shared by `tv`, `spectral` and `separate`: noise level, iterations,
/// stopping rule, positivity, NUFFT accuracy, progress.
#[derive(Args, Clone, Debug)]
pub struct SolverArgs {
    /// Noise standard deviation of one projection sample, in the unit of the projections, for
    /// `--lambda auto` and `--stop discrepancy` (default: estimated from the data, as `epri
    /// info` prints it)
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = positive)]
    pub sigma: Option<f64>,
    /// With `--lambda auto`: draw the residual and SURE of every λ tried, and the chosen λ,
    /// into this PNG
    #[arg(long, value_name = "FILE")]
    pub lambda_report: Option<PathBuf>,
    /// Maximum number of iterations (the tolerance usually stops earlier)
    #[arg(long, value_name = "N", default_value_t = 1_000_000, allow_negative_numbers = true, value_parser = count)]
    pub iters: usize,
    /// Tolerance of --stop change (‖u − u_prev‖ < tol·‖u‖; for `separate` summed over the
    /// sources: Σ‖u_j − u_j,prev‖² < tol²·Σ‖u_j‖²) and --stop gap
    #[arg(long, value_name = "T", default_value_t = 1e-5, allow_negative_numbers = true, value_parser = non_negative)]
    pub tol: f64,
    /// Stopping rule: change (relative change below --tol), gap (relative primal-dual
    /// residual below --tol) or discrepancy (residual at the noise level m·σ²)
    #[arg(long, value_enum, value_name = "RULE", default_value = "change")]
    pub stop: StopArg,
    /// Evaluate the stopping rule every K iterations only (default 1, as PyEPRI). On a GPU
    /// the rule's norms are the only values read back from the device in an iteration: with
    /// K = 10–50 the loop runs without waiting for them, and stops at most K − 1 iterations
    /// after the iteration at which the rule first holds
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = check_every)]
    pub check_every: usize,
    /// Constrain the image(s) to be non-negative (`spectral`: for absorption profiles)
    #[arg(long)]
    pub positivity: bool,
    /// NUFFT relative accuracy
    #[arg(long, value_name = "E", default_value_t = 1e-6, allow_negative_numbers = true, value_parser = positive)]
    pub eps: f64,
    /// No progress bar
    #[arg(long)]
    pub quiet: bool,
}

impl SolverArgs {
    /// The defaults of the command line with `iters` and `tol` (the gallery's runs).
    pub fn new(iters: usize, tol: f64) -> Self {
        SolverArgs {
            sigma: None,
            lambda_report: None,
            iters,
            tol,
            stop: StopArg::Change,
            check_every: 1,
            positivity: false,
            eps: 1e-6,
            quiet: false,
        }
    }

    /// The solver options these arguments set: tolerance, iteration cap, positivity, NUFFT
    /// accuracy, stopping-rule period (λ, the stopping rule and the energy are the caller's).
    pub fn tv_options<T>(&self) -> TvOptions<T> {
        TvOptions {
            tol: self.tol,
            max_iter: self.iters,
            positivity: self.positivity,
            eps: self.eps,
            check_every: self.check_every,
            ..TvOptions::default()
        }
    }
}

/// `epri info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub sources: Sources,
}

/// `epri project`.
#[derive(Args, Debug)]
pub struct ProjectArgs {
    /// Image to project, (Ny, Nx) or (Ny, Nx, Nz); or a spectral-spatial image (Nb, Ny, Nx, Nz),
    /// spectral axis first on the grid B, with 3D gradients and no --h: .npy. In 4D the voxels
    /// holding a spectrum must fit the sweep: their largest shift |<γ, r>| (gradients γ, voxel
    /// centres r) above half the sweep width B[-1] − B[0] gives a warning, above the whole
    /// sweep width an error
    #[arg(long, value_name = "FILE")]
    pub image: PathBuf,
    #[command(flatten)]
    pub sources: Sources,
    /// Pixel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Spectral-spatial images: the voxels hold absorption profiles, projected as their
    /// derivative along B (PyEPRI's absorption_mode)
    #[arg(long)]
    pub absorption: bool,
    /// Output projections (P, Nb): .npy
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// NUFFT relative accuracy
    #[arg(long, value_name = "E", default_value_t = 1e-6, allow_negative_numbers = true, value_parser = positive)]
    pub eps: f64,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `epri backproject`.
#[derive(Args, Debug)]
pub struct BackprojectArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Pixel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Image shape NY,NX (2D) or NY,NX,NZ (3D), in pixels; or NB,NY,NX,NZ for a
    /// spectral-spatial image (NB the length of B, 3D gradients, no --h). In 4D the field of
    /// view must fit the sweep: the largest shift |<γ, r>| of a voxel's spectrum (gradients γ,
    /// voxel centres r) above half the sweep width B[-1] − B[0] gives a warning, above the
    /// whole sweep width an error
    #[arg(long, value_name = "NY,NX[,NZ]|NB,NY,NX,NZ", allow_hyphen_values = true, value_parser = parse_image_shape)]
    pub shape: Shape,
    /// Spectral-spatial images: the voxels hold absorption profiles, projected as their
    /// derivative along B (PyEPRI's absorption_mode)
    #[arg(long)]
    pub absorption: bool,
    /// Output image: .npy
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also draw the image into this PNG (4D: the integrated intensity and a few voxels'
    /// spectra)
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// NUFFT relative accuracy
    #[arg(long, value_name = "E", default_value_t = 1e-6, allow_negative_numbers = true, value_parser = positive)]
    pub eps: f64,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `epri tv`.
#[derive(Args, Debug)]
pub struct TvArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Pixel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Image shape NY,NX (2D) or NY,NX,NZ (3D), in pixels
    #[arg(long, value_name = "NY,NX[,NZ]", allow_hyphen_values = true, value_parser = parse_shape)]
    pub shape: Shape,
    /// Regularisation weight λ (dimensionless, PyEPRI's normalisation): larger is smoother.
    /// `auto` chooses it from the data's noise by minimising SURE, an estimate of the
    /// prediction error; `auto:discrepancy` takes half the λ at which the residual reaches the
    /// noise (discrepancy principle)
    #[arg(long = "lambda", value_name = "L|auto|auto:discrepancy", allow_negative_numbers = true, value_parser = parse_lambda)]
    pub lambda: LambdaArg,
    /// Show the energy ½‖Au − s‖² + λ·TV(u) every 20 iterations (costs one projection each)
    #[arg(long)]
    pub energy: bool,
    /// Output image: .npy
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also draw the image into this PNG
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub solver: SolverArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// The value of `--lambda`: a weight, or the rule that chooses it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LambdaArg {
    /// A positive, finite weight.
    Value(f64),
    /// Chosen from the data by this rule.
    Auto(LambdaRule),
}

fn parse_lambda(s: &str) -> Result<LambdaArg, String> {
    match s.trim() {
        "auto" | "auto:sure" => Ok(LambdaArg::Auto(LambdaRule::Sure)),
        "auto:discrepancy" => Ok(LambdaArg::Auto(LambdaRule::Discrepancy)),
        t if t.starts_with("auto") => Err(format!(
            "unknown rule '{s}': use auto (SURE), auto:sure or auto:discrepancy"
        )),
        _ => positive(s)
            .map(LambdaArg::Value)
            .map_err(|e| format!("{e} (or auto, auto:discrepancy)")),
    }
}

/// The value of `--stop`: the rule that ends the iterations (besides `--iters`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StopArg {
    /// Relative change ‖u − u_prev‖ < tol·‖u‖ (PyEPRI's rule)
    #[default]
    Change,
    /// Relative primal-dual residual of the solver < tol (a computable surrogate of the
    /// duality gap: watches the dual variables too)
    Gap,
    /// The residual ‖Au − s‖² reaches the noise level m·σ² (σ from --sigma or estimated;
    /// falls back to the relative change if the iterates converge above it)
    Discrepancy,
}

/// `epri spectral`.
#[derive(Args, Debug)]
pub struct SpectralArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Voxel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Image shape NB,NY,NX,NZ: NB field samples (the length of B) per voxel, then the voxels.
    /// The field of view must fit the sweep: the largest shift |<γ, r>| of a voxel's spectrum
    /// (gradients γ, voxel centres r) above half the sweep width B[-1] − B[0] gives a warning,
    /// above the whole sweep width an error
    #[arg(long, value_name = "NB,NY,NX,NZ", allow_hyphen_values = true, value_parser = parse_spectral_shape)]
    pub shape: Shape,
    /// Spatial TV weight λ (dimensionless, normalised like tv's by the amplitude of the scaled
    /// backprojection): larger is smoother in space. `auto` / `auto:discrepancy` choose it as
    /// `epri tv` does (λ_B stays as given)
    #[arg(long = "lambda", value_name = "L|auto|auto:discrepancy", allow_negative_numbers = true, value_parser = parse_lambda)]
    pub lambda: LambdaArg,
    /// Spectral TV weight λ_B (same normalisation; 0: spectra unregularised)
    #[arg(long = "lambda-spectral", value_name = "L2", default_value_t = 0.0, allow_negative_numbers = true, value_parser = non_negative)]
    pub lambda_spectral: f64,
    /// The voxels hold absorption profiles (projected as their derivative along B)
    #[arg(long)]
    pub absorption: bool,
    /// Show the energy every 20 iterations (costs one projection each)
    #[arg(long)]
    pub energy: bool,
    /// Output image (NB, NY, NX, NZ): .npy
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also draw the integrated intensity (slices and MIPs) and the spectra of a few voxels
    /// into this PNG
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub solver: SolverArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `epri fbp`.
#[derive(Args, Debug)]
pub struct FbpArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Pixel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Image shape NY,NX (2D) or NY,NX,NZ (3D), in pixels
    #[arg(long, value_name = "NY,NX[,NZ]", allow_hyphen_values = true, value_parser = parse_shape)]
    pub shape: Shape,
    /// Fraction of the lowest B-frequencies kept by the filter, in (0, 1] (PyEPRI's
    /// frequency_cutoff; the examples use 0.07 to 0.25)
    #[arg(long, value_name = "C", default_value_t = 1.0, allow_negative_numbers = true, value_parser = cutoff)]
    pub cutoff: f64,
    /// No progress indicator
    #[arg(long)]
    pub quiet: bool,
    /// Output image: .npy
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also draw the image into this PNG
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `epri separate`.
#[derive(Args, Debug)]
pub struct SeparateArgs {
    /// Multi-source dataset folder holding proj.npy, B.npy, fgrad.npy and one spectrum per
    /// source (htam.npy, htempo.npy...), or the name of an embedded dataset
    #[arg(long, value_name = "DIR")]
    pub data: String,
    /// The sources: stems of the spectrum files of the folder, comma-separated
    /// [default: every h*.npy except hmixt.npy, sorted]
    #[arg(long, value_name = "STEM,STEM", value_delimiter = ',')]
    pub sources: Vec<String>,
    /// Pixel size, cm
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: f64,
    /// Image shapes, one per source separated by ';' or one for all: NY,NX or NY,NX,NZ
    #[arg(long, value_name = "NY,NX[,NZ];...", value_delimiter = ';', allow_hyphen_values = true, value_parser = parse_shape, required = true)]
    pub shapes: Vec<Shape>,
    /// Regularisation weight λ (dimensionless, PyEPRI's normalisation): larger is smoother.
    /// `auto` / `auto:discrepancy` choose it as `epri tv` does
    #[arg(long = "lambda", value_name = "L|auto|auto:discrepancy", allow_negative_numbers = true, value_parser = parse_lambda)]
    pub lambda: LambdaArg,
    /// Output prefix: writes PREFIX_<source>.npy, the source named by its spectrum stem
    /// without the leading h (htam.npy -> PREFIX_tam.npy)
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Also draw each image into PREFIX_<source>.png
    #[arg(long)]
    pub png: bool,
    #[command(flatten)]
    pub solver: SolverArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// Line-shape model of `epri oximetry`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineShapeArg {
    /// Lorentzian (lifetime broadening: oxygen-broadened trityl, LiPc, India ink)
    Lorentzian,
    /// Gaussian (inhomogeneous broadening)
    Gaussian,
    /// Pseudo-Voigt: Lorentzian fraction η·Lorentzian + (1 − η)·Gaussian of one peak-to-peak
    /// width, η fitted
    Voigt,
}

/// Calibration preset of `epri oximetry`: a published slope.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeArg {
    /// Lithium naphthalocyanine microcrystals: 0.0312 G/mmHg (Pandian et al., Adv. Exp. Med.
    /// Biol. 701 (2011) 29–36)
    Linc,
}

/// The fit and calibration options of `epri oximetry` (what a command chaining a fit after
/// a reconstruction also takes).
#[derive(Args, Clone, Debug)]
pub struct OximetryFitArgs {
    /// Line shape fitted to each voxel's spectrum
    #[arg(long, value_enum, default_value = "lorentzian")]
    pub model: LineShapeArg,
    /// The spectra are first derivatives of the absorption (field-modulated CW-EPR); without
    /// it, absorption lines
    #[arg(long)]
    pub derivative: bool,
    /// Skip voxels whose spectrum's peak-to-peak (max − min) is at most this fraction of the
    /// largest in the image, in [0, 1)
    #[arg(long, value_name = "F", default_value_t = 0.1, allow_negative_numbers = true, value_parser = fraction)]
    pub threshold: f64,
    /// Calibration: oxygen sensitivity of the probe, G/mmHg (pO2 = (width − width0)/slope);
    /// writes PREFIX_po2.npy
    #[arg(long, value_name = "S", requires = "width0", allow_negative_numbers = true, value_parser = positive)]
    pub slope: Option<f64>,
    /// Calibration: anoxic peak-to-peak linewidth of the probe, G (with --slope or --probe)
    #[arg(long, value_name = "W0", allow_negative_numbers = true, value_parser = non_negative)]
    pub width0: Option<f64>,
    /// Calibration: a probe's published slope instead of --slope (with --width0, measured)
    #[arg(long, value_enum, value_name = "NAME", conflicts_with = "slope")]
    pub probe: Option<ProbeArg>,
}

/// `epri oximetry`.
#[derive(Args, Debug)]
pub struct OximetryArgs {
    /// Spectral-spatial image, the spectral axis first: (Nb, Ny, Nx) or (Nb, Ny, Nx, Nz), .npy
    #[arg(long, value_name = "FILE")]
    pub image: PathBuf,
    /// Field grid B (Nb,) of the spectral axis, G, strictly increasing: .npy
    #[arg(long = "B", value_name = "FILE")]
    pub field: PathBuf,
    #[command(flatten)]
    pub fit: OximetryFitArgs,
    /// Output prefix: writes PREFIX_width.npy, PREFIX_width_err.npy, PREFIX_amplitude.npy,
    /// PREFIX_center.npy, PREFIX_mask.npy (and PREFIX_po2.npy when calibrated)
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Also draw the width (and pO2) maps into PREFIX_width.png (PREFIX_po2.png)
    #[arg(long)]
    pub png: bool,
    /// Pixel size, cm, for the axes of the figures [default: axes in pixels]
    #[arg(long, value_name = "CM", allow_negative_numbers = true, value_parser = positive)]
    pub delta: Option<f64>,
}

/// `epri gallery`.
#[derive(Args, Debug)]
pub struct GalleryArgs {
    /// Output folder (PNG files and index.html); not needed with --list
    #[arg(long, value_name = "DIR", required_unless_present = "list")]
    pub out: Option<PathBuf>,
    /// Run only the examples whose name contains this text (repeatable, or comma-separated),
    /// e.g. --only fbp_2d or --only tv_2d_phalanx
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub only: Vec<String>,
    /// List the examples and their parameters, run nothing
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `epri selftest`.
#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Device to check: cpu, opencl, opencl:<platform>:<device>, cuda, cuda:<index>
    /// (`epri devices` lists them)
    #[arg(long, value_name = "NAME", default_value = "cpu", value_parser = parse_backend)]
    pub backend: DeviceSpec,
    /// Precision of the timings (the checks run in f32, then in f64 where the device has it)
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: PrecisionArg,
}

/// `epri compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The array compared: .npy
    #[arg(value_name = "A.npy")]
    pub a: PathBuf,
    /// The reference: .npy
    #[arg(value_name = "B.npy")]
    pub b: PathBuf,
}

/// A command-line error of clap on one line: its message (which names the option and the value
/// at fault) and the help to read, without clap's usage block and tips. `subcommand`: the first
/// command-line argument, named in the help hint when it is one of `epri`'s subcommands.
pub fn one_line_usage_error(e: &clap::Error, subcommand: Option<&str>) -> String {
    use clap::CommandFactory;
    let rendered = e.render().to_string();
    // The first paragraph: the message and its continuation lines (the missing arguments, say).
    let first = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let first = match first.trim_start_matches("error:").trim() {
        "" => "invalid command line",
        m => m,
    };
    let help = match subcommand.filter(|s| Cli::command().find_subcommand(s).is_some()) {
        Some(sub) => format!("see 'epri {sub} --help'"),
        None => "see 'epri --help'".to_string(),
    };
    format!("{first} ({help})")
}

/// An image shape (Ny, Nx) or (Ny, Nx, Nz), or a spectral-spatial one (Nb, Ny, Nx, Nz).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

fn parse_backend(s: &str) -> Result<DeviceSpec, String> {
    s.parse::<DeviceSpec>().map_err(|e| e.to_string())
}

fn parse_shape(s: &str) -> Result<Shape, String> {
    parse_sizes(s, &[2, 3], "NY,NX or NY,NX,NZ", "2 (NY,NX) or 3 (NY,NX,NZ)")
}

/// An image shape of any kind: `NY,NX`, `NY,NX,NZ` or spectral-spatial `NB,NY,NX,NZ`.
fn parse_image_shape(s: &str) -> Result<Shape, String> {
    parse_sizes(
        s,
        &[2, 3, 4],
        "NY,NX, NY,NX,NZ or NB,NY,NX,NZ",
        "2 (NY,NX), 3 (NY,NX,NZ) or 4 (NB,NY,NX,NZ)",
    )
}

/// A spectral-spatial image shape `NB,NY,NX,NZ`.
fn parse_spectral_shape(s: &str) -> Result<Shape, String> {
    parse_sizes(s, &[4], "NB,NY,NX,NZ", "4 (NB,NY,NX,NZ)")
}

fn parse_sizes(s: &str, counts: &[usize], form: &str, count_form: &str) -> Result<Shape, String> {
    let dims: Vec<usize> = s
        .split([',', 'x', 'X'])
        .map(|t| t.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("expected {form} (positive integers), got '{s}'"))?;
    if !counts.contains(&dims.len()) {
        return Err(format!("expected {count_form} sizes, got {}", dims.len()));
    }
    if dims.iter().any(|&n| n < 2) {
        return Err(format!("every size must be at least 2, got '{s}'"));
    }
    if dims
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .is_none()
    {
        return Err(format!(
            "'{s}' has more pixels than this machine can address"
        ));
    }
    Ok(Shape(dims))
}

fn count(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| format!("expected a whole number of iterations (0 or more), got '{s}'"))
}

fn check_every(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(k) if k >= 1 => Ok(k),
        _ => Err(format!(
            "expected a whole number of iterations, 1 or more, got '{s}'"
        )),
    }
}

fn number(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("'{s}' is not a finite number"))
}

fn positive(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(format!("must be positive, got {s}"))
    }
}

fn non_negative(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("must be zero or positive, got {s}"))
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("must lie in [0, 1), got {s}"))
    }
}

fn cutoff(s: &str) -> Result<f64, String> {
    let x = number(s)?;
    if x > 0.0 && x <= 1.0 {
        Ok(x)
    } else {
        Err(format!("must lie in (0, 1], got {s}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shapes_parse() {
        assert_eq!(parse_shape("400,200").unwrap(), Shape(vec![400, 200]));
        assert_eq!(parse_shape("55,55,75").unwrap(), Shape(vec![55, 55, 75]));
        assert!(parse_shape("400").is_err());
        assert!(parse_shape("1,5").is_err());
        assert!(parse_shape("a,b").is_err());
        assert!(parse_shape("16,4,4,4").is_err());
        assert_eq!(
            parse_image_shape("16,4,5,6").unwrap(),
            Shape(vec![16, 4, 5, 6])
        );
        assert!(parse_image_shape("16,4,5,6,7").is_err());
    }
}
