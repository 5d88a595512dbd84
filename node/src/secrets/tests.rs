use zeroize::Zeroizing;

use super::*;

fn pass(s: &str) -> Passphrase {
    Passphrase::new(Zeroizing::new(s.to_owned())).expect("passphrase")
}

const FAST: KdfParams = KdfParams::FLOOR;

#[test]
fn a_sealed_value_opens_only_with_its_key_and_its_associated_data() {
    let k = Key::random();
    let sealed = k.seal(b"changes\0doc1", b"Ann Example");
    assert_eq!(sealed.len(), SEAL_OVERHEAD + 11);
    assert!(memchr::memmem::find(&sealed, b"Ann").is_none());
    assert_eq!(
        k.open(b"changes\0doc1", &sealed).expect("opens").as_slice(),
        b"Ann Example"
    );
    // Another row, another key, a flipped bit, a cut value: none opens.
    assert!(k.open(b"changes\0doc2", &sealed).is_none());
    assert!(Key::random().open(b"changes\0doc1", &sealed).is_none());
    let mut flipped = sealed.clone();
    flipped[30] ^= 1;
    assert!(k.open(b"changes\0doc1", &flipped).is_none());
    assert!(k.open(b"changes\0doc1", &sealed[..20]).is_none());
    // Two seals of one value differ (a fresh nonce each).
    assert_ne!(k.seal(b"a", b"x"), k.seal(b"a", b"x"));
}

#[test]
fn a_lock_opens_with_its_passphrase_only_and_refuses_altered_parameters() {
    let store_key = Key::random();
    let (lock, _) = StoreLock::wrap(&store_key, &pass("correct horse"), FAST).expect("wrap");
    let path = std::path::Path::new("store.key");
    let text = lock.encode();
    let again = StoreLock::decode(&text, path).expect("decode");
    let (k, _) = again.unlock(&pass("correct horse")).expect("unlock");
    assert_eq!(k.bytes(), store_key.bytes());
    assert!(matches!(
        again.unlock(&pass("wrong horse")),
        Err(SecretsError::WrongPassphrase)
    ));
    // Raised to other parameters (still in range): the key does not open.
    let altered = text.replace("t=1", "t=2");
    let altered = StoreLock::decode(&altered, path).expect("in range");
    assert!(matches!(
        altered.unlock(&pass("correct horse")),
        Err(SecretsError::WrongPassphrase)
    ));
}

#[test]
fn hostile_parameters_are_refused_before_any_memory_is_taken() {
    let path = std::path::Path::new("store.key");
    let (lock, _) = StoreLock::wrap(&Key::random(), &pass("correct horse"), FAST).expect("wrap");
    let text = lock.encode();
    for bad in [
        "m=4194304,t=1,p=1",
        "m=8192,t=1000,p=1",
        "m=8192,t=1,p=64",
        "m=8,t=1,p=1",
    ] {
        let t = text.replace("m=8192,t=1,p=1", bad);
        let err = StoreLock::decode(&t, path).expect_err(bad).to_string();
        assert!(err.contains("outside what groundwork accepts"), "{err}");
    }
    for (bad, why) in [
        ("", "first line"),
        (
            "groundwork store key v1\nkdf argon2id m=8192,t=1,p=1\nsalt zz\nkey 00\n",
            "hexadecimal",
        ),
        (
            "groundwork store key v1\nkdf argon2id m=8192,t=1,p=1\nsalt 00\nkey 00\n",
            "16 bytes",
        ),
    ] {
        let err = StoreLock::decode(bad, path).expect_err(why).to_string();
        assert!(err.contains(why) && err.contains("store.key"), "{err}");
    }
    let long = "x".repeat(MAX_LOCK_BYTES + 1);
    assert!(StoreLock::decode(&long, path).is_err());
}

#[test]
fn passphrases_are_checked_and_redacted() {
    assert!(Passphrase::new(Zeroizing::new("short".into())).is_err());
    assert!(Passphrase::new(Zeroizing::new("two\nlines here".into())).is_err());
    assert!(Passphrase::new(Zeroizing::new("x".repeat(MAX_PASSPHRASE + 1))).is_err());
    let p = pass("a good long passphrase\n");
    assert_eq!(p.bytes(), b"a good long passphrase");
    assert_eq!(format!("{p:?}"), "Passphrase(redacted)");
    assert_eq!(format!("{:?}", Key::random()), "Key(redacted)");
}

#[test]
fn kdf_parameters_parse_within_the_floor_and_ceiling() {
    assert_eq!(
        KdfParams::parse("m=8192,t=1,p=1").expect("ok"),
        KdfParams::FLOOR
    );
    assert!(KdfParams::parse("m=1024,t=1,p=1").is_err());
    assert!(
        KdfParams::parse("m=8192,t=1").is_err()
            || KdfParams::parse("m=8192,t=1").is_ok_and(|p| p.check().is_err())
    );
    assert!(KdfParams::parse("nonsense").is_err());
    KdfParams::DEFAULT.check().expect("the default is in range");
}
