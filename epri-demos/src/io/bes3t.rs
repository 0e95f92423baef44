//! Bruker BES3T files: a `.DSC` text descriptor and a `.DTA` binary data file (SPEC §6, the
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
//!   (θ = a[col], φ = a[row]) flattened row-major, `g = μ (cos θ sin φ, sin θ sin φ, cos φ)`,
//!   shape `(3, N²)`.
//!
//! Every value is returned as `f64`.

use super::array::HostArray;
use super::npy::io_msg;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// The `.DSC` file.
    pub dsc: PathBuf,
    /// The parsed descriptor.
    pub descriptor: Descriptor,
    /// Field grid `B` (G), shape `(XPTS,)`.
    pub b: Array1<f64>,
    /// Data: `(P, Nb)` sinogram or `(Nb,)` spectrum.
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
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("dsc") || e.eq_ignore_ascii_case("dta"))
}

/// The `.DSC` and `.DTA` companions of a `.DSC` or `.DTA` path (same folder and stem; the
/// extension in upper case, else in lower case, else as given).
fn companions(path: &Path) -> Result<(PathBuf, PathBuf)> {
    if !is_bes3t(path) {
        return Err(Error::file(
            path,
            "not a BES3T file: expected a .DSC or .DTA extension",
        ));
    }
    let pick = |ext: &str| {
        let upper = path.with_extension(ext.to_ascii_uppercase());
        let lower = path.with_extension(ext);
        if upper.exists() || !lower.exists() {
            upper
        } else {
            lower
        }
    };
    Ok((pick("dsc"), pick("dta")))
}

/// Reads a BES3T dataset from its `.DSC` or `.DTA` path.
pub fn read_bes3t(path: &Path) -> Result<Bes3t> {
    let (dsc, dta) = companions(path)?;
    let text = std::fs::read(&dsc).map_err(|e| Error::file(&dsc, io_msg(&e)))?;
    let text = String::from_utf8_lossy(&text);
    let descriptor = parse_descriptor(&text).map_err(|m| Error::file(&dsc, m))?;
    let layout = Layout::from_descriptor(&descriptor).map_err(|m| Error::file(&dsc, m))?;
    let bytes = std::fs::read(&dta).map_err(|e| Error::file(&dta, io_msg(&e)))?;
    let values = layout.decode(&bytes).map_err(|m| Error::file(&dta, m))?;
    let data = layout.arrange(values);
    let b = backend_core::host::linspace(layout.xmin, layout.xmin + layout.xwid, layout.nx);
    let fgrad = gradients(&descriptor).map_err(|m| Error::file(&dsc, m))?;
    Ok(Bes3t {
        dsc,
        descriptor,
        b,
        data,
        fgrad,
    })
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `#(\w+)\W+(\d+.\d+)` searched anywhere in the line: (name, version).
fn section_header(line: &str) -> Option<(String, String)> {
    for (i, _) in line.match_indices('#') {
        let rest = &line[i + 1..];
        let name: String = rest.chars().take_while(|&c| is_word(c)).collect();
        if name.is_empty() {
            continue;
        }
        let after = &rest[name.len()..];
        let sep = after.chars().take_while(|&c| !is_word(c)).count();
        if sep == 0 {
            continue;
        }
        let tail: Vec<char> = after.chars().skip(sep).collect();
        // \d+ . \d+ (the dot of the regex matches any character)
        let d1 = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if d1 == 0 || tail.len() < d1 + 2 || !tail[d1 + 1].is_ascii_digit() {
            continue;
        }
        let d2 = tail[d1 + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        return Some((name, tail[..d1 + 1 + d2].iter().collect()));
    }
    None
}

/// `\.DVC\W+(\w+),\W+(\d+\.\d+)`: (device, version).
fn device_header(line: &str) -> Option<(String, String)> {
    let i = line.find(".DVC")?;
    let rest = &line[i + 4..];
    let sep = rest.chars().take_while(|&c| !is_word(c)).count();
    if sep == 0 {
        return None;
    }
    let rest: String = rest.chars().skip(sep).collect();
    let name: String = rest.chars().take_while(|&c| is_word(c)).collect();
    let after = rest[name.len()..].strip_prefix(',')?;
    let version = after.trim_start_matches(|c: char| !is_word(c));
    if name.is_empty() || after.len() == version.len() {
        return None;
    }
    let version: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    version.contains('.').then_some((name, version))
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

/// Parses the text of a `.DSC` file.
pub fn parse_descriptor(text: &str) -> std::result::Result<Descriptor, String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.split('\n') {
        if line.starts_with('*') || line.is_empty() {
            continue;
        }
        pending.push_str(line);
        if pending.ends_with('\\') {
            let trimmed = pending.trim_matches('\\').to_string();
            pending = trimmed;
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
                return Err(format!("unknown descriptor layer #{name}"));
            }
            d.layers
                .insert(name.clone(), Params::from([("_version".into(), version)]));
            section = Some(name);
            device = None;
            continue;
        }
        if let Some((name, version)) = device_header(line) {
            if section.is_none() {
                return Err(format!("device block .DVC {name} outside any layer"));
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
                "line {}: expected `KEY value`, found {line:?}",
                n + 1
            ));
        };
        let Some(layer) = &section else {
            return Err(format!("key {key} outside any #DESC/#SPL/#DSL/#MHL layer"));
        };
        match &device {
            Some(dev) => d.devices.get_mut(dev),
            None if layer == "DSL" => {
                return Err(format!(
                    "key {key} of the #DSL layer outside a .DVC device block"
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
                    _ => Err(format!("{k} = {v:?} is not a positive integer")),
                },
            }
        };
        let number = |k: &str, what: &str| -> std::result::Result<f64, String> {
            let v = get(k).ok_or_else(|| format!("missing key {k} ({what})"))?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{k} = {v:?} is not a number"))
        };
        let big_endian = match get("BSEQ") {
            None | Some("BIG") => true,
            Some("LIT") => false,
            Some(v) => return Err(format!("BSEQ = {v:?}: expected BIG or LIT")),
        };
        let irfmt = get("IRFMT").ok_or("missing key IRFMT (data format)")?;
        let format = match irfmt {
            "C" | "S" | "I" | "F" | "D" => irfmt.chars().next().expect("one character"),
            "A" => return Err("IRFMT = A: ASCII BES3T data is not supported".into()),
            "0" | "N" => return Err(format!("IRFMT = {irfmt}: the file holds no data")),
            v => return Err(format!("IRFMT = {v:?}: expected C, S, I, F or D")),
        };
        if let Some(ii) = get("IIFMT") {
            if ii != irfmt {
                return Err(format!("IIFMT = {ii} differs from IRFMT = {irfmt}"));
            }
        }
        if let Some(k) = get("IKKF") {
            if k != "REAL" {
                return Err(format!("IKKF = {k}: only real data (REAL) is supported"));
            }
        }
        Ok(Layout {
            nx: count("XPTS", true)?,
            ny: count("YPTS", false)?,
            nz: count("ZPTS", false)?,
            big_endian,
            format,
            xmin: number("XMIN", "start of the field axis")?,
            xwid: number("XWID", "width of the field axis")?,
        })
    }

    fn item_size(&self) -> usize {
        match self.format {
            'C' => 1,
            'S' => 2,
            'I' | 'F' => 4,
            _ => 8,
        }
    }

    fn decode(&self, bytes: &[u8]) -> std::result::Result<Vec<f64>, String> {
        let n = self.nx * self.ny * self.nz;
        let size = self.item_size();
        let expected = n * size;
        if bytes.len() != expected {
            let what = if bytes.len() < expected {
                "truncated"
            } else {
                "too long"
            };
            return Err(format!(
                "{what}: XPTS·YPTS·ZPTS = {}·{}·{} values of {size} bytes (IRFMT {}) need {expected} bytes, the file has {}",
                self.nx, self.ny, self.nz, self.format, bytes.len()
            ));
        }
        let be = self.big_endian;
        macro_rules! conv {
            ($t:ty) => {
                bytes
                    .chunks_exact(size)
                    .map(|c| {
                        let a = c.try_into().expect("chunk of the item size");
                        (if be {
                            <$t>::from_be_bytes(a)
                        } else {
                            <$t>::from_le_bytes(a)
                        }) as f64
                    })
                    .collect()
            };
        }
        Ok(match self.format {
            'C' => conv!(i8),
            'S' => conv!(i16),
            'I' => conv!(i32),
            'F' => conv!(f32),
            _ => conv!(f64),
        })
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

/// The gradient table of an imaging experiment, `None` without a `grdUnit` device.
fn gradients(d: &Descriptor) -> std::result::Result<Option<Array2<f64>>, String> {
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
            .ok_or_else(|| format!("grdUnit {k} = {v:?} is not a number"))
    };
    let mu_text = d
        .get("SPL", "GRAD")
        .ok_or("missing key GRAD in #SPL (gradient magnitude, G/cm)")?;
    let mu: f64 = mu_text
        .trim()
        .parse()
        .map_err(|_| format!("GRAD = {mu_text:?} is not a number"))?;
    let first = leading_number("FirstAlpha")?;
    let n = leading_number("NrOfAlpha")?;
    if n < 1.0 || n.fract() != 0.0 {
        return Err(format!("grdUnit NrOfAlpha = {n} is not a positive integer"));
    }
    let n = n as usize;
    let angles: Vec<f64> = (0..n)
        .map(|k| (first + k as f64 * 2.0 * first).to_radians())
        .collect();
    let kind = d
        .device("grdUnit", "ImageType")
        .ok_or("missing grdUnit key ImageType (2D or 3D)")?;
    match kind.trim().to_ascii_uppercase().as_str() {
        "2D" => Ok(Some(Array2::from_shape_fn((2, n), |(a, k)| {
            let t = angles[k];
            mu * if a == 0 { t.cos() } else { t.sin() }
        }))),
        "3D" => Ok(Some(Array2::from_shape_fn((3, n * n), |(a, k)| {
            let (phi, theta) = (angles[k / n], angles[k % n]);
            mu * match a {
                0 => theta.cos() * phi.sin(),
                1 => theta.sin() * phi.sin(),
                _ => phi.cos(),
            }
        }))),
        other => Err(format!("grdUnit ImageType = {other:?}: expected 2D or 3D")),
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
