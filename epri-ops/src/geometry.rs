//! geometry (to be written)
