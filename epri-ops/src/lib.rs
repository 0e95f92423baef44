//! epri-ops
