//! The 128-byte configuration zone: field offsets, SlotConfig/KeyConfig decoding and the factory image.

/// Config zone size in bytes.
pub const CONFIG_SIZE: usize = 128;
/// Offset of LockValue (data/OTP zone lock); 0x55 = unlocked.
pub const LOCK_VALUE: usize = 86;
/// Offset of LockConfig; 0x55 = unlocked.
pub const LOCK_CONFIG: usize = 87;
/// Offset of the 16-bit SlotLocked field (bit = 0 means the slot is locked).
pub const SLOT_LOCKED: usize = 88;
/// The unlocked marker of LockValue / LockConfig.
pub const UNLOCKED: u8 = 0x55;
/// ATECC608A revision (Info command, mode 0) as read from config bytes 4-7.
pub const REVISION: [u8; 4] = [0x00, 0x00, 0x60, 0x02];

/// Sizes of the 16 data slots in bytes.
pub fn slot_size(slot: usize) -> usize {
    match slot {
        0..=7 => 36,
        8 => 416,
        _ => 72,
    }
}

/// KeyConfig.KeyType value for a P-256 key.
pub const KEY_TYPE_P256: u16 = 4;

/// SlotConfig of one slot, decoded the way the chip reads it (datasheet bit layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotConfig(pub u16);

impl SlotConfig {
    /// ReadKey (bits 3-0); for private-key slots these are the usage bits (bit 0 = external Sign allowed).
    pub fn read_key(self) -> u16 {
        self.0 & 0x0F
    }
    /// IsSecret (bit 7): the slot is never readable in clear.
    pub fn is_secret(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// EncRead (bit 6): reads must be encrypted.
    pub fn enc_read(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// WriteKey (bits 11-8): the key slot used for encrypted writes.
    pub fn write_key(self) -> u16 {
        (self.0 >> 8) & 0x0F
    }
    /// WriteConfig (bits 15-12).
    pub fn write_config(self) -> u16 {
        (self.0 >> 12) & 0x0F
    }
    /// How the Write command may change this slot after the data zone lock.
    pub fn write_mode(self) -> WriteMode {
        let wc = self.write_config();
        if wc & 0b0100 != 0 {
            WriteMode::Encrypted
        } else if wc & 0b1000 != 0 || wc & 0b0010 != 0 {
            WriteMode::Never
        } else {
            WriteMode::Always
        }
    }
    /// GenKey may create a new private key after the data zone lock (WriteConfig bit 1).
    pub fn genkey_allowed(self) -> bool {
        self.write_config() & 0b0010 != 0
    }
}

/// Write-command policy decoded from WriteConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Clear-text writes allowed.
    Always,
    /// Writes must be encrypted with the WriteKey slot.
    Encrypted,
    /// The Write command may never change the slot.
    Never,
}

/// KeyConfig of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyConfig(pub u16);

impl KeyConfig {
    /// Private (bit 0): the slot holds an ECC private key.
    pub fn private(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// KeyType (bits 4-2).
    pub fn key_type(self) -> u16 {
        (self.0 >> 2) & 0x07
    }
    /// Lockable (bit 5): the slot may be locked individually.
    pub fn lockable(self) -> bool {
        self.0 & 0x20 != 0
    }
}

/// Reads SlotConfig for `slot` from a config image.
pub fn slot_config(config: &[u8; CONFIG_SIZE], slot: usize) -> SlotConfig {
    SlotConfig(u16::from_le_bytes([config[20 + 2 * slot], config[21 + 2 * slot]]))
}

/// Reads KeyConfig for `slot` from a config image.
pub fn key_config(config: &[u8; CONFIG_SIZE], slot: usize) -> KeyConfig {
    KeyConfig(u16::from_le_bytes([config[96 + 2 * slot], config[97 + 2 * slot]]))
}

/// The configuration table the rainbowtype firmware writes (`configure.c`); bytes 0-15 are placeholders.
pub const RAINBOWTYPE_CONFIG: [u8; CONFIG_SIZE] = [
    0x01, 0x23, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0x04, 0x05, 0x06, 0x07, 0xEE, 0x01, 0x01, 0x00, //
    0xC0, 0x00, 0x00, 0x01, 0x8F, 0x20, 0x8F, 0x20, 0x8F, 0x20, 0x8F, 0x20, 0xC6, 0x46, 0xC6, 0x46, //
    0x8F, 0x0F, 0xC6, 0x46, 0xC6, 0x46, 0xC6, 0x46, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, //
    0x0F, 0x0F, 0x0F, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E, 0x60, 0x00, 0x00, 0x00, 0x00, //
    0x13, 0x00, 0x13, 0x00, 0x13, 0x00, 0x13, 0x00, 0x1C, 0x00, 0x18, 0x00, 0x5C, 0x00, 0x3C, 0x00, //
    0x1C, 0x00, 0x38, 0x00, 0x3C, 0x00, 0x30, 0x00, 0x3C, 0x00, 0x3C, 0x00, 0x3C, 0x00, 0x30, 0x00, //
];

/// The config zone of a fresh, unlocked part with the given serial: the factory image of a
/// TrustCUSTOM sample, which carries the same slot layout the rainbowtype table uses (so both
/// firmwares can work with it) and is unlocked (LockValue = LockConfig = 0x55, no slot locked).
pub fn factory_config(serial: &[u8; 9], i2c_address: u8) -> [u8; CONFIG_SIZE] {
    let mut config = RAINBOWTYPE_CONFIG;
    config[0..4].copy_from_slice(&serial[0..4]);
    config[4..8].copy_from_slice(&REVISION);
    config[8..13].copy_from_slice(&serial[4..9]);
    config[13] = 0x00;
    config[14] = 0x01; // AES_Enable
    config[15] = 0x01; // I2C_Enable
    config[16] = i2c_address;
    config[LOCK_VALUE] = UNLOCKED;
    config[LOCK_CONFIG] = UNLOCKED;
    config[SLOT_LOCKED] = 0xFF;
    config[SLOT_LOCKED + 1] = 0xFF;
    config
}

/// The 9-byte serial number as `atcab_read_serial_number` returns it (config 0-3 ‖ 8-12).
pub fn serial_of(config: &[u8; CONFIG_SIZE]) -> [u8; 9] {
    let mut sn = [0u8; 9];
    sn[0..4].copy_from_slice(&config[0..4]);
    sn[4..9].copy_from_slice(&config[8..13]);
    sn
}
