//! [`Profile`]: what a device backend has been asked to do so far — kernel launches, bytes
//! allocated and moved — counted when the environment variable `EPRI_PROFILE=1` is set, so
//! that the cost of an iteration is measurable without a GPU (differences of two snapshots).

/// Running totals since the device was opened ([`crate::Backend::profile`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// Kernel launches.
    pub launches: u64,
    /// Bytes of device memory allocated (not net of frees).
    pub allocated_bytes: u64,
    /// Bytes copied host -> device.
    pub uploaded_bytes: u64,
    /// Bytes copied device -> host.
    pub downloaded_bytes: u64,
    /// Host <-> device transfers (uploads and downloads, each one).
    pub transfers: u64,
}

impl Profile {
    /// Whether `EPRI_PROFILE=1` asks for counting.
    pub fn enabled() -> bool {
        std::env::var("EPRI_PROFILE").is_ok_and(|v| v == "1")
    }
}

impl std::ops::Sub for Profile {
    type Output = Profile;

    /// What happened between two snapshots (`later - earlier`).
    fn sub(self, earlier: Profile) -> Profile {
        Profile {
            launches: self.launches - earlier.launches,
            allocated_bytes: self.allocated_bytes - earlier.allocated_bytes,
            uploaded_bytes: self.uploaded_bytes - earlier.uploaded_bytes,
            downloaded_bytes: self.downloaded_bytes - earlier.downloaded_bytes,
            transfers: self.transfers - earlier.transfers,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} launches, {} transfers ({} B up, {} B down), {} B allocated",
            self.launches,
            self.transfers,
            self.uploaded_bytes,
            self.downloaded_bytes,
            self.allocated_bytes
        )
    }
}
