//! The cloud connection test's throwaway device certificate, signed by a signer whose key is in a token.

use keyline_station::ca::{CreateCa, NewKeyCustody};
use keyline_station::{Passphrase, Station};

use crate::softhsm::{SoftHsm, PIN};
use crate::support::{openssl, Env};

/// The one test of this binary that loads SoftHSM2 in-process (a module reads SOFTHSM2_CONF once per process).
#[test]
fn the_connection_test_identity_is_signed_in_the_token_and_recorded() {
    let hsm = SoftHsm::new();
    hsm.init_token("conn");
    // The other tests pass SOFTHSM2_CONF to their child processes explicitly; std serialises this with their spawns.
    std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
    let env = Env::new();
    let station = Station::open(env.data.clone()).unwrap();
    let pin = Passphrase::from(PIN);
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 5 };
    let custody = NewKeyCustody::Token { module: hsm.module.clone(), token: "conn".into(), pin: &pin };
    station.create_ca_in(request, None, &custody, &mut |_| {}).unwrap();

    let identity = station.cloud_device_identity("signer", None).unwrap();
    let cert = env.path("test-device.pem");
    std::fs::write(&cert, &identity.cert_pem).unwrap();
    let verify = openssl(&[
        "verify", "-CAfile", env.data_path("certs/root.crt").to_str().unwrap(), "-untrusted",
        env.data_path("certs/signer.crt").to_str().unwrap(), cert.to_str().unwrap(),
    ]);
    assert!(verify.contains(": OK"), "{verify}");
    let listed = env.ok(&["devices", "list", "--json"]);
    assert!(listed.contains(&identity.serial.to_lowercase()) || listed.contains(&identity.serial), "{listed}");
}
