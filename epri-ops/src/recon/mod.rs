//! Reconstructions: TV-regularised least squares and filtered backprojection.
