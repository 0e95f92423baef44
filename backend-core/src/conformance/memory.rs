//! Buffers: creation, host transfer, copies, shape checks.

use crate::{Backend, DeviceBuffer, Error, C};
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex;

/// Upload then download returns the same array, for every element type and a non-contiguous
/// (transposed, Fortran-order) input; `upload_flat` of flat row-major data likewise (and
/// `download_owned`), and a length that is not the shape's is an invalid argument.
pub fn upload_download_roundtrip<B: Backend>(b: &B) {
    let a = ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f32
    });
    let d = b.upload(a.view()).unwrap();
    assert_eq!(d.shape(), &[3, 4, 5]);
    assert_eq!(b.download(&d).unwrap(), a);
    let t = a.view().reversed_axes();
    let d = b.upload(t.view()).unwrap();
    assert_eq!(b.download(&d).unwrap(), t.to_owned());
    let c = a.mapv(|x| Complex::new(x as f64, -2.0 * x as f64));
    let d = b.upload(c.view()).unwrap();
    assert_eq!(b.download(&d).unwrap(), c);
    let u = a.mapv(|x| x as u32);
    let d = b.upload(u.view()).unwrap();
    assert_eq!(b.download(&d).unwrap(), u);
    if b.supports_f64() {
        let f = a.mapv(|x| x as f64 / 3.0);
        let d = b.upload(f.view()).unwrap();
        assert_eq!(b.download(&d).unwrap(), f);
    }
    let d = b
        .upload_flat(&[3, 4, 5], a.iter().copied().collect())
        .unwrap();
    assert_eq!(d.shape(), &[3, 4, 5]);
    assert_eq!(b.download(&d).unwrap(), a);
    assert_eq!(b.download_owned(d).unwrap(), a);
    let d = b.upload_flat(&[2, 2], vec![1u32, 2, 3, 4]).unwrap();
    assert_eq!(
        b.download(&d).unwrap().into_raw_vec_and_offset().0,
        [1, 2, 3, 4]
    );
    for shape in [&[2usize, 3][..], &[usize::MAX, 3]] {
        match b.upload_flat(shape, vec![1.0f32; 5]) {
            Err(Error::InvalidArgument(_)) => {}
            Err(e) => {
                panic!("upload_flat of 5 values as {shape:?}: expected InvalidArgument, got {e}")
            }
            Ok(_) => panic!("upload_flat of 5 values as {shape:?} succeeded"),
        }
    }
}

/// `zeros`, `fill`, `full`, `copy`, `duplicate`.
pub fn zeros_fill_copy<B: Backend>(b: &B) {
    let z = b.zeros::<C<f32>>(&[7, 3]).unwrap();
    assert!(b
        .download(&z)
        .unwrap()
        .iter()
        .all(|v| *v == Complex::new(0.0, 0.0)));
    let mut x = b.full::<f32>(&[5, 2], 2.5).unwrap();
    assert!(b.download(&x).unwrap().iter().all(|v| *v == 2.5));
    b.fill(&mut x, -1.0).unwrap();
    let y = b.duplicate(&x).unwrap();
    assert!(b.download(&y).unwrap().iter().all(|v| *v == -1.0));
    let mut w = b.zeros::<f32>(&[10]).unwrap();
    b.copy(&y, &mut w).unwrap();
    assert_eq!(b.download(&w).unwrap().shape(), &[10]);
    assert!(b.download(&w).unwrap().iter().all(|v| *v == -1.0));
}

/// A copy between buffers of different sizes is a shape-mismatch error, not a panic.
pub fn wrong_shape_is_an_error<B: Backend>(b: &B) {
    let x = b.zeros::<f32>(&[4, 3]).unwrap();
    let mut y = b.zeros::<f32>(&[5]).unwrap();
    let e = b.copy(&x, &mut y).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
    let mut z = b.zeros::<f32>(&[4, 3]).unwrap();
    assert!(matches!(
        z.reshape(&[5, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    z.reshape(&[12]).unwrap();
    assert_eq!(z.shape(), &[12]);
}

/// A buffer larger than the device (or than the address space) is [`Error::OutOfMemory`],
/// never an abort.
pub fn impossible_allocation_is_an_error<B: Backend>(b: &B) {
    for shape in [&[1usize << 40, 1 << 30][..], &[1 << 50]] {
        match b.zeros::<f32>(shape) {
            Err(Error::OutOfMemory(_)) => {}
            Err(e) => panic!("zeros of shape {shape:?}: expected OutOfMemory, got {e}"),
            Ok(_) => panic!("zeros of shape {shape:?} succeeded"),
        }
    }
}
