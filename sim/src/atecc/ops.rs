//! ATECC608A commands as CryptoAuthLib's `atcab_*` calls see them, with the chip's access rules.

use super::config::{
    key_config, serial_of, slot_config, slot_size, WriteMode, KEY_TYPE_P256, LOCK_CONFIG, LOCK_VALUE,
    REVISION, SLOT_LOCKED, UNLOCKED,
};
use super::{Atecc608, ChipError};
use crate::clock::ChipOp;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;

/// Lock zone selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Config,
    Data,
}

type ChipResult<T> = Result<T, ChipError>;

impl Atecc608 {
    /// Info (mode 0): the revision word.
    pub fn info(&self) -> [u8; 4] {
        self.clock.charge_op(ChipOp::Info);
        REVISION
    }

    /// The 9-byte serial number.
    pub fn serial(&self) -> [u8; 9] {
        self.clock.charge_op(ChipOp::Read);
        serial_of(&self.config)
    }

    /// The whole config zone (always readable).
    pub fn read_config_zone(&self) -> [u8; 128] {
        for _ in 0..4 {
            self.clock.charge_op(ChipOp::Read);
        }
        self.config
    }

    /// `atcab_is_locked`.
    pub fn is_locked(&self, zone: Zone) -> bool {
        let offset = match zone {
            Zone::Config => LOCK_CONFIG,
            Zone::Data => LOCK_VALUE,
        };
        self.config[offset] != UNLOCKED
    }

    /// Whether `slot` was locked individually (SlotLocked bit cleared).
    pub fn is_slot_locked(&self, slot: usize) -> bool {
        let bits = u16::from_le_bytes([self.config[SLOT_LOCKED], self.config[SLOT_LOCKED + 1]]);
        bits & (1 << slot) == 0
    }

    /// Write of one 4-byte config word. Words 0-3 are read-only, word 21 (UserExtra, LockValue,
    /// LockConfig) is not writable with Write; nothing is writable once the config zone is locked.
    pub fn write_config_word(&mut self, word: usize, data: [u8; 4]) -> ChipResult<()> {
        self.clock.charge_op(ChipOp::Write);
        if word >= 32 {
            return Err(ChipError::Parse);
        }
        if self.is_locked(Zone::Config) || word < 4 || word == 21 {
            return Err(ChipError::Execution);
        }
        self.config[word * 4..word * 4 + 4].copy_from_slice(&data);
        self.commit();
        Ok(())
    }

    /// UpdateExtra: sets UserExtra (84) or UserExtraAdd (85) once (the byte must still be zero,
    /// unless the same value is written again as zero).
    pub fn update_extra(&mut self, offset: usize, value: u8) -> ChipResult<()> {
        self.clock.charge_op(ChipOp::UpdateExtra);
        if offset != 84 && offset != 85 {
            return Err(ChipError::BadParam);
        }
        if self.config[offset] != 0 {
            return Err(ChipError::Execution);
        }
        self.config[offset] = value;
        self.commit();
        Ok(())
    }

    /// `atcab_write_config_zone`: bytes 16-83 and 88-127 by Write, then bytes 84/85 by UpdateExtra.
    pub fn write_config_zone(&mut self, image: &[u8; 128]) -> ChipResult<()> {
        for word in (4..32).filter(|&w| w != 21) {
            let data = [image[word * 4], image[word * 4 + 1], image[word * 4 + 2], image[word * 4 + 3]];
            self.write_config_word(word, data)?;
        }
        self.update_extra(84, image[84])?;
        self.update_extra(85, image[85])
    }

    /// Lock of the config or data zone (irreversible).
    pub fn lock_zone(&mut self, zone: Zone) -> ChipResult<()> {
        self.clock.charge_op(ChipOp::Lock);
        match zone {
            Zone::Config if self.is_locked(Zone::Config) => return Err(ChipError::Execution),
            Zone::Config => self.config[LOCK_CONFIG] = 0x00,
            Zone::Data if !self.is_locked(Zone::Config) || self.is_locked(Zone::Data) => {
                return Err(ChipError::Execution)
            }
            Zone::Data => self.config[LOCK_VALUE] = 0x00,
        }
        self.commit();
        Ok(())
    }

    /// Lock of one slot (`atcab_lock_data_slot`): needs the data zone locked and KeyConfig.Lockable.
    pub fn lock_slot(&mut self, slot: usize) -> ChipResult<()> {
        self.clock.charge_op(ChipOp::Lock);
        check_slot(slot)?;
        if !self.is_locked(Zone::Data) || !key_config(&self.config, slot).lockable() || self.is_slot_locked(slot) {
            return Err(ChipError::Execution);
        }
        let bits = u16::from_le_bytes([self.config[SLOT_LOCKED], self.config[SLOT_LOCKED + 1]]) & !(1 << slot);
        self.config[SLOT_LOCKED..SLOT_LOCKED + 2].copy_from_slice(&bits.to_le_bytes());
        self.commit();
        Ok(())
    }

    /// GenKey, private mode: a new random P-256 key in `slot`; returns its public key X ‖ Y.
    /// Needs the config zone locked and a P-256 private-key slot; after the data lock only slots
    /// whose WriteConfig allows GenKey and that are not slot-locked.
    pub fn genkey(&mut self, slot: usize) -> ChipResult<[u8; 64]> {
        self.clock.charge_op(ChipOp::GenKey);
        check_slot(slot)?;
        let key_cfg = key_config(&self.config, slot);
        if !self.is_locked(Zone::Config) || !key_cfg.private() || key_cfg.key_type() != KEY_TYPE_P256 {
            return Err(ChipError::Execution);
        }
        if self.is_locked(Zone::Data)
            && (!slot_config(&self.config, slot).genkey_allowed() || self.is_slot_locked(slot))
        {
            return Err(ChipError::Execution);
        }
        let key = SigningKey::random(&mut rand::thread_rng());
        self.slots[slot] = vec![0u8; slot_size(slot)];
        self.slots[slot][4..36].copy_from_slice(&key.to_bytes());
        self.commit();
        Ok(public_xy(&key))
    }

    /// GenKey, public mode (`atcab_get_pubkey`): the public key of the private key in `slot`.
    pub fn get_pubkey(&self, slot: usize) -> ChipResult<[u8; 64]> {
        self.clock.charge_op(ChipOp::GenKey);
        check_slot(slot)?;
        let key_cfg = key_config(&self.config, slot);
        // KeyConfig.PubInfo (bit 1): without it the public key of a private slot is never generated.
        if !self.is_locked(Zone::Config) || !key_cfg.private() || key_cfg.0 & 0x02 == 0 {
            return Err(ChipError::Execution);
        }
        Ok(public_xy(&self.private_key(slot)?))
    }

    /// Nonce (pass-through) + Sign (external): ECDSA P-256 over a 32-byte digest; returns R ‖ S.
    pub fn sign_digest(&self, slot: usize, digest: &[u8; 32]) -> ChipResult<[u8; 64]> {
        self.clock.charge_op(ChipOp::Nonce);
        self.clock.charge_op(ChipOp::Sign);
        check_slot(slot)?;
        let key_cfg = key_config(&self.config, slot);
        let external_sign_allowed = slot_config(&self.config, slot).read_key() & 0x01 != 0;
        if !self.is_locked(Zone::Config) || !self.is_locked(Zone::Data) || !key_cfg.private() || !external_sign_allowed
        {
            return Err(ChipError::Execution);
        }
        let key = self.private_key(slot)?;
        let signature: Signature = key.sign_prehash(digest).map_err(|_| ChipError::NoKey)?;
        Ok(signature.to_bytes().into())
    }

    /// Read of `len` bytes at `offset` in a data slot (`atcab_read_bytes_zone`). The data zone
    /// must be locked; private-key, secret and encrypted-read slots are never readable in clear.
    pub fn read_slot(&self, slot: usize, offset: usize, len: usize) -> ChipResult<Vec<u8>> {
        check_range(slot, offset, len)?;
        for _ in 0..len.div_ceil(32).max(1) {
            self.clock.charge_op(ChipOp::Read);
        }
        let slot_cfg = slot_config(&self.config, slot);
        if !self.is_locked(Zone::Data)
            || key_config(&self.config, slot).private()
            || slot_cfg.is_secret()
            || slot_cfg.enc_read()
        {
            return Err(ChipError::Execution);
        }
        Ok(self.slots[slot][offset..offset + len].to_vec())
    }

    /// Clear-text Write of `data` at `offset` in a data slot (`atcab_write_bytes_zone`); offset and
    /// length in 4-byte words. Needs the config zone locked; after the data lock the slot must allow
    /// clear writes (WriteConfig "always"), must not be slot-locked and must not hold a private key.
    pub fn write_slot(&mut self, slot: usize, offset: usize, data: &[u8]) -> ChipResult<()> {
        check_range(slot, offset, data.len())?;
        if !offset.is_multiple_of(4) || !data.len().is_multiple_of(4) {
            return Err(ChipError::BadParam);
        }
        for _ in 0..data.len().div_ceil(32).max(1) {
            self.clock.charge_op(ChipOp::Write);
        }
        if !self.is_locked(Zone::Config) {
            return Err(ChipError::Execution);
        }
        if self.is_locked(Zone::Data) {
            let clear_write_allowed = slot_config(&self.config, slot).write_mode() == WriteMode::Always;
            if self.is_slot_locked(slot) || !clear_write_allowed || key_config(&self.config, slot).private() {
                return Err(ChipError::Execution);
            }
        }
        self.slots[slot][offset..offset + data.len()].copy_from_slice(data);
        self.commit();
        Ok(())
    }

    /// `atcab_write_pubkey`: X ‖ Y into a 72-byte slot in the padded form `0000 X 0000 Y`.
    pub fn write_pubkey(&mut self, slot: usize, xy: &[u8; 64]) -> ChipResult<()> {
        if slot < 8 {
            return Err(ChipError::BadParam);
        }
        let mut padded = [0u8; 72];
        padded[4..36].copy_from_slice(&xy[..32]);
        padded[40..72].copy_from_slice(&xy[32..]);
        self.write_slot(slot, 0, &padded)
    }

    /// `atcab_read_pubkey`: X ‖ Y from a padded 72-byte public-key slot.
    pub fn read_pubkey(&self, slot: usize) -> ChipResult<[u8; 64]> {
        if slot < 8 {
            return Err(ChipError::BadParam);
        }
        let padded = self.read_slot(slot, 0, 72)?;
        let mut xy = [0u8; 64];
        xy[..32].copy_from_slice(&padded[4..36]);
        xy[32..].copy_from_slice(&padded[40..72]);
        Ok(xy)
    }

    /// `atcab_write_enc`: a 32-byte block written with the slot's WriteKey. The model checks the
    /// policy (data lock, WriteConfig "encrypt", the right key slot, no slot lock) and stores the
    /// plain data; the I/O encryption itself is not modelled.
    pub fn write_encrypted(&mut self, slot: usize, block: usize, data: &[u8; 32], key_slot: usize) -> ChipResult<()> {
        check_range(slot, block * 32, 32)?;
        self.clock.charge_op(ChipOp::Nonce);
        self.clock.charge_op(ChipOp::Write);
        let slot_cfg = slot_config(&self.config, slot);
        if !self.is_locked(Zone::Data)
            || self.is_slot_locked(slot)
            || slot_cfg.write_mode() != WriteMode::Encrypted
            || usize::from(slot_cfg.write_key()) != key_slot
        {
            return Err(ChipError::Execution);
        }
        self.slots[slot][block * 32..block * 32 + 32].copy_from_slice(data);
        self.commit();
        Ok(())
    }

    /// Random: 32 random bytes after the config lock; the fixed test pattern before it.
    pub fn random(&self) -> [u8; 32] {
        self.clock.charge_op(ChipOp::Random);
        let mut out = [0u8; 32];
        if self.is_locked(Zone::Config) {
            rand::thread_rng().fill_bytes(&mut out);
        } else {
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = if i % 4 < 2 { 0xFF } else { 0x00 };
            }
        }
        out
    }

    /// Raw slot bytes, bypassing the access rules (for tests and inspection tools only).
    pub fn slot_bytes(&self, slot: usize) -> &[u8] {
        &self.slots[slot]
    }

    fn private_key(&self, slot: usize) -> ChipResult<SigningKey> {
        SigningKey::from_slice(&self.slots[slot][4..36]).map_err(|_| ChipError::NoKey)
    }
}

fn public_xy(key: &SigningKey) -> [u8; 64] {
    let point = key.verifying_key().as_affine().to_encoded_point(false);
    let mut xy = [0u8; 64];
    xy.copy_from_slice(&point.as_bytes()[1..65]);
    xy
}

fn check_slot(slot: usize) -> ChipResult<()> {
    if slot < 16 {
        Ok(())
    } else {
        Err(ChipError::BadParam)
    }
}

fn check_range(slot: usize, offset: usize, len: usize) -> ChipResult<()> {
    check_slot(slot)?;
    if offset + len > slot_size(slot) {
        return Err(ChipError::Parse);
    }
    Ok(())
}
