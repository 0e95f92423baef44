//! PNG figures without a plotting library: an RGB canvas, a 5×7 bitmap font, the viridis
//! colour map, and the figure layouts (2D image, 3D slices and projections, spectral-spatial
//! intensity maps with voxel spectra).

pub mod canvas;
pub mod colormap;
pub mod curve;
pub mod figure;
pub mod font;
pub mod plot;
pub mod spectra;

pub use curve::write_lambda_report;
pub use figure::{fmt_value, image_figure, write_image_png};
pub use plot::{write_curves_png, CurvePanel, Series};
pub use spectra::write_spectral_png;
