//! Errors from group operations. Each is one line a person can act on.

use std::path::PathBuf;

use groundwork_protocol::DocKind;
use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::edit::EditError;
use groundwork_protocol::schema::Role;

use crate::datadir::KeyFileError;
use crate::store::StoreError;

/// Why a group operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// No group in this data directory.
    #[error("no group is founded in {0} (run `groundwork init --name NAME`, or pass --data-dir)")]
    NotFounded(PathBuf),
    /// `init` on a directory that has a group.
    #[error("{dir} already holds the group '{name}'; use another --data-dir to found a new one")]
    AlreadyFounded {
        /// The group's name.
        name: String,
        /// The data directory.
        dir: PathBuf,
    },
    /// A key file problem.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// A store problem.
    #[error(transparent)]
    Store(StoreError),
    /// A file or directory problem.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store lacks one of the group's documents.
    #[error("the store has no {0} document")]
    MissingDocument(DocKind),
    /// A document does not match its schema.
    #[error("the {kind} document does not match its schema: {why}")]
    Schema {
        /// The document.
        kind: DocKind,
        /// What is wrong.
        why: String,
    },
    /// Applying a typed edit failed (boxed: Automerge's errors are large).
    #[error(transparent)]
    Edit(Box<EditError>),
    /// This device is not (or no longer) one of the group's devices.
    #[error(
        "this device is not an active device of the group: it was revoked, or it was restored from a backup and awaits an invite (`groundwork join INVITE`)"
    )]
    NotAGroupDevice,
    /// The device's role does not allow this.
    #[error("this device is a {role}; a {role} device may not {verb} the {kind}")]
    Forbidden {
        /// This device's role.
        role: Role,
        /// The document.
        kind: DocKind,
        /// What was attempted.
        verb: &'static str,
    },
    /// A value given by the user is not acceptable: not valid (usage), or
    /// it names something that clashes (conflict), is missing (not found)
    /// or is not this device's to use (forbidden).
    #[error("{field}: {why}")]
    Invalid {
        /// What kind of refusal, for a client to decide on.
        code: ErrorCode,
        /// Which field or option.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// No such member, meet-up or action.
    #[error("no {what} with id '{id}'")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// Starting or taking an epoch failed.
    #[error("epoch: {0}")]
    Epoch(String),
    /// A bug: an invariant did not hold.
    #[error("internal error: {0}")]
    Internal(String),
    /// Text that does not fit its field.
    #[error(transparent)]
    Text(#[from] groundwork_protocol::text::TextRejected),
}

impl GroupError {
    /// The control API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            GroupError::NotFounded(_) | GroupError::NotFound { .. } => ErrorCode::NotFound,
            GroupError::AlreadyFounded { .. } | GroupError::Epoch(_) => ErrorCode::Conflict,
            GroupError::Store(e) => e.code(),
            GroupError::NotAGroupDevice | GroupError::Forbidden { .. } => ErrorCode::Forbidden,
            GroupError::Invalid { code, .. } => *code,
            GroupError::Text(_) => ErrorCode::Usage,
            GroupError::Key(KeyFileError::Missing(_)) => ErrorCode::NotFound,
            GroupError::Key(KeyFileError::Secret(
                crate::secrets::SecretsError::WrongPassphrase
                | crate::secrets::SecretsError::NoPassphrase { .. }
                | crate::secrets::SecretsError::BadPassphrase(_),
            )) => ErrorCode::Forbidden,
            GroupError::Key(_)
            | GroupError::Io { .. }
            | GroupError::MissingDocument(_)
            | GroupError::Schema { .. }
            | GroupError::Edit(_)
            | GroupError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl StoreError {
    /// The control API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Missing(_) => ErrorCode::NotFound,
            StoreError::AlreadyExists(_) => ErrorCode::Conflict,
            StoreError::Locked(_) => ErrorCode::Unavailable,
            StoreError::Protected(_) | StoreError::WrongKey(_) => ErrorCode::Forbidden,
            _ => ErrorCode::Internal,
        }
    }
}

impl From<EditError> for GroupError {
    fn from(e: EditError) -> Self {
        GroupError::Edit(Box::new(e))
    }
}
