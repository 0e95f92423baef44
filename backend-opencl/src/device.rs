//! Device discovery (once per process) and the handles of the devices opened so far.

use crate::driver::OpenClDriver;
use backend_core::{Error, Result};
use backend_gpu::{Discover, GpuBackend};
use opencl3::device::{Device, CL_DEVICE_TYPE_ALL};
use opencl3::platform::get_platforms;
use std::sync::{Mutex, OnceLock};

/// One device found at discovery.
struct Entry {
    platform: usize,
    index: usize,
    device: Device,
    name: String,
    platform_name: String,
}

/// Platforms and devices, discovered once per process: PoCL returns no device to some threads
/// when several discover at the same time (ENVIRONMENT.md §2).
static DISCOVERY: OnceLock<std::result::Result<Vec<Entry>, String>> = OnceLock::new();

/// The devices opened so far, so that every backend handle on a device shares one context,
/// one queue and one program cache.
static OPENED: Mutex<Vec<OpenDevice>> = Mutex::new(Vec::new());

/// `(platform, device)` and its handle.
type OpenDevice = ((usize, usize), GpuBackend<OpenClDriver>);

fn discover() -> Result<&'static [Entry]> {
    let found = DISCOVERY.get_or_init(|| {
        let platforms = get_platforms().map_err(|e| match e.0 {
            -2000 => "the OpenCL loader libOpenCL.so.1 was not found (install ocl-icd-libopencl1 and an ICD such as pocl-opencl-icd)".to_string(),
            -1001 => "no OpenCL platform is installed (no ICD found by the loader)".to_string(),
            _ => format!("listing OpenCL platforms failed: {e}"),
        })?;
        let mut out = Vec::new();
        for (pi, p) in platforms.iter().enumerate() {
            let platform_name = p.name().unwrap_or_else(|_| format!("platform {pi}"));
            // A platform without devices answers CL_DEVICE_NOT_FOUND: none listed.
            let ids = p.get_devices(CL_DEVICE_TYPE_ALL).unwrap_or_default();
            for (di, id) in ids.into_iter().enumerate() {
                let device = Device::new(id);
                let name = device.name().unwrap_or_else(|_| format!("device {di}"));
                out.push(Entry {
                    platform: pi,
                    index: di,
                    device,
                    name: name.trim().to_string(),
                    platform_name: platform_name.trim().to_string(),
                });
            }
        }
        Ok(out)
    });
    found
        .as_ref()
        .map(|v| v.as_slice())
        .map_err(|e| Error::DeviceUnavailable(e.clone()))
}

/// The discovered device `spec` (`None`: the first one).
fn find(spec: Option<(usize, usize)>) -> Result<&'static Entry> {
    let entries = discover()?;
    match spec {
        None => entries.first().ok_or_else(|| {
            Error::DeviceUnavailable("no OpenCL device found on any platform".into())
        }),
        Some((p, d)) => entries
            .iter()
            .find(|e| e.platform == p && e.index == d)
            .ok_or_else(|| {
                let known: Vec<String> = entries
                    .iter()
                    .map(|e| format!("opencl:{}:{}", e.platform, e.index))
                    .collect();
                Error::DeviceUnavailable(format!(
                    "no OpenCL device opencl:{p}:{d}; devices present: [{}]",
                    known.join(", ")
                ))
            }),
    }
}

/// Opens device `spec` (as [`Discover::open`]) as a handle of its own — its own context, queue
/// and programs, shared with no other handle — whose programs transform `fft_lanes` lines per
/// work group in the local-memory FFT kernels instead of the device's choice
/// ([`backend_gpu::Caps::fft_lanes`]): 1 runs their GPU form on a CPU device. `fft_lanes` must
/// be 1, 2, 4 or 8 ([`Error::InvalidArgument`] otherwise).
pub fn open_with_fft_lanes(
    spec: Option<(usize, usize)>,
    fft_lanes: usize,
) -> Result<GpuBackend<OpenClDriver>> {
    if !matches!(fft_lanes, 1 | 2 | 4 | 8) {
        return Err(Error::InvalidArgument(format!(
            "{fft_lanes} FFT lanes: 1, 2, 4 or 8 expected"
        )));
    }
    let entry = find(spec)?;
    let label = format!("opencl:{}:{} ({})", entry.platform, entry.index, entry.name);
    let driver = OpenClDriver::new(entry.device, label, Some(fft_lanes))?;
    Ok(GpuBackend::from_driver(driver))
}

impl Discover for OpenClDriver {
    /// `(platform, device)` as listed by [`Discover::list_devices`], or `None` for the first
    /// device found.
    type Spec = Option<(usize, usize)>;

    /// Opens the device (see [`Discover::open`]).
    fn open(spec: Option<(usize, usize)>) -> Result<GpuBackend<Self>> {
        let entry = find(spec)?;
        let key = (entry.platform, entry.index);
        let mut opened = OPENED
            .lock()
            .map_err(|_| Error::Device("OpenCL device table poisoned".into()))?;
        if let Some((_, s)) = opened.iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let label = format!("opencl:{}:{} ({})", key.0, key.1, entry.name);
        let backend = GpuBackend::from_driver(OpenClDriver::new(entry.device, label, None)?);
        opened.push((key, backend.clone()));
        Ok(backend)
    }

    /// One line per OpenCL device: `opencl:<platform>:<device>  <name> (<platform name>)`.
    fn list_devices() -> Result<Vec<String>> {
        Ok(discover()?
            .iter()
            .map(|e| {
                format!(
                    "opencl:{}:{}  {} ({})",
                    e.platform, e.index, e.name, e.platform_name
                )
            })
            .collect())
    }
}
