//! numpy arrays in and out: checked (dtype, number of dimensions, finite values), copied into
//! C-order host arrays whatever the input's order or strides, in the precision asked for.

use backend_core::{Precision, Real, C};
use epri_demos::io::HostArray;
use ndarray::ArrayD;
use numpy::{
    Complex32, Complex64, Element, IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// The precision of a float32 / float64 numpy array; `TypeError` for any other object or dtype.
pub fn precision_of(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Precision> {
    let arr = untyped(obj, name, "float32 or float64")?;
    let dt = arr.dtype();
    match (dt.kind(), dt.itemsize()) {
        (b'f', 4) => Ok(Precision::F32),
        (b'f', 8) => Ok(Precision::F64),
        _ => Err(PyTypeError::new_err(format!(
            "{name} has dtype {dt}, expected float32 or float64"
        ))),
    }
}

fn untyped<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
    what: &str,
) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    obj.cast::<PyUntypedArray>().map_err(|_| {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!(
            "{name} must be a numpy array of {what}, got an object of type {ty}"
        ))
    })
}

fn check_ndim(arr: &Bound<'_, PyUntypedArray>, name: &str, ndims: &[usize]) -> PyResult<()> {
    if ndims.contains(&arr.ndim()) {
        return Ok(());
    }
    let expect = ndims
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    Err(PyValueError::new_err(format!(
        "{name} has {} dimensions (shape {:?}), expected {expect}",
        arr.ndim(),
        arr.shape()
    )))
}

fn read<T: Element + Clone>(arr: &Bound<'_, PyUntypedArray>, name: &str) -> PyResult<ArrayD<T>> {
    let typed = arr
        .cast::<PyArrayDyn<T>>()
        .map_err(|e| PyTypeError::new_err(format!("{name}: {e}")))?;
    let view = typed
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name} cannot be read: {e}")))?;
    Ok(view.as_array().as_standard_layout().into_owned())
}

/// A real array argument: float32 or float64, `ndims` dimensions, finite values; converted to
/// `precision` (its own when `None`). Errors: `TypeError` (not an array, other dtype),
/// `ValueError` (number of dimensions, NaN or infinity) naming the argument.
pub fn real_array(
    obj: &Bound<'_, PyAny>,
    name: &str,
    ndims: &[usize],
    precision: Option<Precision>,
) -> PyResult<HostArray> {
    let given = precision_of(obj, name)?;
    let arr = untyped(obj, name, "float32 or float64")?;
    check_ndim(arr, name, ndims)?;
    let host = match given {
        Precision::F32 => HostArray::F32(read::<f32>(arr, name)?),
        Precision::F64 => HostArray::F64(read::<f64>(arr, name)?),
    };
    let finite = match &host {
        HostArray::F32(a) => a.iter().all(|x| x.is_finite()),
        HostArray::F64(a) => a.iter().all(|x| x.is_finite()),
    };
    if !finite {
        return Err(PyValueError::new_err(format!(
            "{name} holds non-finite values (NaN or infinity)"
        )));
    }
    Ok(match precision {
        Some(Precision::F32) if given == Precision::F64 => HostArray::F32(host.to_real::<f32>()),
        Some(Precision::F64) if given == Precision::F32 => HostArray::F64(host.to_real::<f64>()),
        _ => host,
    })
}

/// A list (or tuple) of real arrays, each as [`real_array`], named `name[i]`.
pub fn real_arrays(
    obj: &Bound<'_, PyAny>,
    name: &str,
    ndims: &[usize],
    precision: Option<Precision>,
) -> PyResult<Vec<HostArray>> {
    list(obj, name, |a, item| real_array(a, item, ndims, precision))
}

/// The items of the list (or tuple) `obj`, each read by `read(item, "name[i]")`.
pub fn list<T>(
    obj: &Bound<'_, PyAny>,
    name: &str,
    read: impl Fn(&Bound<'_, PyAny>, &str) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    sequence(obj, name)?
        .iter()
        .enumerate()
        .map(|(i, a)| read(a, &format!("{name}[{i}]")))
        .collect()
}

/// A list of lists, each item read by `read(item, "name[i][j]")`.
pub fn nested<T>(
    obj: &Bound<'_, PyAny>,
    name: &str,
    read: impl Fn(&Bound<'_, PyAny>, &str) -> PyResult<T>,
) -> PyResult<Vec<Vec<T>>> {
    list(obj, name, |row, row_name| list(row, row_name, &read))
}

/// The precision of the first array of the list (or tuple) `obj` (`name[0]`); float32 for an
/// empty list (whose emptiness the operator reports).
pub fn first_precision(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Precision> {
    match sequence(obj, name)?.first() {
        Some(a) => precision_of(a, &format!("{name}[0]")),
        None => Ok(Precision::F32),
    }
}

/// The items of a list or tuple; `TypeError` for anything else (a numpy array included).
pub fn sequence<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if let Ok(l) = obj.cast::<pyo3::types::PyList>() {
        return Ok(l.iter().collect());
    }
    if let Ok(t) = obj.cast::<pyo3::types::PyTuple>() {
        return Ok(t.iter().collect());
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be a list or tuple of numpy arrays"
    )))
}

/// A complex array in one of the two precisions.
#[derive(Clone, Debug)]
pub enum HostComplex {
    /// complex64.
    C32(ArrayD<Complex32>),
    /// complex128.
    C64(ArrayD<Complex64>),
}

impl HostComplex {
    /// The values as `C<T>`, C order.
    pub fn to_complex<T: Real>(&self) -> ArrayD<C<T>> {
        match self {
            HostComplex::C32(a) => a.mapv(|z| C::new(T::of(z.re as f64), T::of(z.im as f64))),
            HostComplex::C64(a) => a.mapv(|z| C::new(T::of(z.re), T::of(z.im))),
        }
    }

    /// Wraps an array of `C<T>` in its own precision.
    pub fn from_complex<T: Real>(a: ArrayD<C<T>>) -> Self {
        match T::PRECISION {
            Precision::F32 => {
                HostComplex::C32(a.mapv(|z| Complex32::new(z.re.f64() as f32, z.im.f64() as f32)))
            }
            Precision::F64 => HostComplex::C64(a.mapv(|z| Complex64::new(z.re.f64(), z.im.f64()))),
        }
    }
}

/// A complex array argument of the complex dtype of `precision` (complex64 for float32,
/// complex128 for float64) with `ndim` dimensions. Errors as [`real_array`].
pub fn complex_array(
    obj: &Bound<'_, PyAny>,
    name: &str,
    ndim: usize,
    precision: Precision,
) -> PyResult<HostComplex> {
    let (want, size) = match precision {
        Precision::F32 => ("complex64", 8),
        Precision::F64 => ("complex128", 16),
    };
    let arr = untyped(obj, name, want)?;
    let dt = arr.dtype();
    if (dt.kind(), dt.itemsize()) != (b'c', size) {
        return Err(PyTypeError::new_err(format!(
            "{name} has dtype {dt}, expected {want} (the complex dtype of the image's precision)"
        )));
    }
    check_ndim(arr, name, &[ndim])?;
    Ok(match precision {
        Precision::F32 => HostComplex::C32(read::<Complex32>(arr, name)?),
        Precision::F64 => HostComplex::C64(read::<Complex64>(arr, name)?),
    })
}

/// A host array as a new numpy array of its precision.
pub fn to_numpy<'py>(py: Python<'py>, a: HostArray) -> Bound<'py, PyAny> {
    match a {
        HostArray::F32(a) => a.into_pyarray(py).into_any(),
        HostArray::F64(a) => a.into_pyarray(py).into_any(),
    }
}

/// A complex host array as a new numpy array.
pub fn complex_to_numpy<'py>(py: Python<'py>, a: HostComplex) -> Bound<'py, PyAny> {
    match a {
        HostComplex::C32(a) => a.into_pyarray(py).into_any(),
        HostComplex::C64(a) => a.into_pyarray(py).into_any(),
    }
}

/// A shape argument: a sequence of integers of at least 2 with `ndim` entries, axes (Y, X),
/// (Y, X, Z) or, for `ndim` 4, (Nb, Y, X, Z).
pub fn shape(obj: &Bound<'_, PyAny>, name: &str, ndim: usize) -> PyResult<Vec<usize>> {
    let s: Vec<i64> = obj
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a sequence of integers")))?;
    if s.len() != ndim || s.iter().any(|&n| n < 2) {
        let axes = match ndim {
            2 => "Y, X",
            3 => "Y, X, Z",
            _ => "Nb, Y, X, Z",
        };
        return Err(PyValueError::new_err(format!(
            "{name} = {s:?}: expected {ndim} lengths ({axes}) of at least 2 each"
        )));
    }
    Ok(s.into_iter().map(|n| n as usize).collect())
}
