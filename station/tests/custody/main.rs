//! CA key custody through the `keyline` binary: keys in a PKCS#11 token (SoftHSM2, started by each test in a
//! temp dir) and the offline root, checked with `openssl` as the independent peer.

#[allow(dead_code)]
#[path = "../cli/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../../../certs/tests/support/softhsm.rs"]
mod softhsm;

mod connection_test;
mod offline_root;
mod pkcs11;
