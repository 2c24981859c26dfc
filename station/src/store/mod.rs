//! The on-disk data directory: paths, name rules, all-or-nothing file writes and `cas.json`.

mod files;
mod layout;
mod metadata;

pub(crate) use files::{read_bounded, FileBatch};
pub use files::read_input_file;
pub(crate) use layout::{set_private_file_mode, validate_name, Layout};
pub(crate) use metadata::{CaRecord, Metadata};
pub use metadata::{CaRole, TokenCustody};
