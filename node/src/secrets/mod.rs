//! Secrets at rest: the passphrase, the key derived from it, and the
//! random keys it protects.
//!
//! ```text
//! passphrase ──Argon2id(salt, m, t, p)──▶ passphrase key
//!                                            │ XChaCha20-Poly1305
//!                                            ▼
//!                         store key (random, 32 bytes, in store.key)
//!                                            │ XChaCha20-Poly1305, one random nonce per value
//!                                            ▼
//!              key files · the store's document values · nothing else
//! ```
//!
//! Changing the passphrase re-wraps the store key only. Every sealed value
//! is `nonce 24 | ciphertext | tag 16`, its associated data naming what it
//! is (a key file's header, a store table and key), so a value moved to
//! another place fails to open. Every key is zeroized when dropped and
//! redacted in `Debug`. The cryptography is RustCrypto's (`argon2`,
//! `chacha20poly1305`); nothing here is hand-made.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

mod lock;
mod source;
#[cfg(test)]
mod tests;

pub(crate) use lock::write_atomic;
pub use lock::{LOCK_FILE, MAX_LOCK_BYTES, StoreLock};
pub use source::{CREDENTIAL_NAME, PassphraseSource};

/// A nonce's length.
pub const NONCE_LEN: usize = 24;
/// An authentication tag's length.
pub const TAG_LEN: usize = 16;
/// What sealing adds to a value.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// The longest passphrase accepted, in bytes.
pub const MAX_PASSPHRASE: usize = 1024;
/// The shortest, in characters.
pub const MIN_PASSPHRASE: usize = 8;

/// Why a secret could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The passphrase does not open what it was given for.
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// Sealed bytes failed to open: damaged, altered, or sealed with
    /// another key.
    #[error("{what} does not open: it is damaged, was altered, or was sealed with another key")]
    Damaged {
        /// What was being opened.
        what: String,
    },
    /// The passphrase given is not acceptable.
    #[error("the passphrase {0}")]
    BadPassphrase(&'static str),
    /// A passphrase is needed and there is no way to ask for one.
    #[error(
        "{what} is protected by a passphrase: give --passphrase-file FILE, set \
         $CREDENTIALS_DIRECTORY with a '{CREDENTIAL_NAME}' credential, or run on a terminal"
    )]
    NoPassphrase {
        /// What needs it.
        what: String,
    },
    /// Key-derivation parameters out of the accepted range (a hostile or
    /// damaged file).
    #[error("key derivation parameters {0} are outside what groundwork accepts")]
    BadParams(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("{path} is not a valid {what}: {why}")]
    Malformed {
        /// The file.
        path: std::path::PathBuf,
        /// What it should be.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// A passphrase, zeroized when dropped, never printed.
pub struct Passphrase(Zeroizing<String>);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(redacted)")
    }
}

impl Passphrase {
    /// A passphrase from text read from a file, a credential or a prompt:
    /// one trailing line break is dropped. It must be 8 characters to
    /// 1,024 bytes, with no control characters.
    pub fn new(text: Zeroizing<String>) -> Result<Passphrase, SecretsError> {
        let mut text = text;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.len() > MAX_PASSPHRASE {
            return Err(SecretsError::BadPassphrase("is longer than 1,024 bytes"));
        }
        if text.chars().any(char::is_control) {
            return Err(SecretsError::BadPassphrase(
                "holds a control character or a second line",
            ));
        }
        if text.chars().count() < MIN_PASSPHRASE {
            return Err(SecretsError::BadPassphrase("is shorter than 8 characters"));
        }
        Ok(Passphrase(text))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Argon2id's cost parameters: memory in KiB, passes, lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB.
    pub m_kib: u32,
    /// Passes over the memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What a new passphrase uses: 64 MiB, 3 passes, 1 lane (RFC 9106's
    /// second recommendation, with one lane for 2-core laptops).
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// The least accepted from a file or `GROUNDWORK_KDF`: 8 MiB, 1 pass.
    pub const FLOOR: KdfParams = KdfParams {
        m_kib: 8 * 1024,
        t: 1,
        p: 1,
    };
    /// The most accepted from a file: 1 GiB, 16 passes, 8 lanes. A hostile
    /// backup cannot make a restore take all the memory or run for hours.
    pub const CEILING: KdfParams = KdfParams {
        m_kib: 1024 * 1024,
        t: 16,
        p: 8,
    };

    /// The parameters for a new passphrase: [`KdfParams::DEFAULT`], or
    /// `GROUNDWORK_KDF` (`m=KIB,t=N,p=N`, within the floor and ceiling)
    /// for very slow machines and the test suite.
    pub fn for_new() -> Result<KdfParams, SecretsError> {
        match std::env::var("GROUNDWORK_KDF") {
            Ok(s) if !s.trim().is_empty() => KdfParams::parse(&s),
            _ => Ok(KdfParams::DEFAULT),
        }
    }

    /// Parses `m=KIB,t=N,p=N` and checks the range.
    pub fn parse(s: &str) -> Result<KdfParams, SecretsError> {
        let bad = || SecretsError::BadParams(format!("'{}'", s.trim()));
        let mut p = KdfParams {
            m_kib: 0,
            t: 0,
            p: 0,
        };
        for part in s.trim().split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(bad)?;
            let v: u32 = v.trim().parse().map_err(|_| bad())?;
            match k.trim() {
                "m" => p.m_kib = v,
                "t" => p.t = v,
                "p" => p.p = v,
                _ => return Err(bad()),
            }
        }
        p.check()?;
        Ok(p)
    }

    /// Refuses parameters outside [`KdfParams::FLOOR`]..=[`KdfParams::CEILING`].
    pub fn check(self) -> Result<(), SecretsError> {
        let (lo, hi) = (KdfParams::FLOOR, KdfParams::CEILING);
        let ok = (lo.m_kib..=hi.m_kib).contains(&self.m_kib)
            && (lo.t..=hi.t).contains(&self.t)
            && (lo.p..=hi.p).contains(&self.p)
            && self.m_kib >= 8 * self.p;
        if ok {
            Ok(())
        } else {
            Err(SecretsError::BadParams(self.to_string()))
        }
    }

    /// Derives the passphrase key.
    pub fn derive(self, passphrase: &Passphrase, salt: &[u8; 16]) -> Result<Key, SecretsError> {
        self.check()?;
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|e| SecretsError::BadParams(format!("{self} ({e})")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.bytes(), salt, out.as_mut())
            .map_err(|e| SecretsError::BadParams(format!("{self} ({e})")))?;
        Ok(Key(out))
    }
}

impl std::fmt::Display for KdfParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "m={},t={},p={}", self.m_kib, self.t, self.p)
    }
}

/// A 32-byte symmetric key: the store key, or one derived from a
/// passphrase. Zeroized when dropped, redacted in `Debug`.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(redacted)")
    }
}

impl Key {
    /// A fresh random key.
    pub fn random() -> Key {
        Key(Zeroizing::new(rand::random()))
    }

    /// A key from its bytes (unwrapped from a sealed value).
    pub fn from_bytes(bytes: &[u8]) -> Option<Key> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Key(Zeroizing::new(arr)))
    }

    /// The key's bytes, to be sealed under another key.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }

    /// Seals `plain`, binding it to `aad`: `nonce | ciphertext | tag`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let nonce = XNonce::from(nonce);
        let mut out = Vec::with_capacity(SEAL_OVERHEAD + plain.len());
        out.extend_from_slice(&nonce);
        // Encryption fails only for a message over 256 GiB.
        match self.cipher().encrypt(&nonce, Payload { msg: plain, aad }) {
            Ok(ct) => out.extend_from_slice(&ct),
            Err(_) => unreachable!("a value over 256 GiB"),
        }
        out
    }

    /// Opens what [`Key::seal`] sealed with the same `aad`; `None` if it
    /// was altered, is bound to another `aad` or was sealed with another key.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < SEAL_OVERHEAD {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher()
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
            .ok()
            .map(Zeroizing::new)
    }
}
