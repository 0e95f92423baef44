//! Elementwise maps on real and complex buffers (kernels of elementwise.cl).

use crate::backend::{check_len, CudaBackend};
use crate::buffer::{bytes, CudaBuffer};
use crate::kernels;
use crate::program::{Arg, Range};
use backend_core::{
    Binary, DeviceBuffer, ElemKind, Element, Error, Field, Part, Precision, Real, Result, Unary, C,
};
use cudarc::driver::CudaSlice;

/// Real and imaginary parts of a real or complex element, as `f64`.
fn parts<E: Element>(v: E) -> (f64, f64) {
    let b = bytes(std::slice::from_ref(&v));
    let f32_at = |i: usize| f32::from_ne_bytes(b[i..i + 4].try_into().unwrap_or_default()) as f64;
    let f64_at = |i: usize| f64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
    match E::KIND {
        ElemKind::Real(Precision::F32) => (f32_at(0), 0.0),
        ElemKind::Real(Precision::F64) => (f64_at(0), 0.0),
        ElemKind::Complex(Precision::F32) => (f32_at(0), f32_at(4)),
        ElemKind::Complex(Precision::F64) => (f64_at(0), f64_at(8)),
        ElemKind::U32 => (
            u32::from_ne_bytes(b[..4].try_into().unwrap_or_default()) as f64,
            0.0,
        ),
    }
}

/// The precision of a real or complex element type.
fn precision_of<E: Element>() -> Result<Precision> {
    E::KIND
        .precision()
        .ok_or_else(|| Error::InvalidArgument("arithmetic on an index (u32) buffer".into()))
}

/// `b.len()` must divide `a.len()` (and be non-zero unless `a` is empty).
fn check_divides(op: &str, a: &[usize], b: &[usize]) -> Result<()> {
    let (na, nb) = (a.iter().product::<usize>(), b.iter().product::<usize>());
    if (nb == 0 && na != 0) || (nb != 0 && na % nb != 0) {
        Err(Error::shape(op, a, b))
    } else {
        Ok(())
    }
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

/// `x[i] <- alpha x[i]` over `n` reals of precision `p` (also a complex buffer by a real factor).
pub(crate) fn scale_reals(
    b: &CudaBackend,
    p: Precision,
    mem: &CudaSlice<u8>,
    n: usize,
    alpha: f64,
) -> Result<()> {
    b.run(
        p,
        &kernels::SCALE_REAL,
        Range::items(n),
        &[Arg::Mem(mem), Arg::size(n)?, Arg::real_in(p, alpha)],
    )
}

pub(crate) fn map<T: Real>(be: &CudaBackend, op: Unary, x: &mut CudaBuffer<T>) -> Result<()> {
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
    be.run(
        T::PRECISION,
        &kernels::MAP_REAL,
        Range::items(n),
        &[Arg::Mem(&x.mem), Arg::size(n)?, Arg::I32(code)],
    )
}

pub(crate) fn zip<T: Real>(
    be: &CudaBackend,
    op: Binary,
    a: &mut CudaBuffer<T>,
    b: &CudaBuffer<T>,
) -> Result<()> {
    check_divides("zip", a.shape(), b.shape())?;
    let n = a.len();
    be.run(
        T::PRECISION,
        &kernels::ZIP_REAL,
        Range::items(n),
        &[
            Arg::Mem(&a.mem),
            Arg::Mem(&b.mem),
            Arg::size(n)?,
            Arg::size(b.len())?,
            Arg::I32(binary_code(op)),
        ],
    )
}

pub(crate) fn zip_scalar<T: Real>(
    be: &CudaBackend,
    op: Binary,
    a: &mut CudaBuffer<T>,
    s: T,
) -> Result<()> {
    let n = a.len();
    be.run(
        T::PRECISION,
        &kernels::ZIP_SCALAR_REAL,
        Range::items(n),
        &[
            Arg::Mem(&a.mem),
            Arg::size(n)?,
            Arg::real(s),
            Arg::I32(binary_code(op)),
        ],
    )
}

pub(crate) fn axpby<E: Field>(
    be: &CudaBackend,
    alpha: E,
    x: &CudaBuffer<E>,
    beta: E,
    y: &mut CudaBuffer<E>,
) -> Result<()> {
    check_len("axpby", y.shape(), x.shape())?;
    let p = precision_of::<E>()?;
    let n = y.len();
    let (ar, ai) = parts(alpha);
    let (br, bi) = parts(beta);
    let mut args = vec![Arg::Mem(&x.mem), Arg::Mem(&y.mem), Arg::size(n)?];
    let name = match E::KIND {
        ElemKind::Complex(_) => {
            args.extend([ar, ai, br, bi].map(|v| Arg::real_in(p, v)));
            &kernels::AXPBY_COMPLEX
        }
        _ => {
            args.extend([ar, br].map(|v| Arg::real_in(p, v)));
            &kernels::AXPBY_REAL
        }
    };
    be.run(p, name, Range::items(n), &args)
}

pub(crate) fn scale<E: Field>(be: &CudaBackend, x: &mut CudaBuffer<E>, alpha: E) -> Result<()> {
    let p = precision_of::<E>()?;
    let n = x.len();
    let (ar, ai) = parts(alpha);
    match E::KIND {
        ElemKind::Complex(_) => be.run(
            p,
            &kernels::SCALE_COMPLEX,
            Range::items(n),
            &[
                Arg::Mem(&x.mem),
                Arg::size(n)?,
                Arg::real_in(p, ar),
                Arg::real_in(p, ai),
            ],
        ),
        _ => scale_reals(be, p, &x.mem, n, ar),
    }
}

pub(crate) fn cmul<T: Real>(
    be: &CudaBackend,
    a: &mut CudaBuffer<C<T>>,
    b: &CudaBuffer<C<T>>,
    conj_b: bool,
) -> Result<()> {
    check_divides("cmul", a.shape(), b.shape())?;
    let n = a.len();
    be.run(
        T::PRECISION,
        &kernels::CMUL_COMPLEX,
        Range::items(n),
        &[
            Arg::Mem(&a.mem),
            Arg::Mem(&b.mem),
            Arg::size(n)?,
            Arg::size(b.len())?,
            Arg::I32(conj_b as i32),
        ],
    )
}

pub(crate) fn conj<T: Real>(be: &CudaBackend, z: &mut CudaBuffer<C<T>>) -> Result<()> {
    let n = z.len();
    be.run(
        T::PRECISION,
        &kernels::CONJ_COMPLEX,
        Range::items(n),
        &[Arg::Mem(&z.mem), Arg::size(n)?],
    )
}

pub(crate) fn to_complex<T: Real>(
    be: &CudaBackend,
    x: &CudaBuffer<T>,
    out: &mut CudaBuffer<C<T>>,
) -> Result<()> {
    check_len("to_complex", out.shape(), x.shape())?;
    let n = x.len();
    be.run(
        T::PRECISION,
        &kernels::REAL_TO_COMPLEX,
        Range::items(n),
        &[Arg::Mem(&x.mem), Arg::Mem(&out.mem), Arg::size(n)?],
    )
}

pub(crate) fn complex_part<T: Real>(
    be: &CudaBackend,
    z: &CudaBuffer<C<T>>,
    part: Part,
    out: &mut CudaBuffer<T>,
) -> Result<()> {
    check_len("complex_part", out.shape(), z.shape())?;
    let code = match part {
        Part::Re => 0,
        Part::Im => 1,
        Part::Abs => 2,
    };
    let n = z.len();
    be.run(
        T::PRECISION,
        &kernels::COMPLEX_PART,
        Range::items(n),
        &[
            Arg::Mem(&z.mem),
            Arg::Mem(&out.mem),
            Arg::size(n)?,
            Arg::I32(code),
        ],
    )
}
