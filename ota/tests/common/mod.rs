//! A throwaway project PKI (root → signer → server/client/device certificates) for server tests.

use std::sync::Arc;

use keyline_certs::{create_root_ca, create_signer_ca, issue_tls_client_cert, issue_tls_server_cert, CaSubject, CertInfo, EcKey, Validity};
use keyline_ota::tls::{self, TlsIdentity};

pub struct Pki {
    pub root: CertInfo,
    pub signer: CertInfo,
    signer_key: EcKey,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let now = time::OffsetDateTime::now_utc();
        let root_key = EcKey::generate();
        let root = create_root_ca(&CaSubject { common_name: format!("{name} root"), organization: name.into() }, Validity::years_from(now, 10), &root_key).unwrap();
        let signer_key = EcKey::generate();
        let signer = create_signer_ca(&CaSubject { common_name: format!("{name} signer"), organization: name.into() }, Validity::years_from(now, 5), &signer_key, &root, &root_key).unwrap();
        Pki { root, signer, signer_key }
    }

    pub fn chain_pem(&self) -> String {
        self.signer.pem() + &self.root.pem()
    }

    fn identity(&self, cert: CertInfo, key: &EcKey) -> TlsIdentity {
        TlsIdentity::new(&(cert.pem() + &self.chain_pem()), key.pkcs8_der().unwrap()).unwrap()
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = EcKey::generate();
        let now = time::OffsetDateTime::now_utc();
        let cert = issue_tls_server_cert(&["127.0.0.1".into(), "localhost".into()], Validity::days_from(now, 30), &key, &self.signer, &self.signer_key).unwrap();
        tls::server_config(&self.identity(cert, &key), tls::roots_from_pem(&self.chain_pem()).unwrap()).unwrap()
    }

    /// A client configuration for CN `name` (an 18-hex serial makes a device peer) trusting `server_pki`.
    pub fn client_config(&self, name: &str, server_pki: &Pki) -> Arc<rustls::ClientConfig> {
        let key = EcKey::generate();
        let now = time::OffsetDateTime::now_utc();
        let cert = issue_tls_client_cert(name, Validity::days_from(now, 30), &key, &self.signer, &self.signer_key).unwrap();
        tls::client_config(&self.identity(cert, &key), tls::roots_from_pem(&server_pki.chain_pem()).unwrap()).unwrap()
    }
}
