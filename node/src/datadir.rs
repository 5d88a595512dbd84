//! The data directory and the key files in it.
//!
//! ```text
//! <data dir>/            mode 0700
//!   device.key           this device's secret key (0600)
//!   group.key            the group's secret key, steward devices only (0600)
//!   groundwork.redb      the store
//! ```
//!
//! Key files are text: a header line naming what the key is, then 64 hex
//! digits. A key file is never overwritten, and one that is unreadable,
//! malformed or open to other users stops the node with an error naming
//! the file.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use groundwork_protocol::SecretKey;
use groundwork_protocol::keys::SECRET_KEY_LEN;
use zeroize::Zeroizing;

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
}

/// A data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Uses `root` as the data directory.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
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
        if lines.next() != Some(kind.header()) {
            return Err(malformed(&format!(
                "the first line is not '{}'",
                kind.header()
            )));
        }
        let hex = lines.next().map(str::trim).unwrap_or_default();
        let bytes = Zeroizing::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .map_err(|_| malformed("the key line is not hexadecimal"))?,
        );
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
        let text = Zeroizing::new(format!(
            "{}\n{}\n",
            kind.header(),
            data_encoding::HEXLOWER.encode(&key.to_seed()[..])
        ));
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
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
