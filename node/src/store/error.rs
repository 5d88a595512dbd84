//! Store errors. Each names the file or document and what is wrong with it.

use std::path::PathBuf;

use groundwork_protocol::DocId;
use redb::DatabaseError;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// There is no store at the path.
    #[error("no store at {0}")]
    Missing(PathBuf),
    /// `create` found a file already there.
    #[error("a store already exists at {0}")]
    AlreadyExists(PathBuf),
    /// Another process holds the store.
    #[error("store {0} is in use by another groundwork process")]
    Locked(PathBuf),
    /// The file exists but cannot be read as a store. It has not been changed.
    #[error("cannot read store {path}: {why} (the file has not been changed)")]
    Unreadable {
        /// The store file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A document's stored bytes do not load.
    #[error("document {doc:?} in the store does not load: {why}")]
    CorruptDocument {
        /// The document.
        doc: DocId,
        /// Automerge's error.
        why: String,
    },
    /// The store is sealed and no key was given.
    #[error("store {0} is protected by a passphrase, and none was given")]
    Protected(PathBuf),
    /// The store is sealed under another key than the one given.
    #[error(
        "store {0} is sealed with another key than this directory's store.key holds (nothing was changed)"
    )]
    WrongKey(PathBuf),
    /// A sealed value does not open.
    #[error(
        "a sealed value in store {path} (table {table}) does not open: the file is damaged or was altered"
    )]
    Damaged {
        /// The store file.
        path: PathBuf,
        /// The table.
        table: String,
    },
    /// The store is open for reading only (a read-only file system, or a
    /// file this user may not write), and this needs to write.
    #[error(
        "store {0} is read-only (a read-only file system, or a file this user may not write): it can be listed, not changed"
    )]
    ReadOnly(PathBuf),
    /// An I/O or database failure while working.
    #[error("store failure: {0}")]
    Backend(String),
}

impl StoreError {
    pub(super) fn from_open(path: &std::path::Path, e: DatabaseError) -> StoreError {
        match e {
            DatabaseError::DatabaseAlreadyOpen => StoreError::Locked(path.to_owned()),
            other => StoreError::Unreadable {
                path: path.to_owned(),
                why: other.to_string(),
            },
        }
    }
}

macro_rules! backend_from {
    ($($t:ty),*) => {
        $(impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Backend(e.to_string())
            }
        })*
    };
}
backend_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
