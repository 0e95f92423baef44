//! `epri.io.load`: Bruker BES3T datasets (`.DSC` + `.DTA`), read by epri's reader.

use crate::errors::to_pyerr;
use epri_demos::io::bes3t::read_bes3t;
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;

/// Reads the BES3T dataset of `path` (its `.DSC` or its `.DTA`; the other file in the same
/// folder) as PyEPRI's dict: `B` `(Nb,)` in G, `DAT` the data (`(P, Nb)` projections or an
/// `(Nb,)` spectrum), `FGRAD` `(d, P)` in G/cm for projections, `PARAM` the descriptor's
/// key/value pairs as strings (layers, then device blocks as `device.key`). Arrays in `dtype`
/// (`"float32"` or `"float64"`).
#[pyfunction]
pub fn load_bes3t<'py>(py: Python<'py>, path: &str, dtype: &str) -> PyResult<Bound<'py, PyDict>> {
    let single = match dtype {
        "float32" => true,
        "float64" => false,
        _ => {
            return Err(PyValueError::new_err(format!(
                "dtype = {dtype}: expected float32 or float64"
            )))
        }
    };
    let path = Path::new(path);
    let data = py.detach(|| read_bes3t(path)).map_err(to_pyerr)?;
    let out = PyDict::new(py);
    let put = |key: &str, a: ndarray::ArrayD<f64>| -> PyResult<()> {
        if single {
            out.set_item(key, a.mapv(|x| x as f32).into_pyarray(py))
        } else {
            out.set_item(key, a.into_pyarray(py))
        }
    };
    put("B", data.b.into_dyn())?;
    put("DAT", data.data)?;
    if let Some(f) = data.fgrad {
        put("FGRAD", f.into_dyn())?;
    }
    let param = PyDict::new(py);
    for params in data.descriptor.layers.values() {
        for (k, v) in params {
            param.set_item(k, v)?;
        }
    }
    for (device, params) in &data.descriptor.devices {
        for (k, v) in params {
            param.set_item(format!("{device}.{k}"), v)?;
        }
    }
    out.set_item("PARAM", param)?;
    Ok(out)
}
