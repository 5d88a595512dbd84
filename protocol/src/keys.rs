//! Identities: device keys, group keys and the public ids derived from them.
//!
//! A device key is an ed25519 key pair. Its public half is the device id, the
//! Automerge actor id of every change the device makes and (from the sync
//! issue on) its iroh endpoint id. A group key is another ed25519 key pair; the
//! group id is its public half, so a group id is self-certifying.
//!
//! Secret keys are redacted in `Debug`, zeroized on drop (ed25519-dalek's
//! `zeroize` feature) and have no `Display`: nothing here can print one.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// Length of a secret key seed in bytes.
pub const SECRET_KEY_LEN: usize = 32;

/// Why a public key could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyParseError {
    /// The text is not 64 lowercase or uppercase hex digits.
    #[error("expected 64 hex digits, found {0} characters")]
    BadLength(usize),
    /// A character outside 0-9a-f.
    #[error("not hexadecimal")]
    NotHex,
    /// 32 bytes that are not a valid ed25519 point.
    #[error("not a valid ed25519 public key")]
    NotAPoint,
}

/// An ed25519 public key: the id of a device, a group or a network.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Parses raw bytes, checking they are a valid curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyParseError> {
        VerifyingKey::from_bytes(bytes).map_err(|_| KeyParseError::NotAPoint)?;
        Ok(Self(*bytes))
    }

    /// Parses a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyParseError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyParseError::BadLength(bytes.len() * 2))?;
        Self::from_bytes(&arr)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first ten hex digits: enough for a person to tell keys apart.
    pub fn fmt_short(&self) -> String {
        let mut s = hex(&self.0);
        s.truncate(10);
        s
    }

    /// Verifies `signature` over `message` with strict (non-malleable) rules.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        match VerifyingKey::from_bytes(&self.0) {
            Ok(vk) => {
                vk.verify_strict(message, signature).is_ok()
                    && vk.verify(message, signature).is_ok()
            }
            Err(_) => false,
        }
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fmt_short())
    }
}

impl FromStr for PublicKey {
    type Err = KeyParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(KeyParseError::BadLength(s.chars().count()));
        }
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .map_err(|_| KeyParseError::NotHex)?;
        Self::from_slice(&bytes)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A device's public key: its id in the group and its Automerge actor id.
pub type DeviceId = PublicKey;

/// A group's public key, which is the group's id.
pub type GroupId = PublicKey;

/// A secret ed25519 key. Redacted in `Debug`, zeroized on drop.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// Builds a key from a 32-byte seed (from a key file or a CSPRNG).
    pub fn from_seed(seed: &[u8; SECRET_KEY_LEN]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for writing to a key file (mode 0600) only.
    pub fn to_seed(&self) -> zeroize::Zeroizing<[u8; SECRET_KEY_LEN]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public {}, secret redacted)",
            self.public().fmt_short()
        )
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let seed = [7u8; 32];
        let key = SecretKey::from_seed(&seed);
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&hex(&seed)));
        assert!(!shown.contains(&hex(&seed)[..10]));
    }

    #[test]
    fn public_key_text_round_trip_and_errors() {
        let pk = SecretKey::from_seed(&[1u8; 32]).public();
        let text = pk.to_string();
        assert_eq!(text.parse::<PublicKey>(), Ok(pk));
        assert_eq!(text.to_uppercase().parse::<PublicKey>(), Ok(pk));
        assert_eq!("abc".parse::<PublicKey>(), Err(KeyParseError::BadLength(3)));
        assert_eq!(
            "zz".repeat(32).parse::<PublicKey>(),
            Err(KeyParseError::NotHex)
        );
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let a = SecretKey::from_seed(&[2u8; 32]);
        let b = SecretKey::from_seed(&[3u8; 32]);
        let sig = a.sign(b"hello");
        assert!(a.public().verify(b"hello", &sig));
        assert!(!a.public().verify(b"hellO", &sig));
        assert!(!b.public().verify(b"hello", &sig));
    }
}
