//! Integration tests of the `keyline` binary, checked with the `openssl` CLI as the independent peer.

mod bench_issue;
mod ca_create;
mod ca_errors;
mod ca_import;
mod ca_passwd;
mod cloud_credentials;
mod keyring;
mod no_plaintext_keys;
mod support;
mod verification;
