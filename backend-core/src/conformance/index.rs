//! Index maps (gather, scatter, embed, extract, roll) against ndarray indexing, ranks 1 to 5.

use super::{from_flat, host_randn};
use crate::{Backend, DeviceBuffer, Real, C};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

/// Random shapes of ranks 1 to 5 (axes 1 to 7 long), plus one large 2D shape.
fn shapes(rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut s: Vec<Vec<usize>> = (1..=5)
        .flat_map(|r| (0..3).map(move |_| r))
        .map(|r| (0..r).map(|_| rng.random_range(1..=7)).collect())
        .collect();
    s.push(vec![301, 257]);
    s
}

fn gather_scatter_t<B: Backend, T: Real>(b: &B) {
    let mut rng = StdRng::seed_from_u64(30);
    for n in [10, 100_003] {
        let src = host_randn::<T>(&[n], 31);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.shuffle(&mut rng);
        let m = n / 2 + 1;
        let idx = ndarray::Array1::from(perm[..m].to_vec()).into_dyn();
        let (ds, di) = (b.upload(src.view()).unwrap(), b.upload(idx.view()).unwrap());
        let mut out = b.zeros::<T>(&[m]).unwrap();
        b.gather(&ds, &di, &mut out).unwrap();
        let want = idx.mapv(|i| src[i as usize]);
        assert_eq!(b.download(&out).unwrap(), want, "gather n={n}");
        // scatter back into a buffer of -1: positions in idx get src[m], the others stay.
        let mut back = b.full(&[n], T::of(-1.0)).unwrap();
        b.scatter(&out, &di, &mut back).unwrap();
        let mut want = ArrayD::from_elem(IxDyn(&[n]), T::of(-1.0));
        for (k, &i) in idx.iter().enumerate() {
            want[i as usize] = b.download(&out).unwrap()[k];
        }
        assert_eq!(b.download(&back).unwrap(), want, "scatter n={n}");
        // complex and index elements move the same way
        let z = src.mapv(|v| C::new(v, -v));
        let mut zo = b.zeros::<C<T>>(&[m]).unwrap();
        b.gather(&b.upload(z.view()).unwrap(), &di, &mut zo)
            .unwrap();
        assert_eq!(
            b.download(&zo).unwrap(),
            idx.mapv(|i| z[i as usize]),
            "complex gather"
        );
    }
}

/// `gather` then `scatter` with random distinct indices, real and complex.
pub fn gather_scatter<B: Backend>(b: &B) {
    per_precision!(gather_scatter_t, b);
}

fn slice_info(offset: &[usize], len: &[usize]) -> Vec<SliceInfoElem> {
    offset
        .iter()
        .zip(len)
        .map(|(&o, &l)| SliceInfoElem::Slice {
            start: o as isize,
            end: Some((o + l) as isize),
            step: 1,
        })
        .collect()
}

fn embed_extract_t<B: Backend, T: Real>(b: &B) {
    let mut rng = StdRng::seed_from_u64(32);
    for small in shapes(&mut rng) {
        let big: Vec<usize> = small.iter().map(|&n| n + rng.random_range(0..4)).collect();
        let offset: Vec<usize> = small
            .iter()
            .zip(&big)
            .map(|(s, b)| rng.random_range(0..=b - s))
            .collect();
        let x = host_randn::<T>(&small, 33);
        let mut dst = b.full(&big, T::of(7.0)).unwrap();
        b.embed(&b.upload(x.view()).unwrap(), &mut dst, &offset)
            .unwrap();
        let mut want = ArrayD::<T>::zeros(IxDyn(&big));
        want.slice_mut(slice_info(&offset, &small).as_slice())
            .assign(&x);
        assert_eq!(
            b.download(&dst).unwrap(),
            want,
            "embed {small:?} in {big:?} at {offset:?}"
        );

        let y = host_randn::<T>(&big, 34);
        let mut out = b.zeros::<T>(&small).unwrap();
        b.extract(&b.upload(y.view()).unwrap(), &offset, &mut out)
            .unwrap();
        let want = y.slice(slice_info(&offset, &small).as_slice()).to_owned();
        assert_eq!(
            b.download(&out).unwrap(),
            want,
            "extract {small:?} from {big:?} at {offset:?}"
        );
    }
}

/// `embed` (zero padding) and `extract` (cropping) on random shapes of ranks 1 to 5.
pub fn embed_extract<B: Backend>(b: &B) {
    per_precision!(embed_extract_t, b);
}

fn roll_any_rank_t<B: Backend, T: Real>(b: &B) {
    let mut rng = StdRng::seed_from_u64(35);
    for shape in shapes(&mut rng) {
        let shifts: Vec<isize> = shape
            .iter()
            .map(|_| rng.random_range(-9i64..=9) as isize)
            .collect();
        let x = from_flat(&shape, |i| T::of(i as f64));
        let mut d = b.zeros::<T>(&shape).unwrap();
        b.roll(&b.upload(x.view()).unwrap(), &shifts, &mut d)
            .unwrap();
        // dst[(i + s) mod n] = src[i]  <=>  dst[j] = src[(j - s) mod n]
        let want = ArrayD::from_shape_fn(IxDyn(&shape), |j| {
            let src: Vec<usize> = (0..shape.len())
                .map(|a| (j[a] as isize - shifts[a]).rem_euclid(shape[a] as isize) as usize)
                .collect();
            x[IxDyn(&src)]
        });
        assert_eq!(
            b.download(&d).unwrap(),
            want,
            "roll {shape:?} by {shifts:?}"
        );
        assert_eq!(d.shape(), shape.as_slice());
        // fftshift then ifftshift is the identity
        let half: Vec<isize> = shape.iter().map(|&n| (n / 2) as isize).collect();
        let neg: Vec<isize> = half.iter().map(|h| -h).collect();
        let mut e = b.zeros::<T>(&shape).unwrap();
        b.roll(&b.upload(x.view()).unwrap(), &half, &mut d).unwrap();
        b.roll(&d, &neg, &mut e).unwrap();
        assert_eq!(
            b.download(&e).unwrap(),
            x,
            "ifftshift(fftshift(x)) {shape:?}"
        );
    }
}

/// `roll` (numpy's circular shift) on ranks 1 to 5, shifts of either sign, larger than the axis.
pub fn roll_any_rank<B: Backend>(b: &B) {
    per_precision!(roll_any_rank_t, b);
}
