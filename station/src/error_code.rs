//! Every error code that crosses the station boundary (to the UI, to `--json` output), as one enum; and the
//! [`Audience`] a hint is written for. Codes are stable snake-case strings on the wire.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $wire:literal,)*) => {
        /// A stable, machine-readable error code. The UI and scripts act on it; never on message text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $wire)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire form (`"passphrase_required"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }
        }
    };
}

error_codes! {
    // The CA store and issuance.
    /// The passphrase does not decrypt the CA key.
    WrongPassphrase = "wrong_passphrase",
    /// The private key does not belong to the certificate.
    KeyMismatch = "key_mismatch",
    /// The certificate is not a CA.
    NotACa = "not_a_ca",
    /// A PEM file could not be parsed.
    CorruptPem = "corrupt_pem",
    /// An algorithm Keyline does not support.
    Unsupported = "unsupported",
    /// A CA or file with that name exists.
    AlreadyExists = "already_exists",
    /// No CA with that name.
    NotFound = "not_found",
    /// A name or code is not allowed.
    InvalidName = "invalid_name",
    /// An argument is out of range.
    InvalidInput = "invalid_input",
    /// A station setting is out of range (nothing was saved).
    InvalidSetting = "invalid_setting",
    /// The OS keyring cannot be used.
    KeyringUnavailable = "keyring_unavailable",
    /// A passphrase is needed and none was given.
    PassphraseRequired = "passphrase_required",
    /// A new CA passphrase is too short.
    PassphraseTooShort = "passphrase_too_short",
    /// The data directory is damaged.
    CorruptStore = "corrupt_store",
    /// A certificate could not be built or signed.
    IssueFailed = "issue_failed",
    /// The root CA's key was taken off the station (`ca offline-root`).
    RootOffline = "root_offline",
    // PKCS#11 tokens holding CA keys.
    /// No PKCS#11 module (library) at the path given.
    TokenModuleNotFound = "token_module_not_found",
    /// The module cannot be loaded or started.
    TokenModuleLoad = "token_module_load",
    /// No token with that label.
    TokenNotFound = "token_not_found",
    /// The token refused the PIN.
    TokenWrongPin = "token_wrong_pin",
    /// The token locked its user PIN.
    TokenPinLocked = "token_pin_locked",
    /// No key with that label in the token.
    TokenKeyMissing = "token_key_missing",
    /// A key with that label already exists in the token.
    TokenKeyExists = "token_key_exists",
    /// The token key is not EC P-256.
    TokenKeyWrongCurve = "token_key_wrong_curve",
    /// Another PKCS#11 failure.
    TokenFailed = "token_failed",
    /// File-system failure.
    Io = "io",
    // Operations.
    /// An operation was cancelled.
    Cancelled = "cancelled",
    /// A background task stopped unexpectedly.
    TaskFailed = "task_failed",
    // Serial ports.
    /// The serial ports cannot be enumerated.
    PortsUnavailable = "ports_unavailable",
    /// The simulator's board list is not valid.
    BadSimList = "bad_sim_list",
    // The device ledger.
    /// Not a chip serial.
    InvalidSerial = "invalid_serial",
    /// No such device in the ledger.
    DeviceNotFound = "device_not_found",
    /// The certificate belongs to another device.
    CertificateInUse = "certificate_in_use",
    /// An event the ledger does not accept.
    InvalidEvent = "invalid_event",
    /// A device search the ledger does not accept.
    InvalidSearch = "invalid_search",
    /// The ledger was written by a newer Keyline.
    LedgerNewerSchema = "ledger_newer_schema",
    /// The ledger is damaged.
    LedgerCorrupt = "ledger_corrupt",
    /// The ledger's audit chain does not verify (an entry was changed or removed).
    AuditBroken = "audit_broken",
    /// Another process kept the ledger's write lock longer than Keyline waits.
    LedgerBusy = "ledger_busy",
    /// SQLite failed.
    LedgerDatabase = "ledger_database",
    /// The ledger file could not be read or written.
    LedgerIo = "ledger_io",
    /// An export failed.
    LedgerExport = "ledger_export",
    /// A ledger backup failed.
    LedgerBackup = "ledger_backup",
    // AWS IoT.
    /// No usable AWS credentials.
    CloudNoCredentials = "cloud_no_credentials",
    /// No AWS region.
    CloudNoRegion = "cloud_no_region",
    /// The identity lacks a permission.
    CloudAccessDenied = "cloud_access_denied",
    /// AWS kept throttling.
    CloudThrottled = "cloud_throttled",
    /// AWS answered with a server error.
    CloudServiceUnavailable = "cloud_service_unavailable",
    /// AWS (or the emulator) could not be reached.
    CloudUnreachable = "cloud_unreachable",
    /// The verification certificate's CN is not the registration code.
    CloudWrongRegistrationCode = "cloud_wrong_registration_code",
    /// The verification certificate was signed by another key.
    CloudVerificationCertWrongKey = "cloud_verification_cert_wrong_key",
    /// The verification certificate does not fit the mode.
    CloudVerificationCertMode = "cloud_verification_cert_mode",
    /// The CA is registered already.
    CloudCaAlreadyRegistered = "cloud_ca_already_registered",
    /// The CA is not registered.
    CloudCaNotRegistered = "cloud_ca_not_registered",
    /// The CA is still ACTIVE.
    CloudCaStillActive = "cloud_ca_still_active",
    /// The CA still has device certificates.
    CloudCaHasDevices = "cloud_ca_has_devices",
    /// A device certificate cannot change state.
    CloudCertificateState = "cloud_certificate_state",
    /// No such device certificate.
    CloudDeviceNotFound = "cloud_device_not_found",
    /// Malformed certificate input.
    CloudInvalidCertificate = "cloud_invalid_certificate",
    /// Malformed key input.
    CloudInvalidKey = "cloud_invalid_key",
    /// A serial that cannot be a thing name.
    CloudInvalidSerial = "cloud_invalid_serial",
    /// An unusable device policy template.
    CloudInvalidPolicyTemplate = "cloud_invalid_policy_template",
    /// IAM did not propagate in time.
    CloudIamNotPropagated = "cloud_iam_not_propagated",
    /// The JITP template needs a certificate field the device certificates lack.
    CloudTemplateFieldMissing = "cloud_template_field_missing",
    /// A plain-HTTP endpoint override with real credentials.
    CloudInsecureEndpoint = "cloud_insecure_endpoint",
    /// A JITR stack piece is missing.
    CloudStackIncomplete = "cloud_stack_incomplete",
    /// A file of serials could not be read.
    CloudReadFile = "cloud_read_file",
    /// The MQTT connection test failed in a phase.
    CloudConnectionTest = "cloud_connection_test",
    /// The local emulator failed.
    CloudEmulator = "cloud_emulator",
    /// Any other AWS error.
    CloudAwsError = "cloud_aws_error",
    /// The device never got to publish and receive.
    CloudConnectionTestFailed = "cloud_connection_test_failed",
    // Boards (the drivers' codes, passed through).
    /// The port could not be opened.
    PortOpen = "port_open",
    /// The path is not a serial port.
    NotASerialPort = "not_a_serial_port",
    /// Nothing answered, or not in time.
    Timeout = "timeout",
    /// The port went away.
    Disconnected = "disconnected",
    /// The board runs another firmware.
    WrongFirmware = "wrong_firmware",
    /// A reply broke the firmware's documented format.
    Malformed = "malformed",
    /// The chip is locked with a configuration the firmware did not write.
    ForeignConfig = "foreign_config",
    /// The chip is not a kind the firmware flow provisions.
    UnsupportedChip = "unsupported_chip",
    /// The firmware reported a failure.
    FirmwareFailure = "firmware_failure",
    /// What the board stored differs from what was sent.
    EchoMismatch = "echo_mismatch",
    /// The board must be reset before it can be provisioned.
    NeedsReset = "needs_reset",
    /// The RAM-loaded Espressif helper crashed or never started its command line (reset and RAM-load it again).
    HelperNotAnswering = "helper_not_answering",
    // Provisioning runs.
    /// The board's CSR is not signed by its key.
    BadCsrSignature = "bad_csr_signature",
    /// The CSR carries another key than the chip's slot 0.
    CsrKeyMismatch = "csr_key_mismatch",
    /// The chip's public key is not a P-256 point.
    BadPublicKey = "bad_public_key",
    /// The chip's configuration is unknown.
    ConfigUnknown = "config_unknown",
    // OTA.
    /// A firmware image is not valid.
    OtaBadImage = "ota_bad_image",
    /// An image signature does not verify.
    OtaBadSignature = "ota_bad_signature",
    /// The OTA signing key cannot be used.
    OtaKey = "ota_key",
    /// The OTA TLS setup failed.
    OtaTls = "ota_tls",
    /// The device-management exchange broke its protocol.
    OtaProtocol = "ota_protocol",
    /// An OTA image or message is too large.
    OtaTooLarge = "ota_too_large",
    /// The OTA connection failed.
    OtaConnection = "ota_connection",
    /// An OTA exchange timed out.
    OtaTimeout = "ota_timeout",
    /// The OTA store failed.
    OtaStore = "ota_store",
    // Flashing.
    /// A firmware image to flash is not valid (header, segments, checksum, SHA-256, app descriptor).
    FlashBadImage = "flash_bad_image",
    /// A partition table is not valid.
    FlashBadPartitionTable = "flash_bad_partition_table",
    /// An image is built for another chip than the connected one.
    FlashWrongChip = "flash_wrong_chip",
    /// An image does not fit its partition or the flash.
    FlashDoesNotFit = "flash_does_not_fit",
    /// An image offset is not sector-aligned.
    FlashUnalignedOffset = "flash_unaligned_offset",
    /// Two images overlap.
    FlashOverlappingImages = "flash_overlapping_images",
    /// An image file cannot be read.
    FlashFileUnreadable = "flash_file_unreadable",
    /// The port is not an ESP ROM loader.
    FlashNotRomLoader = "flash_not_rom_loader",
    /// The ROM loader refused a command or stopped answering.
    FlashLoaderFailed = "flash_loader_failed",
    /// The flash read back differs from the image.
    FlashVerifyFailed = "flash_verify_failed",
    // The front ends.
    /// An exported file could not be written.
    WriteFailed = "write_failed",
    /// A file is too large to save.
    TooLarge = "too_large",
    /// A practice-mode command outside practice mode.
    PracticeOff = "practice_off",
    /// The simulated boards failed.
    SimFailed = "sim_failed",
    /// This build has no simulated boards.
    SimUnavailable = "sim_unavailable",
    /// The emulator's port is taken.
    EmulatorPortBusy = "emulator_port_busy",
    /// The emulator is not installed.
    EmulatorNotInstalled = "emulator_not_installed",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Who reads a hint: the `keyline` CLI is told about commands and flags, the desktop window about its screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The `keyline` command line.
    Cli,
    /// The desktop window.
    Gui,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_are_unique_snake_case_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{wire}");
            assert!(seen.insert(wire), "{wire} twice");
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert_eq!(serde_json::from_value::<ErrorCode>(wire.into()).unwrap(), *code);
        }
    }
}
