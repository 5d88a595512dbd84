//! `backup FILE`, `restore FILE`, and `device recover` on a restored
//! backup when the group's only steward device is lost.

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
    if let Some(mut client) = crate::control::connect(&dir)? {
        // The running node holds the store and, with a passphrase, its key.
        if passphrase_file.is_some() || !dir.has_passphrase() {
            bail!(
                "a node is running on {}: it writes a backup protected by this directory's \
                 passphrase only; stop `groundwork up` for a backup passphrase of its own",
                dir.root().display()
            );
        }
        let file = std::path::absolute(file)?;
        let answer = client.request(groundwork_protocol::control::Request::Backup {
            file: file.to_string_lossy().into_owned(),
        })?;
        return match answer {
            groundwork_protocol::control::Response::BackedUp { bytes, group_key } => {
                written(out, &file, bytes, group_key, None)
            }
            groundwork_protocol::control::Response::Error { code, message } => {
                Err(super::target::Answered { code, message }.into())
            }
            other => Err(super::target::unexpected(&other)),
        };
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
    written(out, file, w.bytes, w.group_key, Some(&w.manifest.name))
}

fn written(
    out: &mut Out,
    file: &Path,
    bytes: u64,
    group_key: bool,
    name: Option<&str>,
) -> Result<()> {
    let what = if group_key {
        "the group's documents and the group key"
    } else {
        "the group's documents"
    };
    let name = name.map(|n| format!(" {n}")).unwrap_or_default();
    out.line(format!(
        "backed up{name} to {} ({bytes} bytes, encrypted): {what}, not this device's key",
        file.display(),
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

/// `groundwork device recover`: this device becomes a steward by the group
/// key, and the group's devices it knows are shown the card that says so.
pub(super) fn recover(dir: DataDir, offline: bool, label: &str, out: &mut Out) -> Result<()> {
    use groundwork_protocol::join::JoinReply;
    if crate::control::connect(&dir)?.is_some() {
        bail!(
            "a node is running on {}; stop `groundwork up` first",
            dir.root().display()
        );
    }
    let g = Group::open(&dir)?;
    let card = g.recover(label, crate::group::today())?;
    let own = g.profile().id;
    let me = g.device_id();
    let peers: Vec<crate::runtime::PeerRecord> = g
        .store()
        .peers()?
        .into_iter()
        .filter_map(|(_, b)| serde_json::from_slice::<crate::runtime::PeerRecord>(&b).ok())
        .filter(|p| p.group == Some(own) && p.device != me)
        .collect();
    if peers.is_empty() {
        bail!(
            "this device knows no other device of {}: nothing to show the card to",
            g.profile().name
        );
    }
    let config = crate::config::resolve(&dir, offline, None)?;
    let device = dir.read_key(crate::datadir::KeyKind::Device)?;
    let answers = super::network::runtime()?
        .block_on(crate::daemon::present_card(&device, &config, &card, &peers))?;
    let mut taken = 0;
    for (peer, answer) in &answers {
        let what = match answer {
            Ok(JoinReply::Recovered) => {
                taken += 1;
                "took the card".to_owned()
            }
            Ok(JoinReply::Refused(why)) => format!(
                "refused: {}",
                groundwork_protocol::text::safe_line(why.as_str())
            ),
            Ok(JoinReply::Accepted(_)) => "answered as if to a join".to_owned(),
            Err(e) => format!("not reached: {}", crate::control::error_line(e)),
        };
        out.line(format!("device {}: {what}", peer.fmt_short()))?;
    }
    if taken == 0 {
        bail!(
            "no device of the group took the card; start one (`groundwork up`) and run this again"
        );
    }
    out.line(format!(
        "this device ({me}) is a steward of {} by the group key",
        g.profile().name
    ))?;
    out.line(
        "next: run `groundwork up` here; once it has synced, revoke the lost device: groundwork device revoke ID",
    )?;
    Ok(())
}
