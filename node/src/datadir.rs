//! The data directory and the key files in it.
//!
//! ```text
//! <data dir>/            mode 0700
//!   device.key           this device's secret key (0600)
//!   group.key            the group's secret key, steward devices only (0600)
//!   store.key            with a passphrase only: the store key, wrapped (0600)
//!   groundwork.redb      the store
//! ```
//!
//! Key files are text: a header line naming what the key is, then 64 hex
//! digits; or, with a passphrase, the header with ` sealed` after it, then
//! the key sealed under the store key (`secrets`), in hex. A key file is never overwritten, and one that is unreadable,
//! malformed or open to other users stops the node with an error naming
//! the file.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use groundwork_protocol::SecretKey;
use groundwork_protocol::keys::SECRET_KEY_LEN;
use zeroize::Zeroizing;

use crate::secrets::{
    KdfParams, Key, LOCK_FILE, Passphrase, PassphraseSource, SecretsError, StoreLock,
};

/// The store file's name.
pub const STORE_FILE: &str = "groundwork.redb";

/// Which key a key file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// This device's key.
    Device,
    /// The group's key.
    Group,
}

impl KeyKind {
    fn file_name(self) -> &'static str {
        match self {
            KeyKind::Device => "device.key",
            KeyKind::Group => "group.key",
        }
    }
    fn header(self) -> &'static str {
        match self {
            KeyKind::Device => "groundwork device key v1",
            KeyKind::Group => "groundwork group key v1",
        }
    }
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// No file.
    #[error("key file {0} does not exist")]
    Missing(PathBuf),
    /// Reading or writing failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Other users could read or change the key.
    #[error("key file {path} is open to other users (mode {mode:04o}); run: chmod 600 {path}")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The content is not a key of the expected kind.
    #[error("key file {path} is not a valid {what}: {why}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Refusing to overwrite.
    #[error("key file {0} already exists; it is never overwritten")]
    Exists(PathBuf),
    /// The passphrase, or the sealed key, did not open.
    #[error(transparent)]
    Secret(#[from] SecretsError),
}

/// A data directory, and how to get its passphrase if it has one.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
    unlock: Arc<Unlock>,
}

#[derive(Debug, Default)]
struct Unlock {
    source: PassphraseSource,
    held: Mutex<Option<Arc<Unlocked>>>,
}

/// The keys a passphrase opened, held for the life of the process.
#[derive(Debug)]
pub struct Unlocked {
    /// The key the store's personal data and the key files are sealed with.
    pub store_key: Key,
    /// The key derived from the passphrase (a backup is wrapped with it).
    pub passphrase_key: Key,
    /// The lock it opened.
    pub lock: StoreLock,
}

impl DataDir {
    /// Uses `root` as the data directory. A passphrase, if it has one,
    /// cannot be asked for ([`DataDir::with_passphrase`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            unlock: Arc::default(),
        }
    }

    /// The same directory, asking `source` for its passphrase when one is
    /// first needed.
    pub fn with_passphrase(self, source: PassphraseSource) -> Self {
        Self {
            root: self.root,
            unlock: Arc::new(Unlock {
                source,
                held: Mutex::default(),
            }),
        }
    }

    /// Where the passphrase comes from.
    pub fn passphrase_source(&self) -> &PassphraseSource {
        &self.unlock.source
    }

    /// The wrapped store key's file (there only with a passphrase).
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// Whether this directory has a passphrase.
    pub fn has_passphrase(&self) -> bool {
        self.lock_path().exists()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<Arc<Unlocked>>> {
        self.unlock
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The keys the passphrase opens, asking for it the first time; `None`
    /// without a passphrase. A wrong passphrase is
    /// [`SecretsError::WrongPassphrase`] and changes nothing.
    pub fn unlocked(&self) -> Result<Option<Arc<Unlocked>>, SecretsError> {
        let mut held = self.held();
        if let Some(u) = held.as_ref() {
            return Ok(Some(u.clone()));
        }
        let path = self.lock_path();
        if !path.exists() {
            return Ok(None);
        }
        let lock = StoreLock::read(&path)?;
        let passphrase = self
            .unlock
            .source
            .get(&format!("the data directory {}", self.root.display()))?;
        let (store_key, passphrase_key) = lock.unlock(&passphrase)?;
        let u = Arc::new(Unlocked {
            store_key,
            passphrase_key,
            lock,
        });
        *held = Some(u.clone());
        Ok(Some(u))
    }

    /// The store key, if this directory has a passphrase.
    pub fn store_key(&self) -> Result<Option<Key>, SecretsError> {
        Ok(self.unlocked()?.map(|u| u.store_key.clone()))
    }

    /// Gives this directory a passphrase: a new store key, wrapped in a new
    /// `store.key`, used from now on by this handle (and its clones). The
    /// key files and the store are sealed by the caller
    /// (`passphrase::set`); a new directory is sealed from the start.
    pub fn protect(&self, passphrase: &Passphrase) -> Result<Arc<Unlocked>, SecretsError> {
        let store_key = match self.unlocked()? {
            Some(u) => u.store_key.clone(),
            None => Key::random(),
        };
        self.rewrap(store_key, passphrase)
    }

    /// Wraps `store_key` under `passphrase` in `store.key`, replacing it.
    pub(crate) fn rewrap(
        &self,
        store_key: Key,
        passphrase: &Passphrase,
    ) -> Result<Arc<Unlocked>, SecretsError> {
        let (lock, passphrase_key) =
            StoreLock::wrap(&store_key, passphrase, KdfParams::for_new()?)?;
        lock.write(&self.lock_path())?;
        let u = Arc::new(Unlocked {
            store_key,
            passphrase_key,
            lock,
        });
        *self.held() = Some(u.clone());
        Ok(u)
    }

    /// Removes `store.key` (`passphrase remove`, once everything is in
    /// the clear again).
    pub(crate) fn unprotect(&self) -> Result<(), SecretsError> {
        let path = self.lock_path();
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err(SecretsError::Io { path, source }),
        }
        *self.held() = None;
        sync_dir(&self.root).map_err(|source| SecretsError::Io {
            path: self.root.clone(),
            source,
        })
    }

    /// The platform's default: `~/.local/share/groundwork` on Linux,
    /// `~/Library/Application Support/org.groundwork.groundwork` on macOS.
    pub fn platform_default() -> Option<Self> {
        directories::ProjectDirs::from("org", "groundwork", "groundwork")
            .map(|d| Self::new(d.data_dir()))
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// A key file.
    pub fn key_path(&self, kind: KeyKind) -> PathBuf {
        self.root.join(kind.file_name())
    }

    /// Creates the directory with mode 0700 if it does not exist. An
    /// existing directory's mode is left alone (it may be the user's own).
    pub fn create(&self) -> std::io::Result<()> {
        if self.root.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(&self.root)?;
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
    }

    /// Reads a key file, checking its permissions and format.
    pub fn read_key(&self, kind: KeyKind) -> Result<SecretKey, KeyFileError> {
        let path = self.key_path(kind);
        let io = |source| KeyFileError::Io {
            path: path.clone(),
            source,
        };
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(KeyFileError::Missing(path)),
            Err(e) => return Err(io(e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions { path, mode });
        }
        let text = Zeroizing::new(fs::read(&path).map_err(io)?);
        let malformed = |why: &str| KeyFileError::Malformed {
            path: path.clone(),
            what: kind.header(),
            why: why.to_owned(),
        };
        let text = std::str::from_utf8(&text).map_err(|_| malformed("not text"))?;
        let mut lines = text.lines();
        let sealed_header = sealed_header(kind);
        let sealed = match lines.next() {
            Some(h) if h == kind.header() => false,
            Some(h) if h == sealed_header => true,
            _ => {
                return Err(malformed(&format!(
                    "the first line is not '{}'",
                    kind.header()
                )));
            }
        };
        let hex = lines.next().map(str::trim).unwrap_or_default();
        let mut bytes = Zeroizing::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .map_err(|_| malformed("the key line is not hexadecimal"))?,
        );
        if sealed {
            let key = self
                .store_key()?
                .ok_or_else(|| malformed("it is sealed, but this directory has no store.key"))?;
            bytes = key.open(sealed_header.as_bytes(), &bytes).ok_or_else(|| {
                SecretsError::Damaged {
                    what: format!("key file {}", path.display()),
                }
            })?;
        }
        let seed: Zeroizing<[u8; SECRET_KEY_LEN]> =
            Zeroizing::new(bytes.as_slice().try_into().map_err(|_| {
                malformed(&format!(
                    "the key is {} bytes, not {SECRET_KEY_LEN}",
                    bytes.len()
                ))
            })?);
        Ok(SecretKey::from_seed(&seed))
    }

    /// Writes a new key file with mode 0600 and syncs it. Never overwrites.
    pub fn write_key(&self, kind: KeyKind, key: &SecretKey) -> Result<(), KeyFileError> {
        let path = self.key_path(kind);
        let io = |source| KeyFileError::Io {
            path: path.clone(),
            source,
        };
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(KeyFileError::Exists(path));
            }
            Err(e) => return Err(io(e)),
        };
        let text = key_text(kind, key, self.store_key()?.as_ref());
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        sync_dir(&self.root).map_err(io)?;
        Ok(())
    }

    /// Writes an existing key file again, sealed under `seal` or in the
    /// clear, replacing it whole or not at all (`passphrase set|remove`).
    /// The caller has read `key` from it.
    pub(crate) fn rewrite_key(
        &self,
        kind: KeyKind,
        key: &SecretKey,
        seal: Option<&Key>,
    ) -> Result<(), KeyFileError> {
        let text = key_text(kind, key, seal);
        crate::secrets::write_atomic(&self.key_path(kind), text.as_bytes())?;
        Ok(())
    }

    /// Reads a key, or creates and writes a new one if there is no file.
    pub fn read_or_create_key(&self, kind: KeyKind) -> Result<SecretKey, KeyFileError> {
        match self.read_key(kind) {
            Err(KeyFileError::Missing(_)) => {
                let key = new_secret_key();
                self.write_key(kind, &key)?;
                Ok(key)
            }
            other => other,
        }
    }
}

fn sealed_header(kind: KeyKind) -> String {
    format!("{} sealed", kind.header())
}

/// A key file's text: in the clear, or sealed under `seal`.
fn key_text(kind: KeyKind, key: &SecretKey, seal: Option<&Key>) -> Zeroizing<String> {
    let seed = key.to_seed();
    Zeroizing::new(match seal {
        None => format!(
            "{}\n{}\n",
            kind.header(),
            data_encoding::HEXLOWER.encode(&seed[..])
        ),
        Some(k) => {
            let header = sealed_header(kind);
            let sealed = k.seal(header.as_bytes(), &seed[..]);
            format!("{header}\n{}\n", data_encoding::HEXLOWER.encode(&sealed))
        }
    })
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all())
}

/// A fresh key from the operating system's CSPRNG.
pub fn new_secret_key() -> SecretKey {
    let mut seed = Zeroizing::new([0u8; SECRET_KEY_LEN]);
    rand::fill(&mut seed[..]);
    SecretKey::from_seed(&seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_with_mode_0600_and_are_never_overwritten() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DataDir::new(tmp.path().join("d"));
        dir.create().expect("create");
        let key = dir.read_or_create_key(KeyKind::Device).expect("create key");
        let mode = fs::metadata(dir.key_path(KeyKind::Device))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            dir.read_key(KeyKind::Device).expect("read").public(),
            key.public()
        );
        assert!(matches!(
            dir.write_key(KeyKind::Device, &new_secret_key()),
            Err(KeyFileError::Exists(_))
        ));
        assert_eq!(
            dir.read_key(KeyKind::Device).expect("read").public(),
            key.public()
        );
    }

    #[test]
    fn bad_key_files_are_named_and_left_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DataDir::new(tmp.path());
        let path = dir.key_path(KeyKind::Group);
        let cases: [(&[u8], u32, &str); 4] = [
            (b"groundwork group key v1\n0011\n", 0o600, "2 bytes"),
            (b"groundwork device key v1\n", 0o600, "first line"),
            (b"groundwork group key v1\nzz\n", 0o600, "hexadecimal"),
            (b"groundwork group key v1\n", 0o644, "open to other users"),
        ];
        for (content, mode, expect) in cases {
            fs::write(&path, content).expect("write");
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            let err = dir
                .read_key(KeyKind::Group)
                .expect_err("must fail")
                .to_string();
            assert!(err.contains(expect) && err.contains("group.key"), "{err}");
            assert_eq!(fs::read(&path).expect("read"), content);
        }
    }
}
