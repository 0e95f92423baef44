//! Linewidth → pO2: the linear calibration of EPR oximetry probes.
//!
//! The peak-to-peak linewidth of an oxygen-sensitive probe (trityl radicals such as OX063 and
//! OX071, lithium phthalocyanine, India ink...) grows linearly with the oxygen partial pressure
//! over the probe's working range (Heisenberg spin exchange with O2):
//!
//! ```text
//! width = width_0 + slope · pO2      ⇔      pO2 = (width − width_0) / slope
//! ```
//!
//! `width_0` (G) is the anoxic linewidth and `slope` (G/mmHg) the oxygen sensitivity, both
//! measured on the probe batch, at the field/frequency, temperature and medium of the
//! experiment (the published values vary with all of these, and `width_0` also with the
//! probe's concentration and the modulation amplitude): this module takes them from the user.
//! [`Probe`]: published slopes checked against their source (no anoxic width is preset).

use super::fit::{FitMaps, Status};
use super::model::Param;
use crate::error::{Error, Result};
use ndarray::ArrayD;

/// A probe with a published oxygen sensitivity, for [`Calibration::preset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// LiNc microcrystals, 31.2 mG/mmHg: R. P. Pandian, S. M. Chacko, M. L. Kuppusamy, B. K.
    /// Rivera, P. Kuppusamy, "Evaluation of lithium naphthalocyanine (LiNc) microcrystals for
    /// biological EPR oximetry", Adv. Exp. Med. Biol. 701 (2011) 29–36,
    /// doi:10.1007/978-1-4419-7756-4_5 (abstract; measured in J. Mater. Chem. 19 (2009) 4138). Band, medium, temperature and which width are not stated there: taken as
    /// peak-to-peak (were it a Lorentzian FWHM, 31.2/√3 = 18.0 mG/mmHg peak-to-peak).
    LiNc,
}

impl Probe {
    /// The published oxygen sensitivity, G/mmHg (peak-to-peak width).
    pub fn slope(self) -> f64 {
        match self {
            Probe::LiNc => 0.0312,
        }
    }
}

/// A linear linewidth calibration `pO2 = (width − width_0) / slope`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    width0: f64,
    slope: f64,
}

impl Calibration {
    /// A calibration with anoxic peak-to-peak width `width0` (G, finite, ≥ 0) and oxygen
    /// sensitivity `slope` (G/mmHg, finite, > 0).
    pub fn new(width0: f64, slope: f64) -> Result<Self> {
        if !(width0.is_finite() && width0 >= 0.0) {
            return Err(Error::Parameter(format!(
                "the anoxic width width_0 must be a finite width ≥ 0 G, got {width0}"
            )));
        }
        if !(slope.is_finite() && slope > 0.0) {
            return Err(Error::Parameter(format!(
                "the oxygen sensitivity slope must be finite and > 0 G/mmHg, got {slope}"
            )));
        }
        Ok(Calibration { width0, slope })
    }

    /// The published slope of `probe` with the anoxic peak-to-peak width `width0` (G, ≥ 0)
    /// measured on the batch under the experiment's conditions.
    pub fn preset(probe: Probe, width0: f64) -> Result<Self> {
        Calibration::new(width0, probe.slope())
    }

    /// The anoxic peak-to-peak width, G.
    pub fn width0(&self) -> f64 {
        self.width0
    }

    /// The oxygen sensitivity, G/mmHg.
    pub fn slope(&self) -> f64 {
        self.slope
    }

    /// pO2 (mmHg) of a peak-to-peak width (G). Widths below `width_0` (noise) give negative
    /// values, kept as they are: clipping them at 0 would bias averages over a region.
    pub fn po2(&self, width: f64) -> f64 {
        (width - self.width0) / self.slope
    }

    /// The standard error of pO2 (mmHg) from that of the width (G).
    pub fn po2_error(&self, width_error: f64) -> f64 {
        width_error / self.slope
    }

    /// The pO2 map (mmHg) of fitted maps: 0 in masked voxels (see [`FitMaps::mask`]).
    pub fn po2_map(&self, maps: &FitMaps) -> ArrayD<f64> {
        let w = Param::Width.index();
        maps.map(|v| match v.status {
            Status::Fitted => self.po2(v.params[w]),
            _ => 0.0,
        })
    }

    /// The map of the standard error of pO2 (mmHg): 0 in masked voxels.
    pub fn po2_error_map(&self, maps: &FitMaps) -> ArrayD<f64> {
        let w = Param::Width.index();
        maps.map(|v| self.po2_error(v.std_errors[w]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverts_the_linear_model_and_refuses_bad_values() {
        let c = Calibration::new(0.15, 0.005).unwrap();
        for po2 in [0.0, 7.5, 40.0, 160.0] {
            let width = 0.15 + 0.005 * po2;
            assert!((c.po2(width) - po2).abs() < 1e-9, "{po2}");
        }
        assert!((c.po2_error(0.01) - 2.0).abs() < 1e-12);
        for (w0, s) in [
            (-0.1, 0.01),
            (f64::NAN, 0.01),
            (0.1, 0.0),
            (0.1, -0.01),
            (0.1, f64::INFINITY),
        ] {
            let e = Calibration::new(w0, s).unwrap_err().to_string();
            assert!(e.contains("width_0") || e.contains("slope"), "{e}");
        }
    }

    #[test]
    fn the_linc_preset_takes_its_published_slope_and_the_measured_width() {
        let c = Calibration::preset(Probe::LiNc, 0.63).unwrap();
        assert_eq!((c.width0(), c.slope()), (0.63, 0.0312));
        assert!((c.po2(0.63 + 0.312) - 10.0).abs() < 1e-9);
        assert!(Calibration::preset(Probe::LiNc, -0.1).is_err());
    }
}
