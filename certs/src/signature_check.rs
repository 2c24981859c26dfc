//! Checking an ECDSA P-256 signature this station has just made, before the certificate leaves it.
//!
//! Every signature is checked against the signer certificate's public key Q before the certificate is returned
//! (as Go's `x509.CreateCertificate` does): a faulty signature (a bit flip in the signer, a token that signs with
//! another key) must never reach the ledger or a chip. The check is the ECDSA verification equation
//!
//! ```text
//!     x(u1·G + u2·Q) ≡ r (mod n),   u1 = z/s,  u2 = r/s,  z = SHA-256(message) mod n.
//! ```
//!
//! [`verify`] evaluates it as any verifier does: a double-scalar multiplication with a variable base, about three
//! times the cost of signing and most of an issued certificate's CPU time. When the private scalar d is in memory,
//! [`verify_with_private_scalar`] evaluates the same equation through Q = d·G:
//!
//! ```text
//!     u1·G + u2·Q = (u1 + u2·d)·G = ((z + r·d)/s)·G,
//! ```
//!
//! one multiplication of the fixed base point. The caller must know that Q = d·G ([`crate::EcKey`] computes its
//! public key from its scalar when loaded and compares it with the certificate's key on every check). The scalar
//! used here is the `p256` copy of the key, not the AWS-LC copy that signed, so a corrupted copy makes the check
//! fail rather than pass.
//!
//! (z + r·d)/s is the signature's nonce k, as secret as d itself (either reveals the other), so it is handled like
//! a private key: computed with `p256`'s constant-time scalar arithmetic, multiplied by G with AWS-LC's
//! constant-time base-point multiplication (`EC_POINT_mul` with a generator scalar, as AWS-LC computes an ECDH or
//! ECDSA public key from a private one), and wiped afterwards. Only s, which is public, is inverted in variable
//! time.

use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::{Field, PrimeField};
use p256::{FieldBytes, Scalar, U256};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::atcacert::derived::RawPublicKey;

/// ECDSA P-256 / SHA-256 verification of `signature` (R ‖ S) over `message` with the public key `key` (X ‖ Y),
/// by AWS-LC. False also when `key` is not a point on the curve.
pub(crate) fn verify(key: &RawPublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..].copy_from_slice(key);
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED, &sec1).verify(message, signature).is_ok()
}

/// The same verdict as [`verify`] with the public key d·G, computed from the private scalar `d`.
pub(crate) fn verify_with_private_scalar(d: &p256::SecretKey, message: &[u8], signature: &[u8; 64]) -> bool {
    let (Some(r), Some(s)) = (nonzero_scalar(&signature[..32]), nonzero_scalar(&signature[32..])) else {
        return false;
    };
    let Some(s_inverse) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false;
    };
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&Sha256::digest(message));
    let d = Zeroizing::new(*d.to_nonzero_scalar());
    let nonce = Zeroizing::new((z + r * *d) * s_inverse);
    if bool::from(nonce.is_zero()) {
        return false;
    }
    let nonce_bytes = Zeroizing::new(nonce.to_repr());
    let Some(x) = base_point_multiple_x(&nonce_bytes) else {
        return false;
    };
    <Scalar as Reduce<U256>>::reduce_bytes(&x) == r
}

/// The affine x coordinate of k·G for the secret big-endian scalar `k` in [1, n - 1], by AWS-LC's constant-time
/// P-256 base-point multiplication; `None` if AWS-LC fails.
fn base_point_multiple_x(k: &FieldBytes) -> Option<FieldBytes> {
    use aws_lc_sys::{BN_bin2bn, BN_bn2bin_padded, BN_clear_free, BN_free, BN_new, EC_POINT_free, EC_POINT_get_affine_coordinates_GFp, EC_POINT_mul, EC_POINT_new, EC_group_p256};
    use std::ptr::{null, null_mut};

    let mut x = FieldBytes::default();
    // SAFETY: every pointer passed is either null where AWS-LC documents null as allowed, or was returned by the
    // matching AWS-LC constructor in this block, used only when non-null, and freed exactly once before the block
    // ends (AWS-LC's free functions accept null). The P-256 group is a static that is never freed. `k` and `x` are
    // 32-byte buffers, the lengths given.
    let done = unsafe {
        let group = EC_group_p256();
        let scalar = BN_bin2bn(k.as_ptr(), k.len(), null_mut());
        let point = EC_POINT_new(group);
        let x_bn = BN_new();
        let ok = !group.is_null()
            && !scalar.is_null()
            && !point.is_null()
            && !x_bn.is_null()
            && EC_POINT_mul(group, point, scalar, null(), null(), null_mut()) == 1
            && EC_POINT_get_affine_coordinates_GFp(group, point, x_bn, null_mut(), null_mut()) == 1
            && BN_bn2bin_padded(x.as_mut_ptr(), x.len(), x_bn) == 1;
        // The scalar is the signature's nonce: cleared before its memory is released.
        BN_clear_free(scalar);
        EC_POINT_free(point);
        BN_free(x_bn);
        ok
    };
    done.then_some(x)
}

/// A big-endian integer in [1, n - 1], as ECDSA requires of r and s.
fn nonzero_scalar(bytes: &[u8]) -> Option<Scalar> {
    let scalar = Option::<Scalar>::from(Scalar::from_repr(*FieldBytes::from_slice(bytes)))?;
    (!bool::from(scalar.is_zero())).then_some(scalar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcKey;
    use p256::ecdsa::signature::Signer;

    fn raw(key: &EcKey) -> RawPublicKey {
        key.public_point()[1..].try_into().unwrap()
    }

    fn both(key: &EcKey, message: &[u8], signature: &[u8; 64]) -> (bool, bool) {
        (verify(&raw(key), message, signature), verify_with_private_scalar(key.secret(), message, signature))
    }

    #[test]
    fn both_checks_accept_signatures_from_aws_lc_and_from_p256() {
        let key = EcKey::generate();
        for n in 0..200u32 {
            let message = format!("tbs certificate {n}").into_bytes();
            let by_aws_lc = key.sign_p1363(&message).unwrap();
            assert_eq!(both(&key, &message, &by_aws_lc), (true, true), "AWS-LC signature {n}");
            let by_p256: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(key.secret().clone()).sign(&message);
            assert_eq!(both(&key, &message, &by_p256.to_bytes().into()), (true, true), "p256 signature {n}");
        }
    }

    #[test]
    fn both_checks_refuse_every_single_bit_flip_in_the_signature_or_the_message() {
        let key = EcKey::generate();
        let message = b"tbs certificate".to_vec();
        let signature = key.sign_p1363(&message).unwrap();
        for bit in 0..512 {
            let mut flipped = signature;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(both(&key, &message, &flipped), (false, false), "signature bit {bit}");
        }
        for bit in 0..message.len() * 8 {
            let mut flipped = message.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(both(&key, &flipped, &signature), (false, false), "message bit {bit}");
        }
    }

    #[test]
    fn both_checks_refuse_a_signature_by_another_key() {
        let key = EcKey::generate();
        let other = EcKey::generate();
        let message = b"tbs certificate";
        let by_other = other.sign_p1363(message).unwrap();
        assert_eq!(both(&key, message, &by_other), (false, false));
    }

    #[test]
    fn both_checks_refuse_r_or_s_out_of_range() {
        let key = EcKey::generate();
        let message = b"tbs certificate";
        let signature = key.sign_p1363(message).unwrap();
        let order: [u8; 32] = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap().try_into().unwrap();
        for (what, bad) in [
            ("r = 0", [&[0u8; 32][..], &signature[32..]].concat()),
            ("s = 0", [&signature[..32], &[0u8; 32][..]].concat()),
            ("r = n", [&order[..], &signature[32..]].concat()),
            ("s = n", [&signature[..32], &order[..]].concat()),
            ("r = all ones", [&[0xFFu8; 32][..], &signature[32..]].concat()),
        ] {
            let bad: [u8; 64] = bad.try_into().unwrap();
            assert_eq!(both(&key, message, &bad), (false, false), "{what}");
        }
    }
}
