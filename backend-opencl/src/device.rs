//! Device discovery (once per process), the shared context / queue / programs of one device,
//! and the mapping of OpenCL error codes to [`Error`].

use crate::launch::Programs;
use backend_core::{Error, Precision, Result};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{Device, CL_DEVICE_TYPE_ALL};
use opencl3::error_codes::ClError;
use opencl3::platform::get_platforms;
use std::sync::{Arc, Mutex, OnceLock};

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

/// The shared state of each device opened so far, so that every backend handle on a device
/// shares one context, one queue and one program cache.
static OPENED: Mutex<Vec<OpenDevice>> = Mutex::new(Vec::new());

/// `(platform, device)` and its shared state.
type OpenDevice = ((usize, usize), Arc<Shared>);

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

/// One line per OpenCL device: `opencl:<platform>:<device>  <name> (<platform name>)`.
pub fn list_devices() -> Result<Vec<String>> {
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

/// What every handle on one device shares.
pub(crate) struct Shared {
    /// `opencl:P:D (device name)`.
    pub label: String,
    device: Device,
    pub context: Context,
    pub queue: CommandQueue,
    /// The device reports `cl_khr_fp64`.
    pub fp64: bool,
    /// Work-group size of the elementwise launches.
    pub group: usize,
    programs: [OnceLock<std::result::Result<Programs, String>>; 2],
}

impl Shared {
    /// The device `spec = (platform, device)`, or the first one found; opened once per process.
    pub fn open(spec: Option<(usize, usize)>) -> Result<Arc<Shared>> {
        let entries = discover()?;
        let entry = match spec {
            None => entries.first().ok_or_else(|| {
                Error::DeviceUnavailable("no OpenCL device found on any platform".into())
            })?,
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
                })?,
        };
        let key = (entry.platform, entry.index);
        let mut opened = OPENED
            .lock()
            .map_err(|_| Error::Device("OpenCL device table poisoned".into()))?;
        if let Some((_, s)) = opened.iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let label = format!("opencl:{}:{} ({})", key.0, key.1, entry.name);
        let context = Context::from_device(&entry.device).map_err(|e| cl_error(&label, e))?;
        #[allow(deprecated)]
        let queue = CommandQueue::create_default(&context, 0).map_err(|e| cl_error(&label, e))?;
        let fp64 = entry
            .device
            .extensions()
            .map(|x| x.split_whitespace().any(|e| e == "cl_khr_fp64"))
            .unwrap_or(false);
        let group = entry
            .device
            .max_work_group_size()
            .unwrap_or(64)
            .clamp(1, 128);
        let shared = Arc::new(Shared {
            label,
            device: entry.device,
            context,
            queue,
            fp64,
            group,
            programs: [OnceLock::new(), OnceLock::new()],
        });
        opened.push((key, shared.clone()));
        Ok(shared)
    }

    /// The program of one precision, built on first use (f64 needs `cl_khr_fp64`).
    pub fn programs(&self, p: Precision) -> Result<&Programs> {
        let slot = match p {
            Precision::F32 => 0,
            Precision::F64 => {
                if !self.fp64 {
                    return Err(Error::precision_unsupported(&self.label, p));
                }
                1
            }
        };
        self.programs[slot]
            .get_or_init(|| Programs::build(&self.context, self.device, p == Precision::F64))
            .as_ref()
            .map_err(|log| Error::KernelBuild { log: log.clone() })
    }
}

/// Maps an OpenCL error code: allocation failures to [`Error::OutOfMemory`], a missing
/// loader / platform to [`Error::DeviceUnavailable`], the rest to [`Error::Device`].
pub(crate) fn cl_error(what: &str, e: ClError) -> Error {
    match e.0 {
        // MEM_OBJECT_ALLOCATION_FAILURE, OUT_OF_RESOURCES, OUT_OF_HOST_MEMORY, INVALID_BUFFER_SIZE
        -4 | -5 | -6 | -61 => Error::OutOfMemory(format!("{what}: {e}")),
        -2000 | -1001 => Error::DeviceUnavailable(format!("{what}: {e}")),
        _ => Error::Device(format!("{what}: {e}")),
    }
}
