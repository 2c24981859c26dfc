//! [`Passphrase`]: a CA passphrase that is wiped from memory on drop and never printed.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// Environment variable the CLI reads a CA passphrase from (first in the resolution order).
pub const CA_PASSPHRASE_ENV: &str = "KEYLINE_CA_PASSPHRASE";

/// Environment variable the CLI reads the passphrase of an encrypted key being imported from.
/// When unset, [`CA_PASSPHRASE_ENV`] is tried.
pub const IMPORT_PASSPHRASE_ENV: &str = "KEYLINE_IMPORT_PASSPHRASE";

/// Environment variable the CLI reads the user PIN of a PKCS#11 token from (CAs whose key is in a token).
pub const TOKEN_PIN_ENV: &str = "KEYLINE_TOKEN_PIN";

/// Environment variable the CLI reads a root CA's own passphrase from (`ca create --separate-root-passphrase`,
/// `ca offline-root`, `ca restore-root`).
pub const ROOT_PASSPHRASE_ENV: &str = "KEYLINE_ROOT_PASSPHRASE";

/// Fewest characters (Unicode scalar values) a passphrase that encrypts a new CA key may have;
/// the same minimum as the desktop UI's.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// A secret passphrase. `Debug` prints `[redacted]`; the memory is zeroed on drop.
///
/// It deserialises from a plain JSON string so the desktop shell can take it as a command
/// argument; it deliberately does not implement `Serialize` or `Display`.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

/// On the wire a passphrase is a plain string (the window sends it; nothing sends it back).
#[cfg(feature = "specta")]
impl specta::Type for Passphrase {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        String::definition(types)
    }
}

impl Passphrase {
    /// Wrap a passphrase.
    pub fn new(secret: String) -> Self {
        Passphrase(Zeroizing::new(secret))
    }

    /// The passphrase text; keep the borrow short and never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of characters (Unicode scalar values).
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl From<String> for Passphrase {
    fn from(secret: String) -> Self {
        Passphrase::new(secret)
    }
}

impl From<&str> for Passphrase {
    fn from(secret: &str) -> Self {
        Passphrase::new(secret.to_owned())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

impl<'de> Deserialize<'de> for Passphrase {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Passphrase::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let pass = Passphrase::from("hunter2-secret");
        assert!(!format!("{pass:?}").contains("hunter2"));
    }

    #[test]
    fn deserialises_from_a_json_string() {
        let pass: Passphrase = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(pass.expose(), "abc");
    }
}
