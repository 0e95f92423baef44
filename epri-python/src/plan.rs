//! A mono-source or spectral-spatial operator planned once and applied many times: the
//! projector `A`, its adjoint and the Toeplitz `A*A` (built on first use), with their device
//! buffers. The functional API (`monosrc.proj2d`, `spectralspatial.proj4d`...) plans and applies
//! once; `epri.Projector` and `epri.SpectralProjector` keep the plan.

use backend_core::{Backend, Real};
use epri_demos::dispatch::Job;
use epri_demos::io::HostArray;
use epri_ops::{Geometry, Projector, ProjectorOptions, ToeplitzKernel};
use ndarray::{Array1, ArrayD, Ix1, Ix2};

/// The acquisition of one experiment as given: field grid `B` `(Nb,)` in G, pixel size `delta`
/// in cm, field gradients `fgrad` `(d, P)` in G/cm (rows X, Y[, Z]), in one precision.
#[derive(Clone, Debug)]
pub struct Acquisition {
    pub b: HostArray,
    pub delta: f64,
    pub fgrad: HostArray,
}

impl Acquisition {
    /// The checked geometry in precision `T`.
    pub fn geometry<T: Real>(&self) -> epri_ops::Result<Geometry<T>> {
        let b = vector::<T>(&self.b)?;
        let fgrad = self
            .fgrad
            .to_real::<T>()
            .into_dimensionality::<Ix2>()
            .map_err(|e| epri_ops::Error::Shape(format!("fgrad: {e}")))?;
        Geometry::new(b.view(), T::of(self.delta), fgrad.view())
    }
}

/// A 1D host array in precision `T`.
pub fn vector<T: Real>(a: &HostArray) -> epri_ops::Result<Array1<T>> {
    a.to_real::<T>()
        .into_dimensionality::<Ix1>()
        .map_err(|e| epri_ops::Error::Shape(format!("expected a 1D array: {e}")))
}

/// What the operator maps to sinograms.
#[derive(Clone, Debug)]
pub enum Model {
    /// Images `(Y, X[, Z])` of one source whose reference spectrum is `h` `(Nb,)`.
    Lineshape(HostArray),
    /// Spectral-spatial images `(Nb, Ny, Nx, Nz)`; their voxels hold absorption profiles
    /// (projected as their derivative along B) when `absorption`.
    Spectral { absorption: bool },
}

/// [`Model`] in precision `T`.
enum TypedModel<T> {
    Lineshape(Array1<T>),
    Spectral { absorption: bool },
}

/// What to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `A u`: image `(Y, X[, Z])` or `(Nb, Ny, Nx, Nz)` to sinogram `(P, Nb)`.
    Proj,
    /// `A* p`: sinogram to image.
    Backproj,
    /// `A*A u` as a convolution with the Toeplitz kernel: image to image.
    Toeplitz,
}

/// The operator of one experiment on one backend, in precision `T`.
pub struct Plan<B: Backend, T: Real> {
    backend: B,
    geometry: Geometry<T>,
    model: TypedModel<T>,
    eps: f64,
    projector: Projector<B, T>,
    toeplitz: Option<ToeplitzKernel<B, T>>,
    /// Output buffers: image (`(Y, X[, Z])` or `(Nb, Ny, Nx, Nz)`) and sinogram `(P, Nb)`.
    image: B::Buffer<T>,
    sino: B::Buffer<T>,
}

impl<B: Backend, T: Real> Plan<B, T> {
    /// Plans `A` for `acq`, the `model` and images of shape `shape`.
    pub fn new(
        backend: &B,
        acq: &Acquisition,
        model: &Model,
        shape: &[usize],
        opts: ProjectorOptions,
    ) -> epri_ops::Result<Self> {
        let geometry = acq.geometry::<T>()?;
        let (model, projector) = match model {
            Model::Lineshape(h) => {
                let h = vector::<T>(h)?;
                let a = Projector::new(backend, &geometry, h.view(), shape, opts)?;
                (TypedModel::Lineshape(h), a)
            }
            &Model::Spectral { absorption } => {
                let a = Projector::new_spectral(backend, &geometry, shape, absorption, opts)?;
                (TypedModel::Spectral { absorption }, a)
            }
        };
        Ok(Plan {
            image: backend.zeros(shape)?,
            sino: backend.zeros(&geometry.sino_shape())?,
            backend: backend.clone(),
            geometry,
            model,
            eps: opts.eps,
            projector,
            toeplitz: None,
        })
    }

    /// Applies `op` to `x` (image or sinogram, C order): the input is uploaded, the output
    /// computed into the plan's buffer and downloaded.
    pub fn apply(&mut self, op: Op, x: &ArrayD<T>) -> epri_ops::Result<ArrayD<T>> {
        let (expected, what) = match op {
            Op::Backproj => (self.geometry.sino_shape().to_vec(), "sinogram (P, Nb)"),
            Op::Proj | Op::Toeplitz => (self.projector.image_shape().to_vec(), "image"),
        };
        if x.shape() != expected.as_slice() {
            return Err(epri_ops::Error::Shape(format!(
                "the {what} has shape {:?}, the operator was planned for {expected:?}",
                x.shape()
            )));
        }
        let b = &self.backend;
        let input = b.upload(x.view())?;
        let output = match op {
            Op::Proj => {
                self.projector.apply(&input, &mut self.sino)?;
                &self.sino
            }
            Op::Backproj => {
                self.projector.adjoint(&input, &mut self.image)?;
                &self.image
            }
            Op::Toeplitz => {
                if self.toeplitz.is_none() {
                    let (g, shape) = (&self.geometry, self.projector.image_shape());
                    self.toeplitz = Some(match &self.model {
                        TypedModel::Lineshape(h) => {
                            ToeplitzKernel::new(b, g, h.view(), h.view(), shape, self.eps)?
                        }
                        &TypedModel::Spectral { absorption } => {
                            ToeplitzKernel::new_spectral(b, g, shape, absorption, self.eps)?
                        }
                    });
                }
                let kernel = self.toeplitz.as_mut().expect("built above");
                kernel.apply(&input, &mut self.image)?;
                &self.image
            }
        };
        Ok(b.download(output)?)
    }
}

/// A [`Plan`] behind a precision-free interface, for `epri.Projector`.
pub trait AnyPlan: Send {
    /// Applies `op` to `x`, which has the plan's precision.
    fn apply(&mut self, op: Op, x: &HostArray) -> epri_demos::Result<HostArray>;
}

impl<B: Backend, T: Real> AnyPlan for Plan<B, T> {
    fn apply(&mut self, op: Op, x: &HostArray) -> epri_demos::Result<HostArray> {
        Ok(HostArray::from_real(Plan::apply(
            self,
            op,
            &x.to_real::<T>(),
        )?))
    }
}

/// Plans the operator: the job behind `epri.Projector`.
pub struct MakePlan {
    pub acq: Acquisition,
    pub model: Model,
    pub shape: Vec<usize>,
    pub opts: ProjectorOptions,
}

impl Job for MakePlan {
    type Output = Box<dyn AnyPlan>;

    fn run<B: Backend, T: Real>(self, backend: &B) -> epri_demos::Result<Self::Output> {
        let plan = Plan::<B, T>::new(backend, &self.acq, &self.model, &self.shape, self.opts)?;
        Ok(Box::new(plan))
    }
}

/// Plans the operator and applies it once: the job behind the functional API.
pub struct ApplyOnce {
    pub plan: MakePlan,
    pub op: Op,
    pub input: HostArray,
}

impl Job for ApplyOnce {
    type Output = HostArray;

    fn run<B: Backend, T: Real>(self, backend: &B) -> epri_demos::Result<HostArray> {
        let p = &self.plan;
        let mut plan = Plan::<B, T>::new(backend, &p.acq, &p.model, &p.shape, p.opts)?;
        AnyPlan::apply(&mut plan, self.op, &self.input)
    }
}
