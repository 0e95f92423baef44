//! `.npy` files (numpy's format), C- or Fortran-ordered, `float32` or `float64`.
//!
//! Reading parses the file itself, with bounds: the preamble (`\x93NUMPY`, version 1.0, 2.0 or
//! 3.0, header length), a header of at most [`MAX_HEADER_LEN`] bytes read by a small parser of
//! Python literals (strings, numbers, `True`/`False`/`None`, tuples, lists, dicts, nested at most
//! [`MAX_NESTING`] deep, linear time), then the data, whose length must be exactly what `descr`
//! and `shape` say (checked before anything is allocated) and whose values must be finite.
//! [`parse_npy`] does it on bytes, [`read_npy`] on a file; [`open_npy`] reads the header alone,
//! then [`NpyFile::read`] the data into an array of the precision asked for (read by chunks,
//! in parallel parts for large arrays, each chunk converted from the file's type and byte order
//! into the array as it is read, `float64` data to `float32` or the reverse). Writing goes
//! through `ndarray-npy`, its exact length reserved first (see `write_atomic`).

use super::array::{dtype_name, fmt_shape, HostArray};
use super::quoted;
use crate::error::{Error, Result};
use backend_core::{Precision, Real};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::WriteNpyExt;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// numpy's magic string, the first 6 bytes of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";
/// Longest header read, bytes: numpy's own default limit (`max_header_size`).
pub const MAX_HEADER_LEN: usize = 10_000;
/// Deepest nesting of brackets accepted in a header (numpy writes 2: a dict holding a tuple).
pub const MAX_NESTING: usize = 16;
/// Most axes of an array (numpy's `NPY_MAXDIMS`).
pub const MAX_AXES: usize = 64;

/// What a `.npy` header says about the data that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Bytes per value: 4 (`float32`) or 8 (`float64`).
    pub item_size: usize,
    /// Whether the values are stored big-endian (`descr` `'>f4'`, `'>f8'`).
    pub big_endian: bool,
    /// Whether the values are stored column-major (`fortran_order: True`).
    pub fortran_order: bool,
    /// The array's shape (its logical shape, whatever the order).
    pub shape: Vec<usize>,
    /// Where the data start in the file, bytes.
    pub data_offset: usize,
    /// How many bytes of data the shape and element type call for.
    pub data_len: usize,
}

/// A `.npy` file opened for reading: its header parsed and checked against the file's length
/// (the data length is exactly what the header calls for), the data not read yet.
pub struct NpyFile {
    path: PathBuf,
    file: std::fs::File,
    header: NpyHeader,
}

/// Opens a `float32` or `float64` `.npy` file of any dimension and reads its header only (at
/// most the preamble and [`MAX_HEADER_LEN`] bytes), checked against the file's length; then
/// [`NpyFile::read`] reads the data.
pub fn open_npy(path: &Path) -> Result<NpyFile> {
    let (mut file, len) = super::open_regular(path)?;
    let mut bytes = Vec::new();
    // Longest preamble: magic, version, 4-byte length, then the header.
    let preamble_max = (MAGIC.len() + 2 + 4 + MAX_HEADER_LEN) as u64;
    super::read_up_to(path, &mut file, preamble_max.min(len), &mut bytes)?;
    let header = parse_header(&bytes).map_err(|m| Error::file(path, m))?;
    let data_in_file = len.saturating_sub(header.data_offset as u64);
    check_data_len(&header, data_in_file).map_err(|m| Error::file(path, m))?;
    Ok(NpyFile {
        path: path.to_path_buf(),
        file,
        header,
    })
}

impl NpyFile {
    /// The stored precision: `float32` or `float64`.
    pub fn precision(&self) -> Precision {
        if self.header.item_size == 4 {
            Precision::F32
        } else {
            Precision::F64
        }
    }

    /// Reads the data as `T`, whatever the stored precision, into an array of the header's
    /// (logical) shape: C layout, or Fortran layout for a `fortran_order: True` file (same
    /// logical values). The bytes are read chunk by chunk, in parallel parts of at least 1 MiB,
    /// each chunk converted into the array's memory (allocated once, not zero-filled first) as
    /// it is read. Every value must be finite, in the file and in `T` (a `float64` value beyond
    /// the `float32` range is an error, not an infinity).
    pub fn read<T: Real>(self) -> Result<ArrayD<T>> {
        let h = &self.header;
        decode(h, &self.file, h.data_offset as u64)
            .and_then(|values| into_array(h, values))
            .map_err(|m| Error::file(&self.path, m))
    }

    /// Reads the data in the stored precision (see [`NpyFile::read`]).
    pub fn read_stored(self) -> Result<HostArray> {
        Ok(match self.precision() {
            Precision::F32 => HostArray::F32(self.read()?),
            Precision::F64 => HostArray::F64(self.read()?),
        })
    }
}

/// Reads a `float32` or `float64` `.npy` file of any dimension, in its stored precision.
/// Fortran-ordered files (`fortran_order: True`, as PyEPRI's `fgrad` arrays) keep their logical
/// shape and values. The header is checked against the file's length before the data are read.
pub fn read_npy(path: &Path) -> Result<HostArray> {
    open_npy(path)?.read_stored()
}

/// Decodes the bytes of a whole `.npy` file: header, then data (exactly the length the header
/// calls for), into a `float32` or `float64` array of the header's shape. Every value must be
/// finite. The error says what is wrong, on one line, without naming a file.
pub fn parse_npy(bytes: &[u8]) -> std::result::Result<HostArray, String> {
    let h = parse_header(bytes)?;
    let data = &bytes[h.data_offset..];
    check_data_len(&h, data.len() as u64)?;
    Ok(if h.item_size == 4 {
        HostArray::F32(into_array(&h, decode(&h, data, 0)?)?)
    } else {
        HostArray::F64(into_array(&h, decode(&h, data, 0)?)?)
    })
}

/// Bytes read per chunk (a multiple of every item size): the data are converted from a chunk
/// of the file into the final vector as they are read.
const READ_CHUNK: usize = 64 << 10;

/// Fewest bytes of data per parallel part: a large array is read and converted by one part per
/// thread (the first touch of the array's fresh memory, most of a read's time, then runs on
/// every core); smaller data in one part.
const PART_MIN: usize = 1 << 20;

/// A source of bytes read at given positions by several threads at once: a file, or bytes in
/// memory.
trait ReadAt: Sync {
    /// Fills `buf` with the bytes from position `at`; an [`std::io::ErrorKind::UnexpectedEof`]
    /// error when the source ends first.
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()>;
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, at)
    }
}

#[cfg(windows)]
impl ReadAt for std::fs::File {
    fn read_exact_at(&self, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(self, buf, at) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(k) => {
                    buf = &mut buf[k..];
                    at += k as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        let src = usize::try_from(at)
            .ok()
            .and_then(|at| self.get(at..)?.get(..buf.len()))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Reads the `h.data_len` bytes of data starting at byte `start` of `src` as values of `T`, in
/// file order, in parts of at least [`PART_MIN`] bytes read in parallel, each chunk by chunk
/// ([`READ_CHUNK`] bytes), each item converted from the stored type and byte order into the
/// final vector, allocated once at its final size and never zero-filled (the same path whether
/// `T` is the stored type or not). Every value must be finite, stored and converted: the error
/// names the first bad value in file order.
fn decode<T: Real>(
    h: &NpyHeader,
    src: &(impl ReadAt + ?Sized),
    start: u64,
) -> std::result::Result<Vec<T>, String> {
    let n = h.data_len / h.item_size;
    let mut values: Vec<T> = Vec::new();
    values.try_reserve_exact(n).map_err(|_| {
        format!(
            "cannot allocate {} bytes for the data",
            n as u128 * std::mem::size_of::<T>() as u128
        )
    })?;
    let parts = rayon::current_num_threads()
        .min(h.data_len / PART_MIN)
        .max(1);
    let per_part = n.div_ceil(parts).max(1);
    let part = |(p, out): (usize, &mut [std::mem::MaybeUninit<T>])| {
        let first = p * per_part;
        let at = start + (first * h.item_size) as u64;
        match (h.item_size, h.big_endian) {
            (4, false) => read_items(src, at, first, out, |b| f32::from_le_bytes(b) as f64),
            (4, true) => read_items(src, at, first, out, |b| f32::from_be_bytes(b) as f64),
            (_, false) => read_items(src, at, first, out, f64::from_le_bytes),
            (_, true) => read_items(src, at, first, out, f64::from_be_bytes),
        }
    };
    let spare = &mut values.spare_capacity_mut()[..n];
    // In file order: the first error is the first bad value's.
    let results: Vec<_> = if parts > 1 {
        spare
            .par_chunks_mut(per_part)
            .enumerate()
            .map(part)
            .collect()
    } else {
        spare.chunks_mut(per_part).enumerate().map(part).collect()
    };
    results
        .into_iter()
        .collect::<std::result::Result<(), String>>()?;
    // SAFETY: every part wrote each of its values (an unwritten one is an error, returned
    // above), and the parts cover the first `n` elements of the capacity.
    unsafe { values.set_len(n) };
    Ok(values)
}

/// Fills `out` with the values of items of `N` bytes read from `src` from byte `at` on (value
/// `first` of the file onwards), each decoded by `stored` (the file's type and byte order) then
/// converted to `T`; the first value not finite, stored or in `T`, is an error naming its index
/// in the file.
fn read_items<T: Real, const N: usize>(
    src: &(impl ReadAt + ?Sized),
    at: u64,
    first: usize,
    out: &mut [std::mem::MaybeUninit<T>],
    stored: impl Fn([u8; N]) -> f64,
) -> std::result::Result<(), String> {
    let item = |b: &[u8]| stored(b.try_into().expect("chunks of N bytes"));
    let mut chunk = vec![0u8; READ_CHUNK.min(out.len() * N)];
    for (k, out) in out.chunks_mut(READ_CHUNK / N).enumerate() {
        let c = &mut chunk[..out.len() * N];
        let pos = at + (k * READ_CHUNK) as u64;
        src.read_exact_at(c, pos).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "truncated .npy file: the data end early".to_string()
            }
            _ => io_msg(&e),
        })?;
        for (v, b) in out.iter_mut().zip(c.chunks_exact(N)) {
            v.write(T::of(item(b)));
        }
        // SAFETY: every element of `out` was written just above.
        let written = unsafe { &*(out as *const [std::mem::MaybeUninit<T>] as *const [T]) };
        if let Some(j) = written.iter().position(|v| !v.is_finite()) {
            let (i, x) = (
                first + k * (READ_CHUNK / N) + j,
                item(&c[j * N..(j + 1) * N]),
            );
            return Err(if !x.is_finite() {
                non_finite_msg(i, x)
            } else {
                format!(
                    "value {i} (counted in file order from 0) is {x}: beyond the {} range (read it in float64)",
                    dtype_name(T::PRECISION)
                )
            });
        }
    }
    Ok(())
}

/// The values in file order as an array of the header's shape and order.
fn into_array<T: Real>(h: &NpyHeader, values: Vec<T>) -> std::result::Result<ArrayD<T>, String> {
    ArrayD::from_shape_vec(IxDyn(&h.shape).set_f(h.fortran_order), values)
        .map_err(|e| format!("shape {}: {e}", fmt_shape(&h.shape)))
}

fn non_finite_msg(index: usize, x: f64) -> String {
    format!("value {index} (counted in file order from 0) is {x}: the data must be finite")
}

/// Checks that `available` bytes of data are what the header calls for.
fn check_data_len(h: &NpyHeader, available: u64) -> std::result::Result<(), String> {
    let need = h.data_len as u64;
    if available == need {
        return Ok(());
    }
    let what = if available < need {
        "truncated .npy file"
    } else {
        "too long for a .npy file"
    };
    Err(format!(
        "{what}: shape {} of {} values needs {need} bytes of data, the file has {available}",
        fmt_shape(&h.shape),
        if h.item_size == 4 {
            "float32"
        } else {
            "float64"
        },
    ))
}

/// Parses the preamble and header at the start of a `.npy` file (`bytes` may stop anywhere
/// after the header). Only `float32`/`float64` element types are accepted; keys other than
/// `descr`, `fortran_order` and `shape` are parsed and ignored.
pub fn parse_header(bytes: &[u8]) -> std::result::Result<NpyHeader, String> {
    if !bytes.starts_with(MAGIC) {
        return Err(if MAGIC.starts_with(bytes) {
            format!("truncated .npy file ({} bytes)", bytes.len())
        } else {
            "not a valid .npy file: it does not start with numpy's magic string \\x93NUMPY".into()
        });
    }
    let [major, minor] = [6, 7].map(|i| bytes.get(i).copied());
    let (Some(major), Some(minor)) = (major, minor) else {
        return Err(format!("truncated .npy file ({} bytes)", bytes.len()));
    };
    let len_size = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(format!(
                "unsupported .npy format version {major}.{minor} (epri reads 1.0, 2.0 and 3.0)"
            ))
        }
    };
    let start = 8 + len_size;
    let Some(len_bytes) = bytes.get(8..start) else {
        return Err(format!("truncated .npy file ({} bytes)", bytes.len()));
    };
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    if header_len > MAX_HEADER_LEN {
        return Err(format!(
            "the header is {header_len} bytes long, more than the {MAX_HEADER_LEN} numpy itself reads"
        ));
    }
    let end = start + header_len;
    let Some(text) = bytes.get(start..end) else {
        return Err(format!(
            "truncated .npy file: the header needs {header_len} bytes, the file has {} after the preamble",
            bytes.len() - start
        ));
    };
    let entries =
        LiteralParser::parse_dict(text).map_err(|e| format!("invalid .npy header: {e}"))?;
    let mut descr = None;
    let mut fortran_order = None;
    let mut shape = None;
    for (key, value) in &entries {
        let slot = match key.as_slice() {
            b"descr" => &mut descr,
            b"fortran_order" => &mut fortran_order,
            b"shape" => &mut shape,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(format!(
                "invalid .npy header: key '{}' appears twice",
                String::from_utf8_lossy(key)
            ));
        }
    }
    let missing = |key: &str, what: &str| format!("the header has no '{key}' key ({what})");
    let descr = descr.ok_or_else(|| missing("descr", "the element type"))?;
    let fortran_order = fortran_order.ok_or_else(|| missing("fortran_order", "True or False"))?;
    let shape = shape.ok_or_else(|| missing("shape", "the array's dimensions"))?;
    let (item_size, big_endian) = element_type(descr)?;
    let fortran_order = match fortran_order.literal {
        Literal::Bool(b) => b,
        _ => {
            return Err(format!(
                "'fortran_order' is {}, expected True or False",
                fortran_order.echo()
            ))
        }
    };
    let shape = axis_lengths(shape)?;
    // ndarray needs the product of the non-zero lengths to fit an isize.
    let too_big = || {
        format!(
            "shape {} holds more values than memory can address",
            fmt_shape(&shape)
        )
    };
    let addressable = shape
        .iter()
        .filter(|&&n| n > 0)
        .try_fold(item_size, |acc, &n| acc.checked_mul(n))
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(too_big)?;
    let data_len = if shape.contains(&0) { 0 } else { addressable };
    Ok(NpyHeader {
        item_size,
        big_endian,
        fortran_order,
        shape,
        data_offset: end,
        data_len,
    })
}

/// `descr` `'<f4'`, `'<f8'`, `'>f4'`, `'>f8'` (or `'='`, native): (bytes per value, big-endian).
fn element_type(descr: &Entry) -> std::result::Result<(usize, bool), String> {
    let unsupported = || {
        format!(
            "unsupported element type {}: epri reads float32 and float64 arrays",
            descr.echo()
        )
    };
    let Literal::Str(s) = &descr.literal else {
        return Err(unsupported());
    };
    let [order, b'f', size] = s.as_slice() else {
        return Err(unsupported());
    };
    let big_endian = match order {
        b'<' => false,
        b'>' => true,
        b'=' => cfg!(target_endian = "big"),
        _ => return Err(unsupported()),
    };
    match size {
        b'4' => Ok((4, big_endian)),
        b'8' => Ok((8, big_endian)),
        _ => Err(unsupported()),
    }
}

/// `shape`: a tuple of at most [`MAX_AXES`] non-negative integers.
fn axis_lengths(shape: &Entry) -> std::result::Result<Vec<usize>, String> {
    let bad = || {
        format!(
            "'shape' is {}, expected a tuple of axis lengths such as (113, 2000)",
            shape.echo()
        )
    };
    let Literal::Tuple(items) = &shape.literal else {
        return Err(bad());
    };
    if items.len() > MAX_AXES {
        return Err(format!(
            "'shape' has {} axes, more than numpy's {MAX_AXES}",
            items.len()
        ));
    }
    items
        .iter()
        .map(|item| match item {
            Literal::Number(digits) if digits.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<usize>().ok())
                    .ok_or_else(|| {
                        format!(
                            "'shape' holds the axis length {}, too large for this machine",
                            quoted(&String::from_utf8_lossy(digits))
                        )
                    })
            }
            _ => Err(bad()),
        })
        .collect()
}

/// A Python literal of a `.npy` header, as far as epri looks into it.
enum Literal {
    /// A string's raw bytes between the quotes (escapes kept as written).
    Str(Vec<u8>),
    /// A number as written (`113`, `-1.5e3`).
    Number(Vec<u8>),
    /// `True` or `False`.
    Bool(bool),
    /// A tuple's items.
    Tuple(Vec<Literal>),
    /// `None`, a list or a dict: parsed, contents dropped.
    Other,
}

/// A value of the header's dict with the text it was parsed from.
struct Entry {
    literal: Literal,
    text: String,
}

impl Entry {
    /// The value's text, quoted and cut for an error message.
    fn echo(&self) -> String {
        quoted(&self.text)
    }
}

/// A recursive-descent parser of the Python literals numpy writes in headers: one pass over
/// the text, brackets nested at most [`MAX_NESTING`] deep.
struct LiteralParser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> LiteralParser<'a> {
    /// Parses a whole header: one dict, then only white space. Returns its `(key, value)`
    /// pairs in order; keys must be strings.
    fn parse_dict(text: &'a [u8]) -> std::result::Result<Vec<(Vec<u8>, Entry)>, String> {
        let mut p = LiteralParser { text, pos: 0 };
        p.skip_space();
        if p.peek() != Some(b'{') {
            return Err(format!(
                "expected a dict {{'descr': ..., 'fortran_order': ..., 'shape': ...}}, found {}",
                p.here()
            ));
        }
        p.pos += 1;
        let mut entries = Vec::new();
        loop {
            p.skip_space();
            if p.peek() == Some(b'}') {
                p.pos += 1;
                break;
            }
            let Literal::Str(key) = p.value(1)? else {
                return Err("a key of the header dict is not a string".into());
            };
            p.skip_space();
            p.expect(b':')?;
            p.skip_space();
            let start = p.pos;
            let literal = p.value(1)?;
            let text = String::from_utf8_lossy(&p.text[start..p.pos]).into_owned();
            entries.push((key, Entry { literal, text }));
            if p.separator(b'}')? {
                break;
            }
        }
        p.skip_space();
        if p.pos < text.len() {
            return Err(format!("unexpected text after the dict: {}", p.here()));
        }
        Ok(entries)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// The text at the current position, for error messages.
    fn here(&self) -> String {
        match self.text.get(self.pos..) {
            Some([]) | None => "the end of the header".into(),
            Some(rest) => format!(
                "{} at byte {}",
                quoted(&String::from_utf8_lossy(&rest[..rest.len().min(20)])),
                self.pos
            ),
        }
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{}', found {}", c as char, self.here()))
        }
    }

    /// After an item of a sequence: `,` (then maybe `close`) or `close`. Returns whether the
    /// sequence is closed.
    fn separator(&mut self, close: u8) -> std::result::Result<bool, String> {
        self.skip_space();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_space();
                let closed = self.peek() == Some(close);
                self.pos += closed as usize;
                Ok(closed)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(format!(
                "expected ',' or '{}', found {}",
                close as char,
                self.here()
            )),
        }
    }

    /// One literal; `depth` is the number of brackets open around it.
    fn value(&mut self, depth: usize) -> std::result::Result<Literal, String> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(open @ (b'(' | b'[' | b'{')) => {
                if depth >= MAX_NESTING {
                    return Err(format!(
                        "brackets nested more than {MAX_NESTING} deep at byte {}",
                        self.pos
                    ));
                }
                self.pos += 1;
                self.sequence(open, depth + 1)
            }
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.') => {
                let start = self.pos;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.' | b'_')
                }) {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                match word {
                    b"True" => Ok(Literal::Bool(true)),
                    b"False" => Ok(Literal::Bool(false)),
                    b"None" => Ok(Literal::Other),
                    _ if word[0].is_ascii_alphabetic() => Err(format!(
                        "unknown name {} at byte {start}",
                        quoted(&String::from_utf8_lossy(word))
                    )),
                    _ => Ok(Literal::Number(word.to_vec())),
                }
            }
            _ => Err(format!("expected a value, found {}", self.here())),
        }
    }

    /// A string quoted by `q`, its raw bytes (a backslash escapes the next byte).
    fn string(&mut self, q: u8) -> std::result::Result<Literal, String> {
        let start = self.pos;
        self.pos += 1;
        let mut raw = Vec::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == q {
                return Ok(Literal::Str(raw));
            }
            raw.push(c);
            if c == b'\\' {
                if let Some(next) = self.peek() {
                    raw.push(next);
                    self.pos += 1;
                }
            }
        }
        Err(format!("the string at byte {start} is not closed"))
    }

    /// The items of a tuple, list or dict whose opening bracket `open` was just read.
    fn sequence(&mut self, open: u8, depth: usize) -> std::result::Result<Literal, String> {
        let close = match open {
            b'(' => b')',
            b'[' => b']',
            _ => b'}',
        };
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            let item = self.value(depth)?;
            if open == b'{' {
                self.skip_space();
                self.expect(b':')?;
                self.skip_space();
                self.value(depth)?;
            } else {
                items.push(item);
            }
            if self.separator(close)? {
                break;
            }
        }
        Ok(match open {
            b'(' => Literal::Tuple(items),
            _ => Literal::Other,
        })
    }
}

/// Writes `a` as a C-ordered `.npy` file in its own precision (`float32` or `float64`),
/// creating the parent folder if needed; atomically (see [`super::output::write_atomic`]).
pub fn write_npy(path: &Path, a: &HostArray) -> Result<()> {
    match a {
        HostArray::F32(a) => write_elements(path, a),
        HostArray::F64(a) => write_elements(path, a),
    }
}

/// Writes a boolean array (numpy `bool`: a validity mask) as a C-ordered `.npy` file,
/// atomically, as [`write_npy`] does.
pub fn write_bool_npy(path: &Path, a: &ArrayD<bool>) -> Result<()> {
    write_elements(path, a)
}

fn write_elements<A: ndarray_npy::WritableElement + Clone>(
    path: &Path,
    a: &ArrayD<A>,
) -> Result<()> {
    // The file's exact length: the header `write_npy` writes for a C-ordered array, then the
    // data.
    let header = ndarray_npy::npy::header::Header {
        type_descriptor: A::type_descriptor(),
        layout: ndarray_npy::npy::header::Layout::Standard,
        shape: a.shape().to_vec(),
    };
    let len = header.to_bytes().ok().map(|h| {
        (a.len() as u64)
            .saturating_mul(std::mem::size_of::<A>() as u64)
            .saturating_add(h.len() as u64)
    });
    super::output::write_atomic(path, len, |w| {
        a.as_standard_layout()
            .write_npy(w)
            .map_err(|e| e.to_string())
    })
}

/// An I/O error in plain words.
pub(crate) fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory, not a file".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backend_core::Precision;

    #[test]
    fn fortran_ordered_fgrad_keeps_its_logical_layout() {
        // fgrad.npy of phalanx is stored with fortran_order: True, shape (2, 113).
        let dir = crate::datasets::datasets_root().join("phalanx-20220203");
        let f = read_npy(&dir.join("fgrad.npy")).unwrap();
        assert_eq!(f.shape(), &[2, 113]);
        let g = f.to_f64();
        // Every column is a gradient of magnitude 168 G/cm at angle 0.796° + k·(180/113)°.
        for k in 0..113 {
            let (gx, gy) = (g[[0, k]], g[[1, k]]);
            assert!(
                ((gx * gx + gy * gy).sqrt() - 168.0).abs() < 1e-3,
                "column {k}"
            );
            let a = gy.atan2(gx).to_degrees();
            let expect = 0.796460 + k as f64 * 178.40708 / 112.0;
            assert!((a - expect).abs() < 1e-3, "column {k}: {a} vs {expect}");
        }
    }

    /// A `.npy` file of `shape` whose data are `data`, header `descr` and `fortran_order`.
    fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("epri-npy-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn each_byte_order_and_precision_reads_in_either_precision() {
        let values = [1.5f64, -2.25, 1e-3, 3.0e5, 0.0, -7.0];
        let dir = scratch("orders");
        for (descr, item) in [("<f4", 4), (">f4", 4), ("<f8", 8), (">f8", 8)] {
            let data: Vec<u8> = values
                .iter()
                .flat_map(|&v| match descr {
                    "<f4" => (v as f32).to_le_bytes().to_vec(),
                    ">f4" => (v as f32).to_be_bytes().to_vec(),
                    "<f8" => v.to_le_bytes().to_vec(),
                    _ => v.to_be_bytes().to_vec(),
                })
                .collect();
            let bytes = npy_bytes(descr, false, "(2, 3)", &data);
            let stored = parse_npy(&bytes).unwrap();
            assert_eq!(stored.precision() == Precision::F32, item == 4, "{descr}");
            let expect64: Vec<f64> = values
                .iter()
                .map(|&v| if item == 4 { v as f32 as f64 } else { v })
                .collect();
            assert_eq!(
                stored.to_f64().into_raw_vec_and_offset().0,
                expect64,
                "{descr}"
            );
            let p = dir.join("a.npy");
            std::fs::write(&p, &bytes).unwrap();
            let as64 = open_npy(&p).unwrap().read::<f64>().unwrap();
            assert_eq!(as64.shape(), &[2, 3]);
            assert_eq!(as64.into_raw_vec_and_offset().0, expect64, "{descr} as f64");
            let as32 = open_npy(&p).unwrap().read::<f32>().unwrap();
            let expect32: Vec<f32> = expect64.iter().map(|&v| v as f32).collect();
            assert_eq!(as32.into_raw_vec_and_offset().0, expect32, "{descr} as f32");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fortran_order_is_kept_in_the_other_precision() {
        // Column-major (2, 3): file order a00 a10 a01 a11 a02 a12.
        let file_order = [0.0f64, 10.0, 1.0, 11.0, 2.0, 12.0];
        let data: Vec<u8> = file_order.iter().flat_map(|v| v.to_le_bytes()).collect();
        let dir = scratch("fortran");
        let p = dir.join("f.npy");
        std::fs::write(&p, npy_bytes("<f8", true, "(2, 3)", &data)).unwrap();
        let a = open_npy(&p).unwrap().read::<f32>().unwrap();
        assert_eq!(a.shape(), &[2, 3]);
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(a[[i, j]], (10 * i + j) as f32);
            }
        }
        let c = HostArray::F32(a).into_real::<f32>();
        assert!(c.is_standard_layout());
        assert_eq!(c[[1, 2]], 12.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn values_beyond_float32_or_not_finite_are_refused_by_index() {
        let dir = scratch("range");
        let p = dir.join("big.npy");
        let data: Vec<u8> = [1.0f64, 1e300, 2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(&p, npy_bytes("<f8", false, "(3,)", &data)).unwrap();
        assert_eq!(open_npy(&p).unwrap().read::<f64>().unwrap()[1], 1e300);
        let e = open_npy(&p).unwrap().read::<f32>().unwrap_err().to_string();
        assert!(e.contains("value 1 ") && e.contains("float32 range"), "{e}");
        let data: Vec<u8> = [1.0f32, 2.0, f32::NAN]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        std::fs::write(&p, npy_bytes(">f4", false, "(3,)", &data)).unwrap();
        for e in [
            open_npy(&p).unwrap().read::<f32>().unwrap_err().to_string(),
            open_npy(&p).unwrap().read::<f64>().unwrap_err().to_string(),
        ] {
            assert!(e.contains("value 2 ") && e.contains("finite"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn data_of_several_chunks_keep_their_order_and_error_indexes() {
        // 40 000 values: 2.4 chunks of float32, 4.9 of float64.
        let n = 40_000;
        let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.25 - 3000.0).collect();
        let dir = scratch("chunks");
        let p = dir.join("c.npy");
        for (descr, item) in [("<f4", 4), (">f4", 4), ("<f8", 8), (">f8", 8)] {
            let bytes_of = |v: f64| match descr {
                "<f4" => (v as f32).to_le_bytes().to_vec(),
                ">f4" => (v as f32).to_be_bytes().to_vec(),
                "<f8" => v.to_le_bytes().to_vec(),
                _ => v.to_be_bytes().to_vec(),
            };
            let data: Vec<u8> = values.iter().flat_map(|&v| bytes_of(v)).collect();
            assert!(data.len() > 2 * READ_CHUNK, "{descr}");
            std::fs::write(&p, npy_bytes(descr, false, "(200, 200)", &data)).unwrap();
            let a = open_npy(&p).unwrap().read::<f64>().unwrap();
            assert_eq!(a.shape(), &[200, 200]);
            assert_eq!(a.into_raw_vec_and_offset().0, values, "{descr}");
            let a = open_npy(&p).unwrap().read::<f32>().unwrap();
            let expect: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            assert_eq!(a.into_raw_vec_and_offset().0, expect, "{descr}");
            // A file cut short after its header was checked: the read fails, naming the file.
            let file = open_npy(&p).unwrap();
            let cut = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            cut.set_len((data.len() - 100) as u64).unwrap();
            let e = file.read::<f32>().unwrap_err().to_string();
            assert!(
                e.contains("c.npy") && e.contains("the data end early"),
                "{e}"
            );
            // A value not finite in a later chunk is named by its index in the file.
            let mut bad = data.clone();
            let at = 33_333;
            bad[at * item..(at + 1) * item].copy_from_slice(&bytes_of(f64::INFINITY));
            std::fs::write(&p, npy_bytes(descr, false, "(200, 200)", &bad)).unwrap();
            let e = open_npy(&p).unwrap().read::<f32>().unwrap_err().to_string();
            assert!(e.contains("value 33333 ") && e.contains("finite"), "{e}");
            if item == 8 {
                bad[at * item..(at + 1) * item].copy_from_slice(&bytes_of(1e39));
                std::fs::write(&p, npy_bytes(descr, false, "(200, 200)", &bad)).unwrap();
                let e = open_npy(&p).unwrap().read::<f32>().unwrap_err().to_string();
                assert!(
                    e.contains("value 33333 ") && e.contains("float32 range"),
                    "{e}"
                );
                assert_eq!(
                    open_npy(&p).unwrap().read::<f64>().unwrap()[[166, 133]],
                    1e39
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn data_read_in_parallel_parts_keep_their_order_and_first_error() {
        // 3 MiB of float32 (3 parts on 3 threads) and 6 MiB of float64, from a file and from
        // bytes; the part boundaries fall inside read chunks.
        let n = 786_433;
        let values: Vec<f64> = (0..n).map(|i| (i % 9973) as f64 * 0.5 - 1000.0).collect();
        let dir = scratch("parts");
        let p = dir.join("p.npy");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            for descr in ["<f4", ">f8"] {
                let bytes_of = |v: f64| match descr {
                    "<f4" => (v as f32).to_le_bytes().to_vec(),
                    _ => v.to_be_bytes().to_vec(),
                };
                let data: Vec<u8> = values.iter().flat_map(|&v| bytes_of(v)).collect();
                assert!(data.len() >= 3 * PART_MIN, "{descr}");
                let file = npy_bytes(descr, false, &format!("({n},)"), &data);
                std::fs::write(&p, &file).unwrap();
                let a = open_npy(&p).unwrap().read::<f64>().unwrap();
                assert_eq!(a.into_raw_vec_and_offset().0, values, "{descr}");
                let from_bytes: Vec<f64> = match parse_npy(&file).unwrap() {
                    HostArray::F32(b) => b.iter().map(|&v| v as f64).collect(),
                    HostArray::F64(b) => b.iter().copied().collect(),
                };
                assert_eq!(from_bytes, values, "{descr}");
            }
            // Bad values in the last part and in the second: the second's is named.
            let mut data: Vec<u8> = values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect();
            for at in [n - 2, 300_001] {
                data[at * 4..(at + 1) * 4].copy_from_slice(&f32::NAN.to_le_bytes());
                std::fs::write(&p, npy_bytes("<f4", false, &format!("({n},)"), &data)).unwrap();
                let e = open_npy(&p).unwrap().read::<f32>().unwrap_err().to_string();
                assert!(
                    e.contains(&format!("value {at} ")) && e.contains("finite"),
                    "{e}"
                );
            }
            // A file cut short inside its first part after its header was checked.
            let file = open_npy(&p).unwrap();
            let cut = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            cut.set_len(1000).unwrap();
            let e = file.read::<f32>().unwrap_err().to_string();
            assert!(
                e.contains("p.npy") && e.contains("the data end early"),
                "{e}"
            );
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn arrays_of_the_precision_asked_for_are_moved_not_copied() {
        let a = ArrayD::from_shape_fn(ndarray::IxDyn(&[4, 5]), |i| (i[0] + i[1]) as f32);
        let at = a.as_ptr();
        let h = HostArray::from_real(a);
        assert_eq!(h.precision(), Precision::F32);
        let b = h.into_real::<f32>();
        assert_eq!(b.as_ptr(), at, "moved through HostArray both ways");
        let c = HostArray::from_real(b).into_real::<f64>();
        assert_eq!(c[[3, 4]], 7.0);
    }

    #[test]
    fn round_trip_in_both_precisions() {
        let dir = std::env::temp_dir().join(format!("epri-npy-{}", std::process::id()));
        let a = ArrayD::from_shape_fn(ndarray::IxDyn(&[3, 4]), |i| (i[0] * 10 + i[1]) as f64 + 0.5);
        let p = dir.join("a64.npy");
        write_npy(&p, &HostArray::F64(a.clone())).unwrap();
        let b = read_npy(&p).unwrap();
        assert_eq!(b.precision(), Precision::F64);
        assert_eq!(b.to_f64(), a);
        let p = dir.join("a32.npy");
        write_npy(&p, &HostArray::from_real(a.mapv(|x| x as f32))).unwrap();
        assert_eq!(read_npy(&p).unwrap().precision(), Precision::F32);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
