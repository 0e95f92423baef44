//! Naming a backend at run time: `cpu`, `opencl`, `opencl:<platform>:<device>`, `cuda`,
//! `cuda:<index>` (PyEPRI's `create_numpy_backend()` / `create_torch_backend('cuda:0')`).

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A parsed backend name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The CPU backend (ndarray + rayon + rustfft).
    Cpu,
    /// An OpenCL device; `None` picks the first platform/device found.
    OpenCl {
        /// Platform index and device index within it.
        index: Option<(usize, usize)>,
    },
    /// A CUDA device (ordinal, default 0).
    Cuda {
        /// Device ordinal.
        ordinal: usize,
    },
}

impl FromStr for DeviceSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let unknown = || Error::UnknownBackend {
            name: s.to_string(),
        };
        let lower = s.trim().to_ascii_lowercase();
        let mut parts = lower.split(':');
        let head = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        let num = |t: &str| t.parse::<usize>().map_err(|_| unknown());
        match (head, rest.as_slice()) {
            ("cpu", []) => Ok(DeviceSpec::Cpu),
            ("opencl", []) => Ok(DeviceSpec::OpenCl { index: None }),
            ("opencl", [p, d]) => Ok(DeviceSpec::OpenCl {
                index: Some((num(p)?, num(d)?)),
            }),
            ("cuda", []) => Ok(DeviceSpec::Cuda { ordinal: 0 }),
            ("cuda", [i]) => Ok(DeviceSpec::Cuda { ordinal: num(i)? }),
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::OpenCl { index: None } => write!(f, "opencl"),
            DeviceSpec::OpenCl {
                index: Some((p, d)),
            } => write!(f, "opencl:{p}:{d}"),
            DeviceSpec::Cuda { ordinal } => write!(f, "cuda:{ordinal}"),
        }
    }
}

impl DeviceSpec {
    /// The Cargo feature that compiles this backend in (`None` for the CPU, always there).
    pub fn feature(&self) -> Option<&'static str> {
        match self {
            DeviceSpec::Cpu => None,
            DeviceSpec::OpenCl { .. } => Some("opencl"),
            DeviceSpec::Cuda { .. } => Some("cuda"),
        }
    }

    /// The error for a backend this build lacks.
    pub fn not_compiled(&self) -> Error {
        Error::NotCompiled {
            name: self.to_string(),
            feature: self.feature().unwrap_or("cpu"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!(
            "opencl".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::OpenCl { index: None }
        );
        assert_eq!(
            "OpenCL:1:2".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::OpenCl {
                index: Some((1, 2))
            }
        );
        assert_eq!(
            "cuda:3".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Cuda { ordinal: 3 }
        );
    }

    #[test]
    fn unknown_names_are_errors_that_say_so() {
        for bad in ["gpu", "cuda:x", "opencl:1", "cpu:0", ""] {
            let e = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(matches!(e, Error::UnknownBackend { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("unknown backend"));
        }
    }
}
