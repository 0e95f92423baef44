//! power (to be written)
