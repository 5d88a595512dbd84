//! `backup FILE` and `restore FILE`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::output::Out;
use crate::backup::BackupError;
use crate::datadir::DataDir;
use crate::group::Group;
use crate::secrets::PassphraseSource;

/// `groundwork backup FILE [--backup-passphrase-file F]`.
pub(super) fn backup(
    dir: DataDir,
    file: &Path,
    passphrase_file: Option<PathBuf>,
    out: &mut Out,
) -> Result<()> {
    if crate::control::connect(&dir)?.is_some() {
        bail!(
            "a node is running on {}; stop `groundwork up` first (a backup copies the store)",
            dir.root().display()
        );
    }
    let g = Group::open(&dir)?;
    let passphrase = match passphrase_file {
        Some(f) => Some(PassphraseSource::file(f).get("the backup")?),
        None if dir.has_passphrase() => None,
        // No passphrase here: one for the backup, typed twice.
        None => Some(
            PassphraseSource::command_line(None)
                .get_new(false)?
                .ok_or(BackupError::NoPassphrase)?,
        ),
    };
    let w = crate::backup::write(&g, file, passphrase.as_ref())?;
    let what = if w.group_key {
        "the group's documents and the group key"
    } else {
        "the group's documents"
    };
    out.line(format!(
        "backed up {} to {} ({} bytes, encrypted): {what}, not this device's key",
        w.manifest.name,
        file.display(),
        w.bytes
    ))?;
    out.line(format!(
        "restore it with: groundwork restore {} --data-dir NEW_DIR",
        file.display()
    ))?;
    Ok(())
}

/// `groundwork restore FILE` into the (new) data directory.
pub(super) fn restore(dir: DataDir, file: &Path, out: &mut Out) -> Result<()> {
    let r = crate::backup::restore(file, &dir)?;
    let m = &r.manifest;
    out.line(format!(
        "restored {} from a backup of device {} into {}",
        m.name,
        m.device,
        dir.root().display()
    ))?;
    out.line(format!(
        "this is a new device ({}): the group's devices and linked groups refuse it until it is admitted",
        r.device
    ))?;
    let role = m.role.map_or("organiser".to_owned(), |r| r.to_string());
    out.line(format!(
        "to admit it: on another device of the group run `groundwork invite --role {role}`, then here `groundwork join INVITE`"
    ))?;
    out.line(format!(
        "if the laptop the backup came from is lost, revoke it from another device: groundwork device revoke {}",
        m.device
    ))?;
    Ok(())
}
