//! `store.key`: the store key, wrapped by a key derived from the passphrase.
//!
//! ```text
//! groundwork store key v1
//! kdf argon2id m=65536,t=3,p=1
//! salt <16 bytes, hex>
//! key <the sealed store key, hex: nonce 24 | 32 | tag 16>
//! ```
//!
//! The wrapped key's associated data is the three lines before it, so a
//! file whose parameters or salt were altered fails to open like a wrong
//! passphrase. The same block heads a backup archive (`backup`), wrapping
//! that archive's own key.

use std::path::Path;

use zeroize::Zeroizing;

use super::{KdfParams, Key, Passphrase, SecretsError};

/// The file's name in the data directory.
pub const LOCK_FILE: &str = "store.key";
const HEADER: &str = "groundwork store key v1";
/// The most bytes of a lock block read from a file.
pub const MAX_LOCK_BYTES: usize = 1024;

/// A key wrapped by a passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreLock {
    params: KdfParams,
    salt: [u8; 16],
    wrapped: Vec<u8>,
}

impl StoreLock {
    /// Wraps `key` under `passphrase` with fresh salt, returning the lock
    /// and the passphrase key (kept by a running node to protect backups).
    pub fn wrap(
        key: &Key,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(StoreLock, Key), SecretsError> {
        let salt: [u8; 16] = rand::random();
        let kek = params.derive(passphrase, &salt)?;
        Ok((StoreLock::wrap_with(key, &kek, params, salt), kek))
    }

    /// Wraps `key` under an already derived passphrase key.
    pub fn wrap_with(key: &Key, kek: &Key, params: KdfParams, salt: [u8; 16]) -> StoreLock {
        let mut lock = StoreLock {
            params,
            salt,
            wrapped: Vec::new(),
        };
        lock.wrapped = kek.seal(lock.aad().as_bytes(), key.bytes());
        lock
    }

    /// The parameters and salt, for wrapping another key under the same
    /// passphrase key.
    pub fn kdf(&self) -> (KdfParams, [u8; 16]) {
        (self.params, self.salt)
    }

    /// Opens the lock: the wrapped key and the passphrase key.
    pub fn unlock(&self, passphrase: &Passphrase) -> Result<(Key, Key), SecretsError> {
        let kek = self.params.derive(passphrase, &self.salt)?;
        let key = self.unlock_with(&kek)?;
        Ok((key, kek))
    }

    /// Opens the lock with the passphrase key.
    pub fn unlock_with(&self, kek: &Key) -> Result<Key, SecretsError> {
        let plain = kek
            .open(self.aad().as_bytes(), &self.wrapped)
            .ok_or(SecretsError::WrongPassphrase)?;
        Key::from_bytes(&plain).ok_or(SecretsError::WrongPassphrase)
    }

    fn aad(&self) -> String {
        format!(
            "{HEADER}\nkdf argon2id {}\nsalt {}\n",
            self.params,
            data_encoding::HEXLOWER.encode(&self.salt)
        )
    }

    /// The block as text.
    pub fn encode(&self) -> String {
        format!(
            "{}key {}\n",
            self.aad(),
            data_encoding::HEXLOWER.encode(&self.wrapped)
        )
    }

    /// Parses a block; `path` names the file in errors.
    pub fn decode(text: &str, path: &Path) -> Result<StoreLock, SecretsError> {
        let bad = |why: &str| SecretsError::Malformed {
            path: path.to_owned(),
            what: "store key file",
            why: why.to_owned(),
        };
        if text.len() > MAX_LOCK_BYTES {
            return Err(bad("it is too long"));
        }
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad(&format!("the first line is not '{HEADER}'")));
        }
        let field = |line: Option<&str>, name: &str| -> Result<String, SecretsError> {
            line.and_then(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .ok_or_else(|| bad(&format!("no '{}' line", name.trim())))
        };
        let kdf = field(lines.next(), "kdf argon2id ")?;
        let params = KdfParams::parse(&kdf)?;
        let hex = |s: String, what: &str| {
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(s.as_bytes())
                .map_err(|_| bad(&format!("the {what} is not hexadecimal")))
        };
        let salt: [u8; 16] = hex(field(lines.next(), "salt ")?, "salt")?
            .try_into()
            .map_err(|_| bad("the salt is not 16 bytes"))?;
        let wrapped = hex(field(lines.next(), "key ")?, "key")?;
        if wrapped.len() != 32 + super::SEAL_OVERHEAD {
            return Err(bad("the wrapped key is not 72 bytes"));
        }
        Ok(StoreLock {
            params,
            salt,
            wrapped,
        })
    }

    /// Reads `path` (at most [`MAX_LOCK_BYTES`]).
    pub fn read(path: &Path) -> Result<StoreLock, SecretsError> {
        let text = read_capped(path, MAX_LOCK_BYTES)?;
        let text = std::str::from_utf8(&text).map_err(|_| SecretsError::Malformed {
            path: path.to_owned(),
            what: "store key file",
            why: "it is not text".into(),
        })?;
        StoreLock::decode(text, path)
    }

    /// Writes the lock to `path`, replacing it whole or not at all
    /// (mode 0600, synced).
    pub fn write(&self, path: &Path) -> Result<(), SecretsError> {
        write_atomic(path, self.encode().as_bytes())
    }
}

/// Reads a file of at most `cap` bytes; a longer one is refused before
/// it is read.
pub(crate) fn read_capped(path: &Path, cap: usize) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    use std::io::Read as _;
    let io = |source| SecretsError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut out = Zeroizing::new(Vec::new());
    file.take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() > cap {
        return Err(SecretsError::Malformed {
            path: path.to_owned(),
            what: "file of this kind",
            why: format!("it is over {cap} bytes"),
        });
    }
    Ok(out)
}

/// Writes `bytes` to `path` by a synced temporary file (mode 0600) renamed
/// over it, then syncs the directory: a crash leaves the old file or the
/// new one, whole.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SecretsError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |source| SecretsError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}
