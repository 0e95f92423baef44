//! The multi-source projection `A` and backprojection `A*`, composed from the mono-source
//! [`Projector`]'s Fourier-domain halves (PyEPRI's `multisrc.proj{2,3}d*`,
//! `multisrc.backproj{2,3}d*`).

use super::settings::Settings;
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::proj::{Projector, ProjectorOptions};
use backend_core::{Backend, Binary, DeviceBuffer, Direction, FftKind, FftSpec, Part, Real, C};
use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, Ix2};

/// The block operator `A` of `K` sources seen in `L` settings, planned once, applied many times.
///
/// * source images: real buffers, source `j` of shape `shapes[j]` (Y, X[, Z]);
/// * sinograms: real buffers, setting `i` of shape `(P_i, Nb)`.
///
/// `proj[i] = Σ_j A_{h[i][j], fgrad[i]} u_j` is summed in the Fourier domain along B (one
/// inverse FFT per setting), `out[j] = Σ_i A*_{h[i][j], fgrad[i]} proj[i]` from one forward FFT
/// per setting. Each block `A_{h[i][j], fgrad[i]}` is a mono-source [`Projector`].
pub struct MultiProjector<B: Backend, T: Real> {
    backend: B,
    /// `blocks[i][j] = A_{h[i][j], fgrad[i]}` on images of shape `shapes[j]`.
    blocks: Vec<Vec<Projector<B, T>>>,
    shapes: Vec<Vec<usize>>,
    settings: Vec<SettingScratch<B, T>>,
    /// One image per source: the term of the adjoint being added.
    term_images: Vec<B::Buffer<T>>,
}

/// Per setting: the FFT along B, the Fourier sinogram accumulator and one term.
struct SettingScratch<B: Backend, T: Real> {
    fft_b: B::FftPlan<T>,
    sino_shape: [usize; 2],
    acc: B::Buffer<C<T>>,
    term: B::Buffer<C<T>>,
}

impl<B: Backend, T: Real> MultiProjector<B, T> {
    /// Plans the `L × K` blocks. `geometries`, `h` and `shapes` as in [`Settings::new`]
    /// (lists of length 1 broadcast over the settings).
    ///
    /// Errors: those of [`Settings::new`] and [`Projector::new`].
    pub fn new(
        backend: &B,
        geometries: &[Geometry<T>],
        h: &[Vec<ArrayView1<'_, T>>],
        shapes: &[Vec<usize>],
        opts: ProjectorOptions,
    ) -> Result<Self> {
        let set = Settings::new(geometries, h, shapes)?;
        let mut blocks = Vec::with_capacity(set.num_settings());
        let mut settings = Vec::with_capacity(set.num_settings());
        for i in 0..set.num_settings() {
            let g = set.geometry(i);
            let row = (0..set.num_sources())
                .map(|j| Projector::new(backend, g, set.h(i, j), set.shape(j), opts))
                .collect::<Result<Vec<_>>>()?;
            let sino_shape = g.sino_shape();
            let kind = if opts.rfft_mode {
                FftKind::R2C
            } else {
                FftKind::C2C
            };
            let fourier_shape = row[0].fourier_shape();
            settings.push(SettingScratch {
                fft_b: backend.fft_plan::<T>(&FftSpec::new(&sino_shape, 1, kind)?)?,
                sino_shape,
                acc: backend.zeros(&fourier_shape)?,
                term: backend.zeros(&fourier_shape)?,
            });
            blocks.push(row);
        }
        let term_images = shapes
            .iter()
            .map(|s| backend.zeros::<T>(s))
            .collect::<backend_core::Result<Vec<_>>>()?;
        Ok(MultiProjector {
            backend: backend.clone(),
            blocks,
            shapes: shapes.to_vec(),
            settings,
            term_images,
        })
    }

    /// Projection `out[i] <- Σ_j A_{h[i][j]} u[j]`: `u` holds `K` images (source `j` of shape
    /// `image_shapes()[j]`), `out` `L` sinograms (setting `i` of shape `sino_shapes()[i]`).
    pub fn apply(&mut self, u: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        self.check_counts(u.len(), out.len())?;
        let b = &self.backend;
        for ((row, st), out_i) in self.blocks.iter_mut().zip(&mut self.settings).zip(out) {
            check_shape("sinogram out", out_i.shape(), &st.sino_shape)?;
            for (j, (a, u_j)) in row.iter_mut().zip(u).enumerate() {
                if j == 0 {
                    a.apply_fourier(u_j, &mut st.acc)?;
                } else {
                    a.apply_fourier(u_j, &mut st.term)?;
                    b.axpby(
                        C::new(T::one(), T::zero()),
                        &st.term,
                        C::new(T::one(), T::zero()),
                        &mut st.acc,
                    )?;
                }
            }
            if row[0].rfft_mode() {
                b.fft_c2r(&st.fft_b, &mut st.acc, out_i)?;
            } else {
                b.fft_c2c(&st.fft_b, &mut st.acc, Direction::Inverse)?;
                b.complex_part(&st.acc, Part::Re, out_i)?;
            }
        }
        Ok(())
    }

    /// Backprojection `out[j] <- Σ_i A*_{h[i][j]} p[i]`: `p` holds `L` sinograms, `out` `K`
    /// images.
    pub fn adjoint(&mut self, p: &[B::Buffer<T>], out: &mut [B::Buffer<T>]) -> Result<()> {
        self.check_counts(out.len(), p.len())?;
        let b = &self.backend;
        for (i, ((row, st), p_i)) in self
            .blocks
            .iter_mut()
            .zip(&mut self.settings)
            .zip(p)
            .enumerate()
        {
            check_shape("sinogram p", p_i.shape(), &st.sino_shape)?;
            if row[0].rfft_mode() {
                b.fft_r2c(&st.fft_b, p_i, &mut st.acc)?;
            } else {
                b.to_complex(p_i, &mut st.acc)?;
                b.fft_c2c(&st.fft_b, &mut st.acc, Direction::Forward)?;
            }
            for ((a, out_j), term) in row
                .iter_mut()
                .zip(out.iter_mut())
                .zip(&mut self.term_images)
            {
                if i == 0 {
                    a.adjoint_fourier(&st.acc, out_j)?;
                } else {
                    a.adjoint_fourier(&st.acc, term)?;
                    b.zip(Binary::Add, out_j, term)?;
                }
            }
        }
        Ok(())
    }

    /// [`MultiProjector::apply`] on host arrays: `K` images in, `L` sinograms `(P_i, Nb)` out.
    pub fn project_host(&mut self, u: &[ArrayViewD<'_, T>]) -> Result<Vec<Array2<T>>> {
        let b = self.backend.clone();
        let ud = u
            .iter()
            .map(|x| b.upload(x.view()))
            .collect::<backend_core::Result<Vec<_>>>()?;
        let mut out = self
            .settings
            .iter()
            .map(|st| b.zeros::<T>(&st.sino_shape))
            .collect::<backend_core::Result<Vec<_>>>()?;
        self.apply(&ud, &mut out)?;
        out.iter()
            .map(|o| {
                b.download(o)?
                    .into_dimensionality::<Ix2>()
                    .map_err(|e| Error::Shape(format!("sinogram: {e}")))
            })
            .collect()
    }

    /// [`MultiProjector::adjoint`] on host arrays: `L` sinograms in, `K` images out.
    pub fn backproject_host(&mut self, p: &[ArrayView2<'_, T>]) -> Result<Vec<ArrayD<T>>> {
        let b = self.backend.clone();
        let pd = p
            .iter()
            .map(|x| b.upload(x.view().into_dyn()))
            .collect::<backend_core::Result<Vec<_>>>()?;
        let mut out = self
            .shapes
            .iter()
            .map(|s| b.zeros::<T>(s))
            .collect::<backend_core::Result<Vec<_>>>()?;
        self.adjoint(&pd, &mut out)?;
        Ok(out
            .iter()
            .map(|o| b.download(o))
            .collect::<backend_core::Result<Vec<_>>>()?)
    }

    fn check_counts(&self, images: usize, sinograms: usize) -> Result<()> {
        if images != self.num_sources() || sinograms != self.num_settings() {
            return Err(Error::Shape(format!(
                "{images} images and {sinograms} sinograms given, the operator has {} sources and {} settings",
                self.num_sources(),
                self.num_settings()
            )));
        }
        Ok(())
    }

    /// Number of sources `K`.
    pub fn num_sources(&self) -> usize {
        self.shapes.len()
    }

    /// Number of settings `L` (after broadcasting).
    pub fn num_settings(&self) -> usize {
        self.settings.len()
    }

    /// Image shapes of the sources, (Y, X[, Z]) each.
    pub fn image_shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Sinogram shapes `(P_i, Nb)` of the settings.
    pub fn sino_shapes(&self) -> Vec<[usize; 2]> {
        self.settings.iter().map(|st| st.sino_shape).collect()
    }

    /// The mono-source block `A_{h[i][j], fgrad[i]}` (`None` out of range).
    pub fn block(&mut self, i: usize, j: usize) -> Option<&mut Projector<B, T>> {
        self.blocks.get_mut(i)?.get_mut(j)
    }

    /// The backend the operator runs on.
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

fn check_shape(what: &str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{what} has shape {got:?}, the multi-source projector expects {expected:?}"
        )))
    }
}
