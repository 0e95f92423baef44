//! Bruker BES3T files: a `.DSC` text descriptor and a `.DTA` binary data file (the
//! rules of PyEPRI's `read_bruker_description_file` / `read_bruker_bes3t_dataset`).
//!
//! * Descriptor: lines starting with `*` are comments; a line ending with `\` continues on the
//!   next one; `#DESC 1.2`, `#SPL`, `#DSL`, `#MHL` open a layer; in `#DSL`, `.DVC name, 1.0`
//!   opens a device block; other lines are `KEY value` pairs (the non-word characters after the
//!   key are dropped, so `'text'` reads `text'`).
//! * Data: `XPTS` (required), `YPTS`, `ZPTS` (default 1) points; `BSEQ` `BIG` or `LIT` byte order
//!   (default `BIG`); `IRFMT` `C`/`S`/`I`/`F`/`D` = int8/int16/int32/float32/float64; `IIFMT`,
//!   when present, must equal `IRFMT`; `IKKF` must be `REAL`. The values are read row-major as
//!   `(YPTS, XPTS, ZPTS)`; with `ZPTS = 1` that is the sinogram `(P, Nb)`, or the spectrum `(Nb,)`
//!   when `YPTS = 1` too. (With `ZPTS > 1` the rows are reordered to `(YPTS·ZPTS, XPTS)`.)
//! * Field grid: `B = linspace(XMIN, XMIN + XWID, XPTS)` in G, end point included.
//! * Gradients (when the `#DSL` layer has a `grdUnit` device): magnitude `SPL.GRAD` (G/cm),
//!   angles `a_k = FirstAlpha + 2·k·FirstAlpha` (degrees), `k < NrOfAlpha`. `ImageType 2D`:
//!   `g_k = μ (cos a_k, sin a_k)`, shape `(2, NrOfAlpha)`. `3D`: an `N×N` grid of
//!   (`θ = a[col]`, `φ = a[row]`) flattened row-major, `g = μ (cos θ sin φ, sin θ sin φ, cos φ)`,
//!   shape `(3, N²)`.
//!
//! Every value is returned as `f64`.
//!
//! Hostile files are refused, with a one-line error naming the file at fault, before anything
//! large is allocated: the `.DSC` is at most [`MAX_DSC_LEN`] bytes and parsed in linear time;
//! sizes are computed with checked arithmetic and the `.DTA` length must be exactly what the
//! descriptor says (checked against the file's length before reading it); the gradient table
//! has one gradient per row of a sinogram (at most [`MAX_GRADIENTS`] for a spectrum); data
//! values must be finite (NaN usually means a wrong `BSEQ`). Text echoed in errors is quoted,
//! escaped and cut. [`parse_bes3t`] decodes the bytes of both files, [`read_bes3t`] the files.

use super::array::HostArray;
use super::{has_extension, open_regular, quoted, read_up_to};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest `.DSC` file read, bytes (Bruker's descriptors hold a few kB of text).
pub const MAX_DSC_LEN: usize = 4 << 20;
/// Most entries of the gradient table of a file whose data are a single spectrum (when the
/// data are a sinogram, the table has exactly one gradient per row).
pub const MAX_GRADIENTS: usize = 1 << 20;

/// Key/value pairs of one layer or device block (values as written, trailing `\r` removed).
pub type Params = BTreeMap<String, String>;

/// A parsed `.DSC` descriptor.
#[derive(Clone, Debug, Default)]
pub struct Descriptor {
    /// Layers (`DESC`, `SPL`, `DSL`, `MHL`) with their key/value pairs, `_version` included.
    pub layers: BTreeMap<String, Params>,
    /// Device blocks of the `#DSL` (or other) layers, by device name (`grdUnit`, `fieldCtrl`...).
    pub devices: BTreeMap<String, Params>,
}

impl Descriptor {
    /// A value of a layer.
    pub fn get(&self, layer: &str, key: &str) -> Option<&str> {
        self.layers.get(layer)?.get(key).map(String::as_str)
    }

    /// A value of a device block.
    pub fn device(&self, device: &str, key: &str) -> Option<&str> {
        self.devices.get(device)?.get(key).map(String::as_str)
    }
}

/// A BES3T dataset: field grid, data, gradients (if the file is a set of projections).
#[derive(Clone, Debug)]
pub struct Bes3t {
    /// The parsed descriptor.
    pub descriptor: Descriptor,
    /// Field grid `B` (G), shape `(XPTS,)`.
    pub b: Array1<f64>,
    /// Data: `(P, Nb)` sinogram or `(Nb,)` spectrum, finite values.
    pub data: ArrayD<f64>,
    /// Field gradients `(d, P)` in G/cm, when the descriptor describes an imaging experiment.
    pub fgrad: Option<Array2<f64>>,
}

impl Bes3t {
    /// The data as a [`HostArray`] (`f64`).
    pub fn data_array(&self) -> HostArray {
        HostArray::F64(self.data.clone())
    }
}

/// Whether a path names a BES3T file (`.DSC` or `.DTA`, any case).
pub fn is_bes3t(path: &Path) -> bool {
    has_extension(path, "dsc") || has_extension(path, "dta")
}

/// The `.DSC` and `.DTA` companions of a `.DSC` or `.DTA` path.
fn companions(path: &Path) -> Result<(PathBuf, PathBuf)> {
    if !is_bes3t(path) {
        return Err(Error::file(
            path,
            "not a BES3T file: expected a .DSC or .DTA extension",
        ));
    }
    Ok((companion(path, "DSC")?, companion(path, "DTA")?))
}

/// The file of `path`'s folder and stem with the extension `ext` in any letter case: `path`
/// itself when it has that extension, else upper case, else lower case, else the first other
/// spelling found in the folder. When there is none, the error names what was looked for.
fn companion(path: &Path, ext: &str) -> Result<PathBuf> {
    let given = has_extension(path, ext);
    if given && path.exists() {
        return Ok(path.to_path_buf());
    }
    let upper = path.with_extension(ext.to_ascii_uppercase());
    let lower = path.with_extension(ext.to_ascii_lowercase());
    if upper.exists() {
        return Ok(upper);
    }
    if lower.exists() {
        return Ok(lower);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path.file_stem();
    let other_case = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.file_stem() == stem && has_extension(p, ext))
        .min();
    other_case.ok_or_else(|| {
        let (missing, role) = if given {
            (path, String::new())
        } else {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let what = if ext == "DSC" {
                "descriptor"
            } else {
                "data file"
            };
            (
                upper.as_path(),
                format!(", the BES3T {what} that goes with {name}"),
            )
        };
        Error::file(
            missing,
            format!("no such file, with its extension in any letter case{role}"),
        )
    })
}

/// Reads a BES3T dataset from its `.DSC` or `.DTA` path (the other file is found next to it).
/// The `.DSC` is at most [`MAX_DSC_LEN`] bytes; the `.DTA` length is checked against the
/// descriptor before it is read. Errors name the file at fault.
pub fn read_bes3t(path: &Path) -> Result<Bes3t> {
    let (dsc, dta) = companions(path)?;
    let (mut file, len) = open_regular(&dsc)?;
    if len > MAX_DSC_LEN as u64 {
        return Err(Error::file(&dsc, dsc_too_long(len)));
    }
    let mut text = Vec::new();
    read_up_to(&dsc, &mut file, len, &mut text)?;
    let header = Bes3tHeader::parse(&text).map_err(|m| Error::file(&dsc, m))?;
    let (mut file, len) = open_regular(&dta)?;
    header
        .layout
        .check_data_len(len)
        .map_err(|m| Error::file(&dta, m))?;
    let mut bytes = Vec::new();
    read_up_to(&dta, &mut file, len, &mut bytes)?;
    header.decode(&bytes).map_err(|m| Error::file(&dta, m))
}

fn dsc_too_long(len: impl std::fmt::Display) -> String {
    format!(
        "a descriptor of {len} bytes: BES3T .DSC files hold a few kB of text, epri reads at most {} MiB",
        MAX_DSC_LEN >> 20
    )
}

/// Which of the two files of a BES3T dataset an error is about, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bes3tError {
    /// The `.DSC` descriptor.
    Descriptor(String),
    /// The `.DTA` data.
    Data(String),
}

impl Bes3tError {
    /// What is wrong, one line.
    pub fn message(&self) -> &str {
        match self {
            Bes3tError::Descriptor(m) | Bes3tError::Data(m) => m,
        }
    }
}

/// Decodes a BES3T dataset from the bytes of its `.DSC` and `.DTA` files.
pub fn parse_bes3t(dsc: &[u8], dta: &[u8]) -> std::result::Result<Bes3t, Bes3tError> {
    Bes3tHeader::parse(dsc)
        .map_err(Bes3tError::Descriptor)?
        .decode(dta)
        .map_err(Bes3tError::Data)
}

/// What a `.DSC` says, checked, before the `.DTA` is read: the descriptor, the layout of the
/// data, the field axis and the gradient table's parameters. Nothing large is allocated yet.
pub struct Bes3tHeader {
    /// The parsed descriptor.
    pub descriptor: Descriptor,
    layout: Layout,
    gradients: Option<GradientTable>,
}

impl Bes3tHeader {
    /// Parses and checks the bytes of a `.DSC` file (text, at most [`MAX_DSC_LEN`] bytes;
    /// invalid UTF-8 is replaced).
    pub fn parse(dsc: &[u8]) -> std::result::Result<Self, String> {
        if dsc.len() > MAX_DSC_LEN {
            return Err(dsc_too_long(dsc.len()));
        }
        let descriptor = parse_descriptor(&String::from_utf8_lossy(dsc))?;
        let layout = Layout::from_descriptor(&descriptor)?;
        let gradients = GradientTable::from_descriptor(&descriptor, layout.ny * layout.nz)?;
        Ok(Bes3tHeader {
            descriptor,
            layout,
            gradients,
        })
    }

    /// Bytes the `.DTA` file must hold: `XPTS·YPTS·ZPTS` values of the `IRFMT` size.
    pub fn data_len(&self) -> usize {
        self.layout.data_len
    }

    /// Decodes the `.DTA` bytes (exactly [`Self::data_len`] of them, finite values) into the
    /// dataset, with its field grid and gradient table.
    pub fn decode(self, dta: &[u8]) -> std::result::Result<Bes3t, String> {
        let layout = &self.layout;
        layout.check_data_len(dta.len() as u64)?;
        let values = layout.decode(dta)?;
        let data = layout.arrange(values);
        let b = backend_core::host::linspace(layout.xmin, layout.xmin + layout.xwid, layout.nx);
        let fgrad = self.gradients.as_ref().map(GradientTable::table);
        Ok(Bes3t {
            descriptor: self.descriptor,
            b,
            data,
            fgrad,
        })
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `#(\w+)\W+(\d+.\d+)` searched anywhere in the line: (name, version). One pass: each scan
/// stops where the next one starts.
fn section_header(line: &str) -> Option<(String, String)> {
    for (i, _) in line.match_indices('#') {
        let rest = &line[i + 1..];
        let name_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let after = &rest[name_len..];
        let sep_len = after.find(is_word).unwrap_or(after.len());
        if sep_len == 0 {
            continue;
        }
        // \d+ . \d+ (the dot of the regex matches any character)
        let tail = &after[sep_len..];
        let d1 = tail.bytes().take_while(u8::is_ascii_digit).count();
        let Some(dot) = tail[d1..].chars().next().filter(|_| d1 > 0) else {
            continue;
        };
        let after_dot = &tail[d1 + dot.len_utf8()..];
        let d2 = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if d2 == 0 {
            continue;
        }
        let version = &tail[..d1 + dot.len_utf8() + d2];
        return Some((rest[..name_len].to_string(), version.to_string()));
    }
    None
}

/// `\.DVC\W+(\w+),\W+(\d+\.\d+)`: (device, version).
fn device_header(line: &str) -> Option<(String, String)> {
    let i = line.find(".DVC")?;
    let rest = &line[i + 4..];
    let sep = rest.find(is_word).unwrap_or(rest.len());
    if sep == 0 {
        return None;
    }
    let rest = &rest[sep..];
    let name_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
    let name = &rest[..name_len];
    let after = rest[name_len..].strip_prefix(',')?;
    let version = after.trim_start_matches(|c: char| !is_word(c));
    if name.is_empty() || after.len() == version.len() {
        return None;
    }
    let version: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    version.contains('.').then(|| (name.to_string(), version))
}

/// `(\w+)\W+(.*)`: (key, value).
fn key_value(line: &str) -> Option<(String, String)> {
    let start = line.find(is_word)?;
    let rest = &line[start..];
    let key_len = rest.find(|c: char| !is_word(c))?;
    let (key, after) = rest.split_at(key_len);
    let value = after.trim_start_matches(|c: char| !is_word(c));
    Some((key.to_string(), value.trim_end_matches('\r').to_string()))
}

/// Parses the text of a `.DSC` file, in time linear in its length.
pub fn parse_descriptor(text: &str) -> std::result::Result<Descriptor, String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.split('\n') {
        if line.starts_with('*') || line.is_empty() {
            continue;
        }
        let was_empty = pending.is_empty();
        pending.push_str(line);
        if pending.ends_with('\\') {
            // Continued: backslashes trimmed at both ends (those at the start can only be this
            // line's, the text before was trimmed already).
            pending.truncate(pending.trim_end_matches('\\').len());
            if was_empty {
                pending = pending.trim_start_matches('\\').to_string();
            }
        } else {
            lines.push(std::mem::take(&mut pending));
        }
    }
    let mut d = Descriptor::default();
    let mut section: Option<String> = None;
    let mut device: Option<String> = None;
    for (n, line) in lines.iter().enumerate() {
        if let Some((name, version)) = section_header(line) {
            if !["DESC", "SPL", "DSL", "MHL"].contains(&name.as_str()) {
                return Err(format!(
                    "unknown descriptor layer {}",
                    quoted(&format!("#{name}"))
                ));
            }
            d.layers
                .insert(name.clone(), Params::from([("_version".into(), version)]));
            section = Some(name);
            device = None;
            continue;
        }
        if let Some((name, version)) = device_header(line) {
            if section.is_none() {
                return Err(format!(
                    "device block .DVC {} outside any layer",
                    quoted(&name)
                ));
            }
            d.devices
                .insert(name.clone(), Params::from([("_version".into(), version)]));
            device = Some(name);
            continue;
        }
        if line.trim_end_matches('\r').trim().is_empty() {
            continue;
        }
        let Some((key, value)) = key_value(line) else {
            return Err(format!(
                "line {}: expected `KEY value`, found {}",
                n + 1,
                quoted(line)
            ));
        };
        let Some(layer) = &section else {
            return Err(format!(
                "key {} outside any #DESC/#SPL/#DSL/#MHL layer",
                quoted(&key)
            ));
        };
        match &device {
            Some(dev) => d.devices.get_mut(dev),
            None if layer == "DSL" => {
                return Err(format!(
                    "key {} of the #DSL layer outside a .DVC device block",
                    quoted(&key)
                ))
            }
            None => d.layers.get_mut(layer),
        }
        .expect("opened above")
        .insert(key, value);
    }
    if !d.layers.contains_key("DESC") {
        return Err("no #DESC layer: not a BES3T descriptor".into());
    }
    Ok(d)
}

/// What `#DESC` says about the `.DTA` file.
struct Layout {
    nx: usize,
    ny: usize,
    nz: usize,
    big_endian: bool,
    format: char,
    /// Bytes per value.
    item_size: usize,
    /// Bytes of data: `nx·ny·nz` values of the format's size.
    data_len: usize,
    xmin: f64,
    xwid: f64,
}

impl Layout {
    fn from_descriptor(d: &Descriptor) -> std::result::Result<Self, String> {
        let get = |k: &str| d.get("DESC", k).map(str::trim);
        let count = |k: &str, required: bool| -> std::result::Result<usize, String> {
            match get(k) {
                None if required => Err(format!("missing key {k} (number of points)")),
                None => Ok(1),
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{k} = {} is not a positive integer", quoted(v))),
                },
            }
        };
        let number = |k: &str, what: &str| -> std::result::Result<f64, String> {
            let v = get(k).ok_or_else(|| format!("missing key {k} ({what})"))?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{k} = {} is not a number", quoted(v)))
        };
        let big_endian = match get("BSEQ") {
            None | Some("BIG") => true,
            Some("LIT") => false,
            Some(v) => return Err(format!("BSEQ = {}: expected BIG or LIT", quoted(v))),
        };
        let irfmt = get("IRFMT").ok_or("missing key IRFMT (data format)")?;
        let format = match irfmt {
            "C" | "S" | "I" | "F" | "D" => irfmt.chars().next().expect("one character"),
            "A" => return Err("IRFMT = A: ASCII BES3T data is not supported".into()),
            "0" | "N" => return Err(format!("IRFMT = {irfmt}: the file holds no data")),
            v => return Err(format!("IRFMT = {}: expected C, S, I, F or D", quoted(v))),
        };
        if let Some(ii) = get("IIFMT") {
            if ii != irfmt {
                return Err(format!(
                    "IIFMT = {} differs from IRFMT = {irfmt}",
                    quoted(ii)
                ));
            }
        }
        if let Some(k) = get("IKKF") {
            if k != "REAL" {
                return Err(format!(
                    "IKKF = {}: only real data (REAL) is supported",
                    quoted(k)
                ));
            }
        }
        let (nx, ny, nz) = (
            count("XPTS", true)?,
            count("YPTS", false)?,
            count("ZPTS", false)?,
        );
        let item_size = match format {
            'C' => 1,
            'S' => 2,
            'I' | 'F' => 4,
            _ => 8,
        };
        let data_len = [ny, nz, item_size]
            .iter()
            .try_fold(nx, |acc, &n| acc.checked_mul(n))
            .filter(|&len| len <= isize::MAX as usize)
            .ok_or_else(|| {
                format!(
                    "XPTS·YPTS·ZPTS = {nx}·{ny}·{nz} values of {item_size} bytes: more than memory can address"
                )
            })?;
        let xmin = number("XMIN", "start of the field axis")?;
        let xwid = number("XWID", "width of the field axis")?;
        // Bounds every point of the field grid: no overflow to infinity.
        if !(xmin.abs() + xwid.abs()).is_finite() {
            return Err(format!(
                "XMIN = {xmin} and XWID = {xwid}: the field axis overflows"
            ));
        }
        Ok(Layout {
            nx,
            ny,
            nz,
            big_endian,
            format,
            item_size,
            data_len,
            xmin,
            xwid,
        })
    }

    /// Checks that the `.DTA` holds `len` bytes, as the descriptor says.
    fn check_data_len(&self, len: u64) -> std::result::Result<(), String> {
        let expected = self.data_len as u64;
        if len == expected {
            return Ok(());
        }
        let what = if len < expected {
            "truncated"
        } else {
            "too long"
        };
        Err(format!(
            "{what}: XPTS·YPTS·ZPTS = {}·{}·{} values of {} bytes (IRFMT {}) need {expected} bytes, the file has {len}",
            self.nx,
            self.ny,
            self.nz,
            self.item_size,
            self.format
        ))
    }

    /// The values of `bytes` (of the checked length), in file order; non-finite values of a
    /// float format are an error.
    fn decode(&self, bytes: &[u8]) -> std::result::Result<Vec<f64>, String> {
        let size = self.item_size;
        let mut values = Vec::new();
        values
            .try_reserve_exact(bytes.len() / size)
            .map_err(|_| format!("cannot allocate memory for {} values", bytes.len() / size))?;
        let be = self.big_endian;
        macro_rules! conv {
            ($t:ty) => {
                values.extend(bytes.chunks_exact(size).map(|c| {
                    let a = c.try_into().expect("chunk of the item size");
                    (if be {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }) as f64
                }))
            };
        }
        match self.format {
            'C' => conv!(i8),
            'S' => conv!(i16),
            'I' => conv!(i32),
            'F' => conv!(f32),
            _ => conv!(f64),
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "value {i} (counted in file order from 0) is {}: the data must be finite (read as IRFMT {} in BSEQ {} byte order: is BSEQ right?)",
                values[i],
                self.format,
                if be { "BIG" } else { "LIT" }
            ));
        }
        Ok(values)
    }

    /// `(YPTS, XPTS, ZPTS)` row-major values as `(YPTS·ZPTS, XPTS)`, unit axes dropped.
    fn arrange(&self, values: Vec<f64>) -> ArrayD<f64> {
        let (nx, ny, nz) = (self.nx, self.ny, self.nz);
        let rows = ny * nz;
        let a = if nz == 1 {
            ArrayD::from_shape_vec(IxDyn(&[ny, nx]), values).expect("size checked")
        } else {
            // row index = z·YPTS + y (PyEPRI's stack=False order).
            ArrayD::from_shape_fn(IxDyn(&[rows, nx]), |i| {
                let (z, y, x) = (i[0] / ny, i[0] % ny, i[1]);
                values[(y * nx + x) * nz + z]
            })
        };
        if rows == 1 {
            a.into_shape_with_order(IxDyn(&[nx])).expect("one row")
        } else {
            a
        }
    }
}

/// The gradient table of an imaging experiment (a `grdUnit` device), checked: magnitude and
/// angles finite, as many gradients as the data have rows.
struct GradientTable {
    /// Magnitude `SPL.GRAD`, G/cm.
    magnitude: f64,
    /// `FirstAlpha`, degrees.
    first_alpha: f64,
    /// `NrOfAlpha`.
    n: usize,
    /// `ImageType 3D`: an `n×n` grid of directions, else `n` directions in a plane.
    three_d: bool,
}

impl GradientTable {
    /// The table's parameters, `None` without a `grdUnit` device. `rows`: `YPTS·ZPTS`, the
    /// number of projections when the data are a sinogram (more than one row).
    fn from_descriptor(d: &Descriptor, rows: usize) -> std::result::Result<Option<Self>, String> {
        if !d.devices.contains_key("grdUnit") {
            return Ok(None);
        }
        let leading_number = |k: &str| -> std::result::Result<f64, String> {
            let v = d
                .device("grdUnit", k)
                .ok_or_else(|| format!("missing grdUnit key {k}"))?;
            v.split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("grdUnit {k} = {} is not a number", quoted(v)))
        };
        let mu_text = d
            .get("SPL", "GRAD")
            .ok_or("missing key GRAD in #SPL (gradient magnitude, G/cm)")?;
        let magnitude = mu_text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("GRAD = {} is not a number", quoted(mu_text)))?;
        let first_alpha = leading_number("FirstAlpha")?;
        let n = leading_number("NrOfAlpha")?;
        if n < 1.0 || n.fract() != 0.0 {
            return Err(format!("grdUnit NrOfAlpha = {n} is not a positive integer"));
        }
        let kind = d
            .device("grdUnit", "ImageType")
            .ok_or("missing grdUnit key ImageType (2D or 3D)")?;
        let three_d = match kind.trim().to_ascii_uppercase().as_str() {
            "2D" => false,
            "3D" => true,
            _ => {
                return Err(format!(
                    "grdUnit ImageType = {}: expected 2D or 3D",
                    quoted(kind)
                ))
            }
        };
        // Exact in f64 below 2^53; the table has n or n² entries.
        let count = (n < 2f64.powi(53)).then_some(n as usize).and_then(|n| {
            if three_d {
                n.checked_mul(n)
            } else {
                Some(n)
            }
        });
        let what = if three_d {
            "NrOfAlpha² gradients (3D)"
        } else {
            "NrOfAlpha gradients (2D)"
        };
        let fits = match count {
            Some(c) if rows > 1 => c == rows,
            Some(c) => c <= MAX_GRADIENTS,
            None => false,
        };
        if !fits {
            let count = count.map_or("too many".into(), |c| c.to_string());
            return Err(if rows > 1 {
                format!(
                    "grdUnit NrOfAlpha = {n} gives {count} {what}, but the data have {rows} projections (YPTS·ZPTS)"
                )
            } else {
                format!(
                    "grdUnit NrOfAlpha = {n} gives {count} {what}, more than the {MAX_GRADIENTS} epri accepts"
                )
            });
        }
        let n = n as usize;
        // Largest angle, degrees: every angle of the table is finite.
        if !(first_alpha * (2 * n - 1) as f64).is_finite() {
            return Err(format!(
                "grdUnit FirstAlpha = {first_alpha}: the angles overflow"
            ));
        }
        Ok(Some(GradientTable {
            magnitude,
            first_alpha,
            n,
            three_d,
        }))
    }

    /// The gradients `(d, P)`, G/cm: angles `a_k = FirstAlpha + 2·k·FirstAlpha`; 2D
    /// `μ (cos a_k, sin a_k)`; 3D (`θ = a[col]`, `φ = a[row]`) row-major,
    /// `μ (cos θ sin φ, sin θ sin φ, cos φ)`.
    fn table(&self) -> Array2<f64> {
        let (n, mu, first) = (self.n, self.magnitude, self.first_alpha);
        let angles: Vec<f64> = (0..n)
            .map(|k| (first + k as f64 * 2.0 * first).to_radians())
            .collect();
        if self.three_d {
            Array2::from_shape_fn((3, n * n), |(a, k)| {
                let (phi, theta) = (angles[k / n], angles[k % n]);
                mu * match a {
                    0 => theta.cos() * phi.sin(),
                    1 => theta.sin() * phi.sin(),
                    _ => phi.cos(),
                }
            })
        } else {
            Array2::from_shape_fn((2, n), |(a, k)| {
                let t = angles[k];
                mu * if a == 0 { t.cos() } else { t.sin() }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_rules() {
        let text = "#DESC\t1.2 * DESCRIPTOR\n*comment\n\nTITL\t'a title'\nLONG\tpart1\\\npart2\n\
                    #DSL\t1.0\n.DVC     grdUnit, 1.0\nFirstAlpha         0.796 deg\n";
        let d = parse_descriptor(text).unwrap();
        assert_eq!(d.get("DESC", "_version"), Some("1.2"));
        assert_eq!(d.get("DESC", "TITL"), Some("a title'"));
        assert_eq!(d.get("DESC", "LONG"), Some("part1part2"));
        assert_eq!(d.device("grdUnit", "FirstAlpha"), Some("0.796 deg"));
        assert_eq!(d.device("grdUnit", "_version"), Some("1.0"));
    }

    #[test]
    fn descriptor_errors() {
        assert!(parse_descriptor("#SPL 1.2\nA 1\n")
            .unwrap_err()
            .contains("#DESC"));
        assert!(parse_descriptor("#FOO 1.2\n").unwrap_err().contains("#FOO"));
        assert!(parse_descriptor("#DESC 1.2\n#DSL 1.0\nKEY v\n")
            .unwrap_err()
            .contains(".DVC"));
        assert!(parse_descriptor("XPTS 3\n#DESC 1.2\n")
            .unwrap_err()
            .contains("outside"));
    }
}
