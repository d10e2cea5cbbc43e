//! Short-lived signed URLs for the images Instagram fetches itself: Instagram downloads
//! `image_url` from the public internet during the container call, so the image is served
//! without a session, but only to whoever holds a URL we signed minutes ago. The signature
//! is HMAC-SHA-256 (RFC 2104) over the storage key and the expiry, with a key derived from
//! the vault's current key, so the api (which serves) and the workers (which sign) agree
//! without another secret, and a guessed or altered URL, or an old one, is refused.

use sha2::{Digest, Sha256};

/// How long a signed URL is good for: Instagram fetches during the call that names it.
pub const LIFETIME_SECS: i64 = 15 * 60;

const BLOCK: usize = 64;

/// The signing key: the vault's key material, for this one use.
pub fn key_from(vault_key: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"astrogrowth signed media url v1\0");
    h.update(vault_key);
    h.finalize().into()
}

fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    k[..32].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn signature(key: &[u8; 32], object_key: &str, expires: i64) -> String {
    hex(&hmac(key, format!("{object_key}\n{expires}").as_bytes()))
}

/// The query of a URL for `object_key` valid until `expires` (Unix seconds):
/// `exp=<expires>&sig=<hex>`.
pub fn sign(key: &[u8; 32], object_key: &str, expires: i64) -> String {
    format!("exp={expires}&sig={}", signature(key, object_key, expires))
}

/// Whether `sig` signs `object_key` until `expires`, and `expires` has not passed at `now`.
/// Compared in constant time.
pub fn verify(key: &[u8; 32], object_key: &str, expires: i64, sig: &str, now: i64) -> bool {
    if expires < now || expires > now + 24 * 3600 {
        return false;
    }
    let want = signature(key, object_key, expires);
    want.len() == sig.len()
        && want
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2 ("Jefe"), checked through the same HMAC with a 32-byte key
    /// padded as RFC 2104 pads any key shorter than the block.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        // With zero padding, a 4-byte key and the same key padded to 32 bytes are one key.
        assert_eq!(
            hex(&hmac(&key, b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_signed_key_and_expiry_pass_until_they_expire() {
        let key = key_from(&[7; 32]);
        let q = sign(&key, "images/1/2.png", 1_000);
        let sig = q.split("sig=").nth(1).unwrap();
        assert!(verify(&key, "images/1/2.png", 1_000, sig, 900));
        assert!(!verify(&key, "images/1/3.png", 1_000, sig, 900));
        assert!(!verify(&key, "images/1/2.png", 1_001, sig, 900));
        assert!(!verify(&key, "images/1/2.png", 1_000, sig, 1_001));
        assert!(!verify(
            &key_from(&[8; 32]),
            "images/1/2.png",
            1_000,
            sig,
            900
        ));
        assert!(!verify(&key, "images/1/2.png", 1_000, "00", 900));
    }
}
