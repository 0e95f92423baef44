//! The counters behind [`backend_core::Backend::profile`]: every launch, allocation and host
//! transfer of the GPU layer passes here (one relaxed atomic add each, only under
//! `EPRI_PROFILE=1`).

use backend_core::Profile;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Running totals of one device.
#[derive(Default)]
pub(crate) struct Counters {
    enabled: bool,
    launches: AtomicU64,
    allocated_bytes: AtomicU64,
    uploaded_bytes: AtomicU64,
    downloaded_bytes: AtomicU64,
    transfers: AtomicU64,
}

impl Counters {
    /// Counting when `EPRI_PROFILE=1`.
    pub(crate) fn from_env() -> Self {
        Counters {
            enabled: Profile::enabled(),
            ..Default::default()
        }
    }

    fn add(&self, counter: &AtomicU64, n: usize) {
        if self.enabled {
            counter.fetch_add(n as u64, Relaxed);
        }
    }

    pub(crate) fn launch(&self) {
        self.add(&self.launches, 1);
    }

    pub(crate) fn alloc(&self, bytes: usize) {
        self.add(&self.allocated_bytes, bytes);
    }

    pub(crate) fn upload(&self, bytes: usize) {
        self.add(&self.uploaded_bytes, bytes);
        self.add(&self.transfers, 1);
    }

    pub(crate) fn download(&self, bytes: usize) {
        self.add(&self.downloaded_bytes, bytes);
        self.add(&self.transfers, 1);
    }

    /// The totals, `None` unless counting.
    pub(crate) fn snapshot(&self) -> Option<Profile> {
        self.enabled.then(|| Profile {
            launches: self.launches.load(Relaxed),
            allocated_bytes: self.allocated_bytes.load(Relaxed),
            uploaded_bytes: self.uploaded_bytes.load(Relaxed),
            downloaded_bytes: self.downloaded_bytes.load(Relaxed),
            transfers: self.transfers.load(Relaxed),
        })
    }
}
