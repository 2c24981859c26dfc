//! Secure Boot v2 signature sectors (RSA-3072, RSA-PSS SHA-256) in Espressif's format: build,
//! parse and verify the 1216-byte signature blocks at the end of a signed image.

use num_bigint::BigUint;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::signing_key::{RsaPublic, SigningKey};
use crate::{Error, Result};

/// Flash sector size; a signed image is padded to it and ends with one signature sector.
pub const SECTOR_SIZE: usize = 4096;
/// Size of one signature block.
pub const BLOCK_SIZE: usize = 1216;
/// Signature block magic byte.
pub const BLOCK_MAGIC: u8 = 0xE7;
/// Block version for RSA-PSS.
pub const VERSION_RSA: u8 = 0x02;
/// Block version for ECDSA (recognised, not produced).
pub const VERSION_ECDSA: u8 = 0x03;
/// Blocks a sector can hold.
pub const MAX_BLOCKS: usize = 3;
/// RSA-3072 modulus and signature size in bytes.
pub const RSA_LEN: usize = 384;
/// Bytes covered by the block CRC.
const CRC_COVERS: usize = 1196;

/// One valid signature block, as found in a sector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignatureBlock {
    /// Position in the sector (0..3).
    pub index: usize,
    /// 0x02 RSA-PSS or 0x03 ECDSA.
    pub version: u8,
    /// The image digest stored in the block, hex.
    pub image_digest: String,
    /// SHA-256 of the public-key material (bytes 36..812), the value burned into eFuse, hex.
    pub key_digest: String,
}

/// The signature sector at the end of a signed image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignatureSector {
    /// The valid blocks (at least one).
    pub blocks: Vec<SignatureBlock>,
    /// True when block 0's digest equals SHA-256 of everything before the sector.
    pub digest_matches: bool,
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Signature(detail.into())
}

/// `value` as `len` little-endian bytes.
fn le_bytes(value: &BigUint, len: usize) -> Vec<u8> {
    let mut out = value.to_bytes_le();
    out.resize(len, 0);
    out
}

/// The public-key part of an RSA block (bytes 36..812): n, e, rinv = 2^(2·3072) mod n and
/// m' = -n^-1 mod 2^32, little-endian, as the ROM's RSA unit wants them.
fn key_material(public: &RsaPublic) -> Result<Vec<u8>> {
    let modulus = strip_zeros(&public.modulus);
    if modulus.len() != RSA_LEN {
        return Err(Error::Key(format!("Secure Boot v2 needs an RSA-3072 key; this one is {} bits", modulus.len() * 8)));
    }
    let n = BigUint::from_bytes_be(&modulus);
    let e = u32::try_from(BigUint::from_bytes_be(&public.exponent)).map_err(|_| Error::Key("RSA exponent does not fit 32 bits".into()))?;
    let rinv = (BigUint::from(1u8) << (2 * 8 * RSA_LEN)) % &n;
    let n0 = u32::from_le_bytes(le_bytes(&n, 4)[..4].try_into().expect("4 bytes"));
    // Newton's iteration doubles the correct low bits each round: 5 rounds give 32 bits.
    let mut inverse: u32 = 1;
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inverse)));
    }
    let mut out = Vec::with_capacity(776);
    out.extend_from_slice(&le_bytes(&n, RSA_LEN));
    out.extend_from_slice(&e.to_le_bytes());
    out.extend_from_slice(&le_bytes(&rinv, RSA_LEN));
    out.extend_from_slice(&inverse.wrapping_neg().to_le_bytes());
    Ok(out)
}

/// The key digest an ESP32 burns into eFuse for this public key (SHA-256 of the block's key part), hex.
pub fn key_digest(public: &RsaPublic) -> Result<String> {
    Ok(hex::encode(Sha256::digest(key_material(public)?)))
}

/// Build one RSA block over `digest` with `signature` (big-endian, as RSA produces it).
fn rsa_block(digest: &[u8; 32], public: &RsaPublic, signature: &[u8]) -> Result<Vec<u8>> {
    if signature.len() != RSA_LEN {
        return Err(Error::Key(format!("the signature is {} bytes, expected {RSA_LEN}", signature.len())));
    }
    let mut block = Vec::with_capacity(BLOCK_SIZE);
    block.extend_from_slice(&[BLOCK_MAGIC, VERSION_RSA, 0, 0]);
    block.extend_from_slice(digest);
    block.extend_from_slice(&key_material(public)?);
    block.extend(signature.iter().rev());
    let crc = crc32fast::hash(&block);
    block.extend_from_slice(&crc.to_le_bytes());
    block.extend_from_slice(&[0u8; 16]);
    debug_assert_eq!(block.len(), BLOCK_SIZE);
    Ok(block)
}

/// Sign `image` for Secure Boot v2: pad with 0xFF to a sector boundary, append a sector with one
/// RSA-PSS block and 0xFF fill. A signature sector already present is replaced.
pub fn sign_image(image: &[u8], key: &SigningKey) -> Result<Vec<u8>> {
    let parsed = crate::AppImage::parse(image)?;
    let mut out = image[..parsed.image_len].to_vec();
    out.resize(out.len().div_ceil(SECTOR_SIZE) * SECTOR_SIZE, 0xFF);
    let digest: [u8; 32] = Sha256::digest(&out).into();
    let signature = key.sign_digest(&digest)?;
    let block = rsa_block(&digest, &key.public()?, &signature)?;
    out.extend_from_slice(&block);
    out.resize(out.len() + SECTOR_SIZE - BLOCK_SIZE, 0xFF);
    Ok(out)
}

/// The blocks of the sector that ends `file`, checked for magic, version and CRC; fails when
/// block 0 is not valid (the one an ESP32 ECO3 uses).
pub fn parse_sector(file: &[u8]) -> Result<SignatureSector> {
    if file.len() < SECTOR_SIZE || !file.len().is_multiple_of(SECTOR_SIZE) {
        return Err(bad(format!("a signed file is a non-zero multiple of {SECTOR_SIZE} bytes; this one is {}", file.len())));
    }
    let (body, sector) = file.split_at(file.len() - SECTOR_SIZE);
    let digest = Sha256::digest(body);
    let mut blocks = Vec::new();
    for index in 0..MAX_BLOCKS {
        let block = &sector[index * BLOCK_SIZE..(index + 1) * BLOCK_SIZE];
        let crc = u32::from_le_bytes(block[CRC_COVERS..CRC_COVERS + 4].try_into().expect("4 bytes"));
        let valid = block[0] == BLOCK_MAGIC
            && (block[1] == VERSION_RSA || block[1] == VERSION_ECDSA)
            && crc == crc32fast::hash(&block[..CRC_COVERS]);
        if !valid {
            if index == 0 {
                return Err(bad("signature block 0 is missing or corrupt (magic, version or CRC)"));
            }
            continue;
        }
        blocks.push(SignatureBlock {
            index,
            version: block[1],
            image_digest: hex::encode(&block[4..36]),
            key_digest: hex::encode(Sha256::digest(&block[36..812])),
        });
    }
    let digest_matches = blocks[0].image_digest == hex::encode(digest);
    Ok(SignatureSector { blocks, digest_matches })
}

/// Verify the signed `file` as a Secure Boot v2 bootloader does: block 0 valid, its digest equal
/// to SHA-256 of the file before the sector, RSA-PSS by the key in the block, and (when `trusted`
/// is given) that key equal to the trusted one. Returns the key digest (eFuse value), hex.
pub fn verify_image(file: &[u8], trusted: Option<&RsaPublic>) -> Result<String> {
    let sector = parse_sector(file)?;
    if !sector.digest_matches {
        return Err(bad("the image digest in signature block 0 does not match the image (modified after signing)"));
    }
    let (body, tail) = file.split_at(file.len() - SECTOR_SIZE);
    let block = &tail[..BLOCK_SIZE];
    if block[1] != VERSION_RSA {
        return Err(bad("signature block 0 is ECDSA; only RSA-3072 is supported"));
    }
    let modulus: Vec<u8> = block[36..36 + RSA_LEN].iter().rev().copied().collect();
    let exponent = u32::from_le_bytes(block[420..424].try_into().expect("4 bytes"));
    let public = RsaPublic { modulus: strip_zeros(&modulus), exponent: strip_zeros(&exponent.to_be_bytes()) };
    if let Some(trusted) = trusted {
        if strip_zeros(&trusted.modulus) != public.modulus || strip_zeros(&trusted.exponent) != public.exponent {
            return Err(bad("the image is signed by a different key"));
        }
    }
    let signature: Vec<u8> = block[812..812 + RSA_LEN].iter().rev().copied().collect();
    public.verify_pss(body, &signature).map_err(|_| bad("the RSA-PSS signature does not verify"))?;
    Ok(sector.blocks[0].key_digest.clone())
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}
