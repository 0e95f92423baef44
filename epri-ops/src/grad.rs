//! grad (to be written)
