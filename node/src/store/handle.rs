//! The redb file, open for writing or, on a read-only file system or a
//! file this user may not write, for reading only: `member list` and the
//! other listings still answer, and every write is refused with
//! [`StoreError::ReadOnly`] naming the file.

use std::path::Path;

use redb::{Database, DatabaseError, ReadOnlyDatabase, ReadableDatabase, StorageError};

use super::{CACHE_BYTES, StoreError};

/// An open redb file.
pub(super) enum Db {
    /// Open for reading and writing.
    Write(Database),
    /// Open for reading only: the file or its file system is read-only.
    Read(ReadOnlyDatabase),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Write(_) => "Db::Write",
            Db::Read(_) => "Db::Read",
        })
    }
}

impl Db {
    /// Opens `path` for writing, else (if it may not be written) for
    /// reading only. Any other failure is returned as redb gives it.
    pub(super) fn open(path: &Path) -> Result<Db, DatabaseError> {
        match Database::builder().set_cache_size(CACHE_BYTES).open(path) {
            Ok(db) => Ok(Db::Write(db)),
            Err(e) if not_writable(&e) => Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open_read_only(path)
                .map(Db::Read),
            Err(e) => Err(e),
        }
    }

    pub(super) fn begin_read(&self) -> Result<redb::ReadTransaction, redb::TransactionError> {
        match self {
            Db::Write(db) => db.begin_read(),
            Db::Read(db) => db.begin_read(),
        }
    }

    /// A write transaction, or [`StoreError::ReadOnly`].
    pub(super) fn begin_write(&self, path: &Path) -> Result<redb::WriteTransaction, StoreError> {
        match self {
            Db::Write(db) => Ok(db.begin_write()?),
            Db::Read(_) => Err(StoreError::ReadOnly(path.to_owned())),
        }
    }

    /// The database for what only a writable one does (compaction), or
    /// [`StoreError::ReadOnly`].
    pub(super) fn writable(&mut self, path: &Path) -> Result<&mut Database, StoreError> {
        match self {
            Db::Write(db) => Ok(db),
            Db::Read(_) => Err(StoreError::ReadOnly(path.to_owned())),
        }
    }

    /// Whether the file is open for reading only.
    pub(super) fn is_read_only(&self) -> bool {
        matches!(self, Db::Read(_))
    }
}

/// Whether opening failed because the file may not be written: a
/// read-only file system, or permissions.
fn not_writable(e: &DatabaseError) -> bool {
    match e {
        DatabaseError::Storage(StorageError::Io(io)) => matches!(
            io.kind(),
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
        ),
        _ => false,
    }
}
