//! [`SecretPem`]: private-key PEM text held in memory that is zeroed on drop and never printed.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, Zeroizing};

/// The text of a private-key file (plain or encrypted PEM) on its way to [`EcKey::from_pem`].
///
/// `Debug` prints `SecretPem([redacted])`; there is no `Display` or `Serialize`. It deserialises
/// from a JSON string so the desktop shell can pass it as a command argument.
///
/// [`EcKey::from_pem`]: crate::EcKey::from_pem
#[derive(Clone, Default)]
pub struct SecretPem(Zeroizing<String>);

/// On the wire the key is a plain string (the window sends it; nothing sends it back).
#[cfg(feature = "specta")]
impl specta::Type for SecretPem {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        String::definition(types)
    }
}

impl SecretPem {
    /// The text; keep the borrow short and never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Take the bytes of a file read by [`read_bounded_file`](crate::read_bounded_file) without
    /// copying them; `None` (with the bytes wiped) when they are not UTF-8.
    pub fn from_utf8(mut bytes: Zeroizing<Vec<u8>>) -> Option<SecretPem> {
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Some(SecretPem(Zeroizing::new(text))),
            Err(error) => {
                error.into_bytes().zeroize();
                None
            }
        }
    }
}

impl From<String> for SecretPem {
    fn from(text: String) -> Self {
        SecretPem(Zeroizing::new(text))
    }
}

impl fmt::Debug for SecretPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPem([redacted])")
    }
}

impl<'de> Deserialize<'de> for SecretPem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretPem::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcKey;

    #[test]
    fn debug_output_holds_no_key_material() {
        let key = EcKey::generate();
        let pem = key.to_encrypted_pem(b"debug test pass").unwrap();
        let secret = SecretPem::from(pem.clone());
        let debug = format!("{secret:?} {:?}", Some(&secret));
        for line in pem.lines().filter(|line| !line.starts_with("-----")) {
            assert!(!debug.contains(line), "{debug}");
        }
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
        let hex: String = key.scalar_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!format!("{key:?}").contains(&hex));
        assert_eq!(secret.expose(), pem);
    }

    #[test]
    fn takes_file_bytes_and_refuses_non_utf8() {
        assert_eq!(SecretPem::from_utf8(Zeroizing::new(b"-----BEGIN".to_vec())).unwrap().expose(), "-----BEGIN");
        assert!(SecretPem::from_utf8(Zeroizing::new(vec![0xff, 0xfe])).is_none());
    }
}
