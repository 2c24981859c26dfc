//! Shared helpers for the board's flashing tests.
#![allow(dead_code)]

pub mod helper_bin;
pub mod images;
