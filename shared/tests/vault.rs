#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The vault key can be rotated. A keyring (id → key) opens what any of
//! its keys sealed; new values are sealed with the current key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use shared::config::VaultConfig;
use shared::vault::{Field, Vault};

fn b64(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

#[test]
fn after_a_rotation_old_values_open_and_new_ones_use_the_new_key() {
    // Before: the single key of earlier deployments (AG_VAULT__KEY), id 1.
    let mut config = shared::Config::default().vault;
    config.key = Some(b64(1));
    let before = Vault::from_config(&config).unwrap();
    let old = before
        .seal(7, Field::LinkedInAccessToken, "old-token")
        .unwrap();
    assert_eq!(old[0], 1);
    // After: key 2 added and made current; key 1 stays to open what it sealed.
    config.keys = Some(format!("2:{}", b64(2)));
    config.current = Some(2);
    let after = Vault::from_config(&config).unwrap();
    assert_eq!(
        after.open(7, Field::LinkedInAccessToken, &old).unwrap(),
        "old-token"
    );
    let new = after
        .seal(7, Field::LinkedInAccessToken, "new-token")
        .unwrap();
    assert_eq!(new[0], 2);
    assert_eq!(
        after.open(7, Field::LinkedInAccessToken, &new).unwrap(),
        "new-token"
    );
    // A process that only knows the old key refuses the new value instead of misreading it.
    assert!(before.open(7, Field::LinkedInAccessToken, &new).is_err());
    // The keyring alone (key 1 listed too) behaves the same.
    let listed = VaultConfig {
        key: None,
        key_id: 1,
        keys: Some(format!("1:{},2:{}", b64(1), b64(2))),
        current: None,
    };
    let listed = Vault::from_config(&listed).unwrap();
    assert_eq!(
        listed.seal(1, Field::LinkedInAccessToken, "x").unwrap()[0],
        2
    );
    assert_eq!(
        listed.open(7, Field::LinkedInAccessToken, &old).unwrap(),
        "old-token"
    );
}

#[test]
fn a_bad_keyring_stops_startup() {
    let config = |keys: &str, current: Option<u8>| VaultConfig {
        key: None,
        key_id: 1,
        keys: Some(keys.into()),
        current,
    };
    for (keys, current) in [
        ("2", None),
        ("x:abc", None),
        (&*format!("2:{}", STANDARD.encode([1u8; 16])), None),
        (&*format!("2:{},2:{}", b64(1), b64(2)), None),
        (&*format!("2:{}", b64(2)), Some(3)),
        ("", None),
    ] {
        assert!(
            Vault::from_config(&config(keys, current)).is_err(),
            "{keys} {current:?}"
        );
    }
    let debug = format!("{:?}", config(&format!("2:{}", b64(2)), Some(2)));
    assert!(!debug.contains(&b64(2)), "{debug}");
}
