//! The generic conformance suite on the CPU backend: `cargo test -p backend-cpu --release`.

backend_core::conformance_suite!(cpu, backend_cpu::CpuBackend::new);
