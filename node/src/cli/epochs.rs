//! `epoch start`, and what every command that starts epochs reports after:
//! how many of the group's other devices have switched so far.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::Result;
use groundwork_protocol::control::{DeviceView, Request, Response};
use groundwork_protocol::{DeviceId, DocKind};

use super::output::Out;
use super::target::{Target, unexpected};

/// How long a command waits for connected devices to switch before it
/// reports.
const SWITCH_WAIT: Duration = Duration::from_secs(5);

/// `epoch start KIND`.
pub(super) fn start(t: &mut Target, kind: DocKind, out: &mut Out) -> Result<()> {
    match t.send(Request::EpochStart { kind })? {
        Response::EpochStarted { kind, epoch } => {
            out.line(format!(
                "started {kind} epoch {epoch}: its earlier history is gone from this device, \
                 and from each other device as it syncs"
            ))?;
            switching(t, &[kind], out)
        }
        other => Err(unexpected(&other)),
    }
}

/// Reports how many of the group's other devices that hold `kinds` have
/// switched to their new epochs: on a running node it first waits (at most
/// [`SWITCH_WAIT`]) for the connected ones.
pub(super) fn switching(t: &mut Target, kinds: &[DocKind], out: &mut Out) -> Result<()> {
    if kinds.is_empty() {
        return Ok(());
    }
    if t.is_direct() {
        out.line(
            "the node is not running here: the other devices switch once it runs and syncs with them",
        )?;
        return Ok(());
    }
    let devices = match t.send(Request::DeviceList)? {
        Response::Devices(d) => d,
        other => return Err(unexpected(&other)),
    };
    let others: Vec<&DeviceView> = devices
        .iter()
        .filter(|d| !d.this_device && d.entry.revoked.is_none())
        .filter(|d| kinds.iter().any(|k| d.entry.role.may_read(*k)))
        .collect();
    let deadline = Instant::now() + SWITCH_WAIT;
    let (behind, connected) = loop {
        let s = match t.send(Request::Status)? {
            Response::Status(s) => s,
            other => return Err(unexpected(&other)),
        };
        let behind: BTreeSet<DeviceId> = s
            .documents
            .iter()
            .filter(|d| d.group.is_none_or(|g| g == s.group) && kinds.contains(&d.kind))
            .flat_map(|d| d.old_epoch.iter().copied())
            .collect();
        let connected: BTreeSet<DeviceId> = s
            .peers
            .iter()
            .filter(|p| p.connected)
            .map(|p| p.device)
            .collect();
        if behind.is_disjoint(&connected) || Instant::now() >= deadline {
            break (behind, connected);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let still: Vec<String> = others
        .iter()
        .filter(|d| {
            d.id.parse::<DeviceId>()
                .is_ok_and(|id| behind.contains(&id))
        })
        .map(|d| {
            let state = if d
                .id
                .parse::<DeviceId>()
                .is_ok_and(|id| connected.contains(&id))
            {
                "connected, switching"
            } else {
                "not connected"
            };
            format!(
                "{} ({}, {state})",
                groundwork_protocol::text::safe_line(&d.entry.label),
                &d.id[..d.id.len().min(10)]
            )
        })
        .collect();
    out.line(format!(
        "{} of {} other devices have switched so far",
        others.len() - still.len(),
        others.len()
    ))?;
    if !still.is_empty() {
        out.line(format!(
            "still holding the old epoch until they next sync: {} (`groundwork status` keeps \
             track; revoke a device that is lost)",
            still.join(", ")
        ))?;
    }
    Ok(())
}
