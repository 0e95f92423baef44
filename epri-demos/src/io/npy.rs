//! `.npy` files (numpy's format), C- or Fortran-ordered, `float32` or `float64`.

use super::array::HostArray;
use crate::error::{Error, Result};
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt, WriteNpyExt};
use std::path::Path;

/// Reads a `float32` or `float64` `.npy` file of any dimension. Fortran-ordered files
/// (`fortran_order: True`, as PyEPRI's `fgrad` arrays) keep their logical shape and values.
pub fn read_npy(path: &Path) -> Result<HostArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, io_msg(&e)))?;
    match ArrayD::<f32>::read_npy(&bytes[..]) {
        Ok(a) => Ok(HostArray::F32(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => match ArrayD::<f64>::read_npy(&bytes[..]) {
            Ok(a) => Ok(HostArray::F64(a)),
            Err(ReadNpyError::WrongDescriptor(d)) => Err(Error::file(
                path,
                format!("unsupported element type {d}: epri reads float32 and float64 arrays"),
            )),
            Err(e) => Err(Error::file(path, npy_msg(&e))),
        },
        Err(e) => Err(Error::file(path, npy_msg(&e))),
    }
}

/// Writes `a` as a C-ordered `.npy` file in its own precision (`float32` or `float64`),
/// creating the parent folder if needed; atomically (see [`super::output::write_atomic`]).
pub fn write_npy(path: &Path, a: &HostArray) -> Result<()> {
    super::output::write_atomic(path, |w| {
        match a {
            HostArray::F32(a) => a.as_standard_layout().write_npy(w),
            HostArray::F64(a) => a.as_standard_layout().write_npy(w),
        }
        .map_err(|e| e.to_string())
    })
}

fn npy_msg(e: &ReadNpyError) -> String {
    match e {
        ReadNpyError::Io(e) => io_msg(e),
        ReadNpyError::MissingData => {
            "truncated .npy file (fewer values than its shape says)".into()
        }
        ReadNpyError::ParseHeader(e) => format!("not a valid .npy file ({e})"),
        other => format!("not a valid .npy file ({other})"),
    }
}

/// An I/O error in plain words.
pub(crate) fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory, not a file".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backend_core::Precision;

    #[test]
    fn fortran_ordered_fgrad_keeps_its_logical_layout() {
        // fgrad.npy of phalanx is stored with fortran_order: True, shape (2, 113).
        let dir = crate::datasets::datasets_root().join("phalanx-20220203");
        let f = read_npy(&dir.join("fgrad.npy")).unwrap();
        assert_eq!(f.shape(), &[2, 113]);
        let g = f.to_f64();
        // Every column is a gradient of magnitude 168 G/cm at angle 0.796° + k·(180/113)°.
        for k in 0..113 {
            let (gx, gy) = (g[[0, k]], g[[1, k]]);
            assert!(
                ((gx * gx + gy * gy).sqrt() - 168.0).abs() < 1e-3,
                "column {k}"
            );
            let a = gy.atan2(gx).to_degrees();
            let expect = 0.796460 + k as f64 * 178.40708 / 112.0;
            assert!((a - expect).abs() < 1e-3, "column {k}: {a} vs {expect}");
        }
    }

    #[test]
    fn round_trip_in_both_precisions() {
        let dir = std::env::temp_dir().join(format!("epri-npy-{}", std::process::id()));
        let a = ArrayD::from_shape_fn(ndarray::IxDyn(&[3, 4]), |i| (i[0] * 10 + i[1]) as f64 + 0.5);
        let p = dir.join("a64.npy");
        write_npy(&p, &HostArray::F64(a.clone())).unwrap();
        let b = read_npy(&p).unwrap();
        assert_eq!(b.precision(), Precision::F64);
        assert_eq!(b.to_f64(), a);
        let p = dir.join("a32.npy");
        write_npy(&p, &HostArray::from_real(a.mapv(|x| x as f32))).unwrap();
        assert_eq!(read_npy(&p).unwrap().precision(), Precision::F32);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
