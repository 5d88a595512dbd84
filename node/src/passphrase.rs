//! Giving a data directory a passphrase, changing it and taking it away.
//!
//! Each is a series of steps, each of which leaves a directory that opens
//! (with the passphrase, while `store.key` is there), so a crash part-way
//! is finished by running the same command again:
//!
//! | command | steps |
//! |---|---|
//! | `set` | write `store.key` · rewrite the store sealed (a new file renamed over the old) · rewrite each key file sealed |
//! | `change` | rewrite `store.key` with the store key wrapped under the new passphrase (nothing else changes) |
//! | `remove` | rewrite the store in the clear · rewrite each key file in the clear · delete `store.key` |
//!
//! The store is rewritten whole, so no page of the new file, free or in
//! use, holds data as it was; the old file's blocks are freed by the file
//! system, not wiped (`docs/operations.md` says what that means).

use crate::datadir::{DataDir, KeyFileError, KeyKind};
use crate::group::GroupError;
use crate::secrets::{Passphrase, SecretsError};
use crate::store::{Store, StoreError};

/// How a data directory is protected, for `status` and `init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// It has a passphrase (`store.key`).
    pub passphrase: bool,
    /// The store's document data is sealed.
    pub store_sealed: bool,
    /// Every key file is sealed.
    pub keys_sealed: bool,
}

impl Protection {
    /// Whether a `passphrase set` was cut off and should be run again.
    pub fn unfinished(&self) -> bool {
        self.passphrase && !(self.store_sealed && self.keys_sealed)
    }

    /// One line for a user: what a stolen laptop exposes.
    pub fn warning(&self) -> Option<&'static str> {
        if !self.passphrase {
            Some(
                "this data directory has no passphrase: anyone with this laptop's disk can read \
                 the roster and contacts; set one with `groundwork passphrase set`, or use \
                 full-disk encryption",
            )
        } else if self.unfinished() {
            Some("setting the passphrase did not finish: run `groundwork passphrase set` again")
        } else {
            None
        }
    }
}

fn key_sealed(dir: &DataDir, kind: KeyKind) -> bool {
    match std::fs::read(dir.key_path(kind)) {
        Ok(b) => b
            .split(|c| *c == b'\n')
            .next()
            .is_some_and(|l| l.ends_with(b" sealed")),
        Err(_) => true, // no such key file: nothing to seal
    }
}

/// How `dir` is protected, from its files (`store` if it is open here).
pub fn protection(dir: &DataDir, store: Option<&Store>) -> Protection {
    let store_sealed = match store {
        Some(s) => s.is_sealed(),
        None => Store::is_sealed_file(&dir.store_path()).unwrap_or(false),
    };
    Protection {
        passphrase: dir.has_passphrase(),
        store_sealed,
        keys_sealed: key_sealed(dir, KeyKind::Device) && key_sealed(dir, KeyKind::Group),
    }
}

fn in_use(e: StoreError) -> GroupError {
    match e {
        StoreError::Locked(p) => GroupError::Invalid {
            code: groundwork_protocol::control::ErrorCode::Unavailable,
            field: "store",
            why: format!(
                "{} is in use by a running node; stop `groundwork up` first",
                p.display()
            ),
        },
        other => other.into(),
    }
}

fn keys(dir: &DataDir) -> Result<Vec<(KeyKind, groundwork_protocol::SecretKey)>, GroupError> {
    let mut out = Vec::new();
    for kind in [KeyKind::Device, KeyKind::Group] {
        match dir.read_key(kind) {
            Ok(k) => out.push((kind, k)),
            Err(KeyFileError::Missing(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Gives `dir` the passphrase `new`, or, if it has one already (its own
/// passphrase asked by `dir`'s source), finishes a `set` cut off part-way.
pub fn set(dir: &DataDir, new: Option<&Passphrase>) -> Result<(), GroupError> {
    let path = dir.store_path();
    if !path.exists() {
        return Err(GroupError::NotFounded(dir.root().to_owned()));
    }
    let before = protection(dir, None);
    if before.passphrase && !before.unfinished() {
        return Err(GroupError::Invalid {
            code: groundwork_protocol::control::ErrorCode::Conflict,
            field: "passphrase",
            why: "this data directory has a passphrase already; use `groundwork passphrase change`"
                .into(),
        });
    }
    // Everything is read, and the store opened, before anything is written.
    let held = keys(dir)?;
    let mut store =
        Store::open_sealed(&path, dir.store_key().map_err(KeyFileError::from)?).map_err(in_use)?;
    let unlocked = match dir.unlocked().map_err(KeyFileError::from)? {
        Some(u) => u,
        None => {
            let new = new.ok_or(KeyFileError::Secret(SecretsError::BadPassphrase(
                "is needed: give --passphrase-file FILE or run on a terminal",
            )))?;
            dir.protect(new).map_err(KeyFileError::from)?
        }
    };
    if !store.is_sealed() {
        store.reseal(Some(unlocked.store_key.clone()))?;
    }
    for (kind, key) in &held {
        dir.rewrite_key(*kind, key, Some(&unlocked.store_key))?;
    }
    Ok(())
}

/// Changes `dir`'s passphrase (the old one asked by `dir`'s source) to
/// `new`: only `store.key` is rewritten.
pub fn change(dir: &DataDir, new: &Passphrase) -> Result<(), GroupError> {
    let unlocked = dir
        .unlocked()
        .map_err(KeyFileError::from)?
        .ok_or_else(no_passphrase)?;
    dir.rewrap(unlocked.store_key.clone(), new)
        .map_err(KeyFileError::from)?;
    Ok(())
}

/// Takes `dir`'s passphrase away (asked by `dir`'s source): the store and
/// key files in the clear again, then `store.key` deleted.
pub fn remove(dir: &DataDir) -> Result<(), GroupError> {
    if dir.unlocked().map_err(KeyFileError::from)?.is_none() {
        return Err(no_passphrase());
    }
    let held = keys(dir)?;
    let mut store = Store::open_sealed(
        &dir.store_path(),
        dir.store_key().map_err(KeyFileError::from)?,
    )
    .map_err(in_use)?;
    if store.is_sealed() {
        store.reseal(None)?;
    }
    drop(store);
    for (kind, key) in &held {
        dir.rewrite_key(*kind, key, None)?;
    }
    dir.unprotect().map_err(KeyFileError::from)?;
    Ok(())
}

fn no_passphrase() -> GroupError {
    GroupError::Invalid {
        code: groundwork_protocol::control::ErrorCode::Conflict,
        field: "passphrase",
        why: "this data directory has no passphrase; set one with `groundwork passphrase set`"
            .into(),
    }
}
