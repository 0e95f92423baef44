//! toeplitz (to be written)
