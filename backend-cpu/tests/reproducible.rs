//! Bit-reproducibility of the CPU backend: the same type-1 NUFFT gives the same bits on every
//! run and for every thread count (`cargo test -p backend-cpu --release --test reproducible`).

mod cpu {
    use backend_core::nufft::{NufftPlan, NufftType};
    use backend_core::{Backend, C};
    use backend_cpu::CpuBackend;
    use ndarray::Array1;

    /// The bits of a type-1 NUFFT (`f32`, eps 1e-6, 16³ modes) of `m` pseudo-random points,
    /// clustered near the origin as EPR frequency nodes are (many boxes overlap there), run on
    /// a pool of `threads` threads: the complex modes, or with `real` their real part from a
    /// plan of real modes (half-spectrum fine grid).
    fn type1_bits(m: usize, threads: usize, real: bool) -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let b = CpuBackend::new().unwrap();
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            let mut uniform = move || {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let pi = std::f32::consts::PI;
            let coords: Vec<Array1<f32>> = (0..3)
                .map(|_| {
                    (0..m)
                        .map(|_| {
                            let u = 2.0 * uniform() as f32 - 1.0;
                            pi * u * u * u
                        })
                        .collect()
                })
                .collect();
            let strengths: Vec<C<f32>> = (0..m)
                .map(|_| C::new(uniform() as f32 - 0.5, uniform() as f32 - 0.5))
                .collect();
            let views: Vec<_> = coords.iter().map(|a| a.view()).collect();
            let (ty, modes) = (NufftType::Type1, [16, 16, 16]);
            let input = b.upload_flat(&[1, m], strengths).unwrap();
            if real {
                let mut plan =
                    NufftPlan::<CpuBackend, f32>::new_real(&b, ty, &modes, 1, 1e-6, None).unwrap();
                plan.set_points(&views).unwrap();
                let mut out = b.zeros::<f32>(&[1, 16, 16, 16]).unwrap();
                plan.execute_to_real(&input, &mut out).unwrap();
                return out.as_slice().iter().map(|v| v.to_bits()).collect();
            }
            let mut plan = NufftPlan::<CpuBackend, f32>::new(&b, ty, &modes, 1, 1e-6).unwrap();
            plan.set_points(&views).unwrap();
            let mut out = b.zeros::<C<f32>>(&[1, 16, 16, 16]).unwrap();
            plan.execute(&input, &mut out).unwrap();
            out.as_slice()
                .iter()
                .flat_map(|z| [z.re.to_bits(), z.im.to_bits()])
                .collect()
        })
    }

    #[test]
    fn nufft_type1_same_bits_every_run_and_thread_count() {
        same_bits(false);
    }

    #[test]
    fn nufft_type1_real_part_same_bits_every_run_and_thread_count() {
        same_bits(true);
    }

    fn same_bits(real: bool) {
        let m = 40_000;
        let want = type1_bits(m, 1, real);
        assert!(want.iter().any(|&v| f32::from_bits(v) != 0.0));
        for threads in [1, 2, 3, 4] {
            for run in 0..4 {
                let got = type1_bits(m, threads, real);
                let differ = got.iter().zip(&want).filter(|(g, w)| g != w).count();
                assert_eq!(
                    differ,
                    0,
                    "{threads} threads, run {run}: {differ} of {} values differ in bits from \
                     the 1-thread result",
                    want.len()
                );
            }
        }
    }
}
