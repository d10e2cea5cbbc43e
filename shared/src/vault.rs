//! The token vault: XChaCha20-Poly1305 with a random 24-byte nonce per value. The AAD binds
//! a sealed value to its owner and field, so a token copied into another user's row (or
//! from the refresh field to the access field) does not open.
//!
//! Layout of a sealed value: `key_id (1 byte) | nonce (24 bytes) | ciphertext + tag`.
//!
//! Keys rotate through a keyring: values are sealed with the current key and opened with
//! the key their first byte names, so adding a key and making it current leaves every stored
//! value readable (re-sealing old values is a separate, later step).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::config::VaultConfig;
use crate::error::Error;

const NONCE_LEN: usize = 24;

/// Which column a token lives in; part of the AAD.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    LinkedInAccessToken,
    LinkedInRefreshToken,
    InstagramAccessToken,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Self::LinkedInAccessToken => "linkedin_access_token",
            Self::LinkedInRefreshToken => "linkedin_refresh_token",
            Self::InstagramAccessToken => "instagram_access_token",
        }
    }
}

#[derive(Clone)]
pub struct Vault {
    current: u8,
    /// The current key and its cipher: what seals.
    sealing: ([u8; 32], XChaCha20Poly1305),
    /// Every key by id: what opens.
    keys: BTreeMap<u8, XChaCha20Poly1305>,
}

/// Never print the keys.
impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([redacted])")
    }
}

fn decode_key(name: &str, encoded: &str) -> Result<[u8; 32], Error> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| Error::Config(format!("{name} is not valid base64")))?;
    bytes
        .try_into()
        .map_err(|_| Error::Config(format!("{name} must decode to exactly 32 bytes")))
}

impl Vault {
    /// One key, `key_id`: no rotation yet.
    pub fn new(key: [u8; 32], key_id: u8) -> Self {
        Self::with_keys(BTreeMap::from([(key_id, key)]), key_id, key)
    }

    fn with_keys(keys: BTreeMap<u8, [u8; 32]>, current: u8, current_key: [u8; 32]) -> Self {
        let keys: BTreeMap<u8, XChaCha20Poly1305> = keys
            .into_iter()
            .map(|(id, key)| (id, XChaCha20Poly1305::new(&key.into())))
            .collect();
        Self {
            current,
            sealing: (current_key, XChaCha20Poly1305::new(&current_key.into())),
            keys,
        }
    }

    /// A key must be set: a process that would store tokens refuses to start without it.
    /// `key` (+ `key_id`) and `keys` (`id:base64,...`) together make the keyring; `current`
    /// (default: the highest id) seals.
    pub fn from_config(config: &VaultConfig) -> Result<Self, Error> {
        let mut keys = BTreeMap::new();
        if let Some(encoded) = config.key.as_deref() {
            keys.insert(config.key_id, decode_key("vault.key", encoded)?);
        }
        let listed = config.keys.as_deref().map(str::trim);
        if listed == Some("") {
            return Err(Error::Config("vault.keys is set but empty".into()));
        }
        for entry in listed.into_iter().flat_map(|k| k.split(',')) {
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                Error::Config("vault.keys entries are id:base64 (id 0-255)".into())
            })?;
            let id: u8 = id
                .trim()
                .parse()
                .map_err(|_| Error::Config("vault.keys entries are id:base64 (id 0-255)".into()))?;
            let key = decode_key(&format!("vault.keys[{id}]"), encoded)?;
            if keys.insert(id, key).is_some() {
                return Err(Error::Config(format!("vault key id {id} is given twice")));
            }
        }
        let highest = keys.keys().next_back().copied().ok_or_else(|| {
            Error::Config(
                "no vault key is set (AG_VAULT__KEY, 32 bytes base64, or AG_VAULT__KEYS)".into(),
            )
        })?;
        let current = config.current.unwrap_or(highest);
        let current_key = *keys.get(&current).ok_or_else(|| {
            Error::Config(format!(
                "vault.current is {current}, which no configured key has"
            ))
        })?;
        Ok(Self::with_keys(keys, current, current_key))
    }

    /// The current key, for deriving other keys (the session cookie key) from it.
    pub fn key_material(&self) -> &[u8; 32] {
        &self.sealing.0
    }

    /// The current key's id: what new values carry.
    pub fn current_key_id(&self) -> u8 {
        self.current
    }

    pub fn seal(&self, user_id: i64, field: Field, plaintext: &str) -> Result<Vec<u8>, Error> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = aad(user_id, field);
        let ciphertext = self
            .sealing
            .1
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Vault("sealing failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(self.current);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(&self, user_id: i64, field: Field, sealed: &[u8]) -> Result<String, Error> {
        let (&key_id, rest) = sealed
            .split_first()
            .ok_or(Error::Vault("sealed value is empty"))?;
        let cipher = self
            .keys
            .get(&key_id)
            .ok_or(Error::Vault("sealed with a key this vault does not have"))?;
        if rest.len() < NONCE_LEN {
            return Err(Error::Vault("sealed value is truncated"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = aad(user_id, field);
        let plaintext = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Vault("sealed value does not open for this user and field"))?;
        String::from_utf8(plaintext).map_err(|_| Error::Vault("opened value is not text"))
    }
}

fn aad(user_id: i64, field: Field) -> Vec<u8> {
    format!("user:{user_id}:{}", field.name()).into_bytes()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn vault() -> Vault {
        Vault::new([7; 32], 1)
    }

    proptest! {
        #[test]
        fn open_of_seal_is_identity(user in any::<i64>(), text in ".{0,200}") {
            let v = vault();
            let sealed = v.seal(user, Field::LinkedInAccessToken, &text).unwrap();
            prop_assert_eq!(v.open(user, Field::LinkedInAccessToken, &sealed).unwrap(), text);
        }

        #[test]
        fn another_user_or_field_does_not_open(user in 0i64..1_000_000, text in ".{1,50}") {
            let v = vault();
            let sealed = v.seal(user, Field::LinkedInAccessToken, &text).unwrap();
            prop_assert!(v.open(user + 1, Field::LinkedInAccessToken, &sealed).is_err());
            prop_assert!(v.open(user, Field::LinkedInRefreshToken, &sealed).is_err());
        }
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let v = vault();
        let mut sealed = v.seal(1, Field::LinkedInAccessToken, "AQV-token").unwrap();
        assert!(
            Vault::new([8; 32], 1)
                .open(1, Field::LinkedInAccessToken, &sealed)
                .is_err()
        );
        assert!(
            Vault::new([7; 32], 2)
                .open(1, Field::LinkedInAccessToken, &sealed)
                .is_err()
        );
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(v.open(1, Field::LinkedInAccessToken, &sealed).is_err());
        assert!(v.open(1, Field::LinkedInAccessToken, &[]).is_err());
        assert!(v.open(1, Field::LinkedInAccessToken, &[1, 2, 3]).is_err());
    }

    #[test]
    fn the_same_token_seals_differently_each_time() {
        let v = vault();
        let a = v.seal(1, Field::LinkedInAccessToken, "same").unwrap();
        let b = v.seal(1, Field::LinkedInAccessToken, "same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn config_key_must_be_32_bytes_of_base64() {
        let config = |key: &str| VaultConfig {
            key: Some(key.into()),
            key_id: 1,
            keys: None,
            current: None,
        };
        assert!(Vault::from_config(&config(&STANDARD.encode([1u8; 32]))).is_ok());
        assert!(Vault::from_config(&config(&STANDARD.encode([1u8; 16]))).is_err());
        assert!(Vault::from_config(&config("not base64!")).is_err());
        assert!(
            Vault::from_config(&VaultConfig {
                key: None,
                key_id: 1,
                keys: None,
                current: None,
            })
            .is_err()
        );
        assert_eq!(format!("{:?}", vault()), "Vault([redacted])");
    }
}
