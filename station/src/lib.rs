//! The Keyline station library: everything the CLI and the desktop shell call.
