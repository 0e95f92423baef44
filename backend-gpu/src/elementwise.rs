//! Elementwise maps of real and complex buffers (`elementwise.cl`).

use crate::backend::GpuBackend;
use crate::buffer::{words, GpuBuffer};
use crate::driver::{Arg, Driver};
use crate::kernels;
use backend_core::{
    check, Binary, DeviceBuffer, ElemKind, Error, Field, Part, Precision, Real, Result, Unary, C,
};

type Buf<D, E> = GpuBuffer<D, E>;

pub(crate) fn map<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    op: Unary,
    x: &mut Buf<D, T>,
) -> Result<()> {
    let code = match op {
        Unary::Abs => 0,
        Unary::Sqrt => 1,
        Unary::Exp => 2,
        Unary::Sin => 3,
        Unary::Cos => 4,
        Unary::Neg => 5,
        Unary::Square => 6,
    };
    let n = x.len();
    b.items(
        T::PRECISION,
        &kernels::MAP_REAL,
        n,
        &[Arg::Mem(&x.mem), Arg::size(n)?, Arg::I32(code)],
    )
}

fn binary_code(op: Binary) -> i32 {
    match op {
        Binary::Add => 0,
        Binary::Sub => 1,
        Binary::Mul => 2,
        Binary::Div => 3,
        Binary::Max => 4,
        Binary::Min => 5,
    }
}

pub(crate) fn zip<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    op: Binary,
    a: &mut Buf<D, T>,
    x: &Buf<D, T>,
) -> Result<()> {
    check::divides("zip", a.shape(), x.shape())?;
    let (n, nb) = (a.len(), x.len());
    b.items(
        T::PRECISION,
        &kernels::ZIP_REAL,
        n,
        &[
            Arg::Mem(&a.mem),
            Arg::Mem(&x.mem),
            Arg::size(n)?,
            Arg::size(nb.max(1))?,
            Arg::I32(binary_code(op)),
        ],
    )
}

pub(crate) fn zip_scalar<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    op: Binary,
    a: &mut Buf<D, T>,
    s: T,
) -> Result<()> {
    let n = a.len();
    b.items(
        T::PRECISION,
        &kernels::ZIP_SCALAR_REAL,
        n,
        &[
            Arg::Mem(&a.mem),
            Arg::size(n)?,
            Arg::real(s),
            Arg::I32(binary_code(op)),
        ],
    )
}

/// The precision and the real and imaginary parts of a field element, as f64.
fn parts<E: Field>(v: E) -> Result<(Precision, f64, f64)> {
    let w = words(&v);
    let f32_of = |i: usize| f32::from_bits(w[i]) as f64;
    let f64_of = |i: usize| f64::from_bits(w[i] as u64 | ((w[i + 1] as u64) << 32));
    Ok(match E::KIND {
        ElemKind::Real(p @ Precision::F32) => (p, f32_of(0), 0.0),
        ElemKind::Real(p @ Precision::F64) => (p, f64_of(0), 0.0),
        ElemKind::Complex(p @ Precision::F32) => (p, f32_of(0), f32_of(1)),
        ElemKind::Complex(p @ Precision::F64) => (p, f64_of(0), f64_of(2)),
        ElemKind::U32 => {
            return Err(Error::InvalidArgument(
                "arithmetic on an index buffer".into(),
            ))
        }
    })
}

pub(crate) fn axpby<D: Driver, E: Field>(
    b: &GpuBackend<D>,
    alpha: E,
    x: &Buf<D, E>,
    beta: E,
    y: &mut Buf<D, E>,
) -> Result<()> {
    check::same_len("axpby", y.shape(), x.shape())?;
    let n = x.len();
    let (p, ar, ai) = parts(alpha)?;
    let (_, br, bi) = parts(beta)?;
    let mut args = vec![Arg::Mem(&x.mem), Arg::Mem(&y.mem), Arg::size(n)?];
    let kernel = if matches!(E::KIND, ElemKind::Real(_)) {
        args.extend([Arg::real_in(p, ar), Arg::real_in(p, br)]);
        &kernels::AXPBY_REAL
    } else {
        args.extend([ar, ai, br, bi].map(|v| Arg::real_in(p, v)));
        &kernels::AXPBY_COMPLEX
    };
    b.items(p, kernel, n, &args)
}

pub(crate) fn scale<D: Driver, E: Field>(
    b: &GpuBackend<D>,
    x: &mut Buf<D, E>,
    alpha: E,
) -> Result<()> {
    let n = x.len();
    let (p, ar, ai) = parts(alpha)?;
    let mut args = vec![Arg::Mem(&x.mem), Arg::size(n)?, Arg::real_in(p, ar)];
    let kernel = if matches!(E::KIND, ElemKind::Real(_)) {
        &kernels::SCALE_REAL
    } else {
        args.push(Arg::real_in(p, ai));
        &kernels::SCALE_COMPLEX
    };
    b.items(p, kernel, n, &args)
}

pub(crate) fn cmul<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    a: &mut Buf<D, C<T>>,
    x: &Buf<D, C<T>>,
    conj_b: bool,
) -> Result<()> {
    check::divides("cmul", a.shape(), x.shape())?;
    let (n, nb) = (a.len(), x.len());
    b.items(
        T::PRECISION,
        &kernels::CMUL_COMPLEX,
        n,
        &[
            Arg::Mem(&a.mem),
            Arg::Mem(&x.mem),
            Arg::size(n)?,
            Arg::size(nb.max(1))?,
            Arg::I32(conj_b as i32),
        ],
    )
}

pub(crate) fn conj<D: Driver, T: Real>(b: &GpuBackend<D>, z: &mut Buf<D, C<T>>) -> Result<()> {
    let n = z.len();
    b.items(
        T::PRECISION,
        &kernels::CONJ_COMPLEX,
        n,
        &[Arg::Mem(&z.mem), Arg::size(n)?],
    )
}

pub(crate) fn to_complex<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    x: &Buf<D, T>,
    out: &mut Buf<D, C<T>>,
) -> Result<()> {
    check::same_len("to_complex", out.shape(), x.shape())?;
    let n = x.len();
    b.items(
        T::PRECISION,
        &kernels::REAL_TO_COMPLEX,
        n,
        &[Arg::Mem(&x.mem), Arg::Mem(&out.mem), Arg::size(n)?],
    )
}

pub(crate) fn complex_part<D: Driver, T: Real>(
    b: &GpuBackend<D>,
    z: &Buf<D, C<T>>,
    part: Part,
    out: &mut Buf<D, T>,
) -> Result<()> {
    check::same_len("complex_part", out.shape(), z.shape())?;
    let code = match part {
        Part::Re => 0,
        Part::Im => 1,
        Part::Abs => 2,
    };
    let n = z.len();
    b.items(
        T::PRECISION,
        &kernels::COMPLEX_PART,
        n,
        &[
            Arg::Mem(&z.mem),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            Arg::I32(code),
        ],
    )
}
