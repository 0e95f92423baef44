//! proj (to be written)
