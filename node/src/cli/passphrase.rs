//! `passphrase set|change|remove`, and the passphrase `init` and `join`
//! offer.

use anyhow::{Context, Result, anyhow, bail};

use super::output::Out;
use crate::datadir::DataDir;
use crate::group::Group;

/// Before founding a group or joining one: the passphrase from the file
/// or credential, or typed twice on a terminal (empty for none). The
/// directory is sealed from its first byte.
pub(super) fn offer(dir: &DataDir) -> Result<()> {
    if dir.store_path().exists() || dir.has_passphrase() {
        return Ok(()); // Group::found / join refuse, or finish, with their own errors
    }
    if let Some(p) = dir.passphrase_source().get_new(true)? {
        dir.create()
            .with_context(|| format!("creating {}", dir.root().display()))?;
        dir.protect(&p)?;
    }
    Ok(())
}

/// The stolen-laptop warning, when a directory has no passphrase.
pub(super) fn at_rest_warning(g: &Group, out: &mut Out) -> Result<()> {
    let p = crate::passphrase::protection(g.dir(), Some(g.store()));
    if let Some(w) = p.warning() {
        out.warn(w)?;
    }
    Ok(())
}

/// `passphrase set|change|remove`.
pub(super) fn run(dir: DataDir, cmd: super::PassphraseCmd, out: &mut Out) -> Result<()> {
    use super::PassphraseCmd;
    if crate::control::connect(&dir)?.is_some() {
        bail!(
            "a node is running on {}; stop `groundwork up` first",
            dir.root().display()
        );
    }
    match cmd {
        PassphraseCmd::Set => {
            let new = if dir.has_passphrase() {
                None // finishing a set cut off: the passphrase it has is asked
            } else {
                Some(dir.passphrase_source().get_new(false)?.ok_or_else(|| {
                    anyhow!(
                        "give the new passphrase with --passphrase-file FILE, or run on a terminal"
                    )
                })?)
            };
            crate::passphrase::set(&dir, new.as_ref())?;
            out.line(
                "passphrase set: the keys and the roster, contacts and meet-up notes are sealed",
            )?;
        }
        PassphraseCmd::Change {
            new_passphrase_file,
        } => {
            dir.unlocked()?;
            let source = crate::secrets::PassphraseSource::command_line(new_passphrase_file);
            let new = source.get_new(false)?.ok_or_else(|| {
                anyhow!(
                    "give the new passphrase with --new-passphrase-file FILE, or run on a terminal"
                )
            })?;
            crate::passphrase::change(&dir, &new)?;
            out.line("passphrase changed")?;
        }
        PassphraseCmd::Remove => {
            crate::passphrase::remove(&dir)?;
            out.line(
                "passphrase removed: the keys and the group's data are in the clear on this disk",
            )?;
        }
    }
    Ok(())
}
