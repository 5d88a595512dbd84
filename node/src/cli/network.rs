//! Commands that run the node or talk to other nodes: `up`, `invite`,
//! `join`, `device revoke`, `peer add`, `peer list` and `status`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use groundwork_protocol::control::{NodeStatus, PeerStatus, Request, Response};
use groundwork_protocol::invite::Invite;
use groundwork_protocol::{GroupId, SecretKey};

use super::output::Out;
use super::target::unexpected;
use crate::daemon::Daemon;
use crate::datadir::{DataDir, KeyKind};
use crate::group::Group;
use crate::runtime::PeerRecord;

/// How long `join` waits for the first sync.
const FIRST_SYNC_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `groundwork up`: run the node, print the ticket, and run until Ctrl-C or
/// SIGTERM, then shut down cleanly.
pub fn up(dir: DataDir, offline: bool, listen: Option<SocketAddr>, out: &mut Out) -> Result<()> {
    let config = crate::config::resolve(&dir, offline, listen)?;
    runtime()?.block_on(async {
        // Handle signals before saying we are ready, so a stop request that
        // follows the ticket line at once is never missed.
        let mut shutdown = ShutdownSignals::install()?;
        let mut daemon = Daemon::start(&dir, &config).await?;
        daemon.serve_control(&dir).await?;
        let name = daemon.handle().overview().await?.name;
        out.line(format!(
            "{name}: node {} up on {:?}",
            daemon.endpoint().id().fmt_short(),
            daemon.endpoint().bound_sockets()
        ))?;
        out.line(format!("ticket: {}", daemon.ticket()))?;
        out.flush()?;
        shutdown.wait().await;
        daemon.shutdown().await?;
        out.line("node stopped")?;
        anyhow::Ok(())
    })
}

/// Ctrl-C (SIGINT) and SIGTERM, caught from the moment of `install`.
pub(super) struct ShutdownSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    pub(super) fn install() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    pub(super) async fn wait(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

/// `groundwork join INVITE`: redeem the invite, then do the first sync.
pub fn join(dir: DataDir, offline: bool, text: &str, label: &str, out: &mut Out) -> Result<()> {
    let invite = Invite::from_text(text)?;
    let restored = dir.store_path().exists();
    if restored {
        restored_may_join(&dir, &invite)?;
    }
    if invite.expires <= crate::clock::Clock::system().secs() {
        bail!("this invite expired; ask for a new one");
    }
    let label = if label.trim().is_empty() {
        format!("{} device", invite.role)
    } else {
        label.trim().to_owned()
    };
    groundwork_protocol::text::check(groundwork_protocol::text::Field::DeviceLabel, &label)?;
    // A join that fails before this device holds the group takes away all
    // it made: the directory, the device key, a passphrase's files.
    let before = (!restored).then(|| Before::take(dir.root()));
    let undo = |e: anyhow::Error| {
        if let Some(b) = &before {
            b.put_back();
        }
        e
    };
    let rt = runtime()?;
    // The passphrase is asked for before the spinner starts, so nothing
    // is drawn over what the user types.
    let prepare = || -> Result<_> {
        if !restored {
            super::passphrase::offer(&dir)?;
            dir.create()
                .with_context(|| format!("creating {}", dir.root().display()))?;
        }
        let device = dir.read_or_create_key(KeyKind::Device)?;
        let config = crate::config::resolve(&dir, offline, None)?;
        Ok((device, config))
    };
    let (device, config) = prepare().map_err(undo)?;
    let set_up = || -> Result<(Box<groundwork_protocol::join::Joined>, crate::config::Config)> {
        let joined = rt.block_on(async {
            let joined = crate::daemon::redeem_invite(&device, &config, &invite, &label).await?;
            if restored {
                let g = Group::open(&dir)?;
                crate::daemon::admitted(&g, &invite, &joined)?;
            } else {
                crate::daemon::set_up_joined(&dir, device, &invite, &joined)?;
            }
            anyhow::Ok(joined)
        })?;
        Ok((joined, config))
    };
    let reaching = super::output::spinner(format!(
        "reaching the inviting device {} ({})…",
        invite.inviter.fmt_short(),
        crate::net::tried(&invite.addrs)
    ));
    let set = set_up();
    reaching.finish_and_clear();
    let (joined, config) = set.map_err(|e| super::target::dial_hint(undo(e)))?;
    rt.block_on(async {
        out.line(format!(
            "joined {}; this device is a group {}; syncing...",
            joined.name, joined.role
        ))?;
        out.flush()?;
        let daemon = Daemon::start(&dir, &config).await?;
        let syncing = super::output::spinner("first sync…".into());
        let synced = daemon.wait_synced(invite.inviter, FIRST_SYNC_TIMEOUT).await;
        syncing.finish_and_clear();
        daemon.shutdown().await?;
        synced.context("the first sync did not finish; run `groundwork up` to carry on")?;
        out.line("first sync done")?;
        if !dir.has_passphrase() {
            out.warn(groundwork_protocol::control::NO_PASSPHRASE_WARNING)?;
        }
        anyhow::Ok(())
    })
}

/// What a data directory held before a join began.
struct Before {
    root: std::path::PathBuf,
    existed: bool,
    entries: std::collections::BTreeSet<std::ffi::OsString>,
}

impl Before {
    fn take(root: &std::path::Path) -> Self {
        let entries = std::fs::read_dir(root)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
            .unwrap_or_default();
        Before {
            root: root.to_owned(),
            existed: root.exists(),
            entries,
        }
    }

    /// Removes what was made since: the directory if it is new, else the
    /// entries it did not hold. Best effort: a failure is logged, and the
    /// join's own error is the one reported.
    fn put_back(&self) {
        let result = if self.existed {
            std::fs::read_dir(&self.root).and_then(|d| {
                for e in d.filter_map(Result::ok) {
                    if self.entries.contains(&e.file_name()) {
                        continue;
                    }
                    let path = e.path();
                    if e.file_type()?.is_dir() {
                        std::fs::remove_dir_all(&path)?;
                    } else {
                        std::fs::remove_file(&path)?;
                    }
                }
                Ok(())
            })
        } else {
            match std::fs::remove_dir_all(&self.root) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        };
        if let Err(e) = result {
            tracing::warn!(
                "the join failed, and what it made in {} could not all be removed: {e}",
                self.root.display()
            );
        }
    }
}

/// A data directory that holds a group may redeem an invite only if it
/// is a restored backup of the invite's group, not yet admitted.
fn restored_may_join(dir: &DataDir, invite: &Invite) -> Result<()> {
    if crate::control::connect(dir)?.is_some() {
        bail!(
            "a node is running on {}; stop `groundwork up` first",
            dir.root().display()
        );
    }
    let g = Group::open(dir)?;
    let admitted = g
        .read::<groundwork_protocol::schema::Devices>()
        .ok()
        .and_then(|d| d.devices.get(&g.device_id().to_string()).cloned())
        .is_some_and(|e| e.revoked.is_none());
    if admitted || g.profile().id != invite.group {
        let other = if g.profile().id == invite.group {
            ""
        } else {
            ", and this invite is for another group"
        };
        bail!(
            "{} already holds the group {}{other}; join from a fresh data directory (--data-dir)",
            dir.root().display(),
            g.profile().name
        );
    }
    Ok(())
}

/// `groundwork peer add TICKET` without a running node: ask over a
/// temporary endpoint, then remember the peer (linked, or asked) for the
/// next `up`.
pub fn peer_add(g: &Group, offline: bool, ticket: &str) -> Result<PeerRecord> {
    let (device, addrs, code) = crate::net::parse_link_target(ticket)?;
    if device == g.device_id() {
        bail!("that is this node's own ticket");
    }
    let own = g.profile().id;
    let held = g
        .store()
        .cards()?
        .into_iter()
        .find(|(k, _)| k == own.as_bytes())
        .and_then(|(_, b)| groundwork_protocol::card::SignedCard::from_bytes(&b).ok());
    let card = g
        .refresh_own_card(held.as_ref(), rand::random())?
        .or(held)
        .ok_or_else(|| {
            anyhow!("only a steward device (which holds the group key) can link groups")
        })?;
    g.store().put_card(own.as_bytes(), card.bytes())?;
    let config = crate::config::resolve(g.dir(), offline, None)?;
    let device_key = SecretKey::from_seed(&g.device_key().to_seed());
    let request = groundwork_protocol::link::LinkMessage::Request {
        card: card.bytes().to_vec(),
        code,
    };
    let answer = runtime()?.block_on(async {
        let ep = crate::net::bind(&device_key, &config, None).await?;
        let r = crate::net::request_link(&ep, &device, &addrs, request).await;
        ep.close().await;
        r
    })?;
    use groundwork_protocol::link::LinkMessage;
    let (theirs, linked) = match answer {
        LinkMessage::Accepted(c) => (c, true),
        LinkMessage::Pending(c) => (c, false),
        _ => bail!("the other node sent an unexpected answer"),
    };
    let their_card = groundwork_protocol::card::SignedCard::from_bytes(&theirs)
        .map_err(|e| anyhow!("the other node's group card is invalid: {e}"))?;
    let group = their_card.card().group;
    if group == own {
        bail!("that node belongs to this group; use invite and join for its devices");
    }
    g.store().put_card(group.as_bytes(), their_card.bytes())?;
    let rec = PeerRecord {
        device,
        group: Some(group),
        addrs,
        linked,
        requested: !linked,
        last_seen: crate::clock::Clock::system().secs(),
    };
    g.store()
        .put_peer(device.as_bytes(), &serde_json::to_vec(&rec)?)?;
    Ok(rec)
}

/// Prints what `peer add` or `peer accept` made of a peer.
pub fn print_link(p: &PeerStatus, out: &mut Out) -> Result<()> {
    let who = p.name.clone().unwrap_or_else(|| {
        p.group
            .map_or_else(|| "?".to_owned(), |g| format!("group {}", g.fmt_short()))
    });
    if p.requested {
        out.line(format!(
            "asked {who} (node {}) to link; its steward sees the request in \
             `groundwork peer requests` and accepts it with `groundwork peer accept`",
            p.device.fmt_short()
        ))?;
    } else {
        out.line(format!(
            "linked with node {} of {who}",
            p.device.fmt_short()
        ))?;
    }
    Ok(())
}

/// Prints the requests to link waiting for the steward.
pub fn print_requests(
    rows: &[groundwork_protocol::control::LinkRequestView],
    json: bool,
    out: &mut Out,
) -> Result<()> {
    if out.json_or_empty(rows, json, "no requests to link are waiting")? {
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.group.fmt_short(),
                r.name.clone(),
                r.area.clone().unwrap_or_else(|| "-".into()),
                r.kind.slug().replace('-', " "),
                r.device.fmt_short(),
            ]
        })
        .collect();
    out.table(&["GROUP", "NAME", "AREA", "KIND", "DEVICE"], &table)?;
    out.line("")?;
    out.line("accept one with `groundwork peer accept GROUP`, or `groundwork peer refuse GROUP`")?;
    Ok(())
}

/// Whether this is the national body's node, whose empty listings point
/// to `affiliate` where a group's point to `peer add`.
pub(super) fn is_national(t: &mut super::target::Target) -> Result<bool> {
    use groundwork_protocol::card::GroupKind;
    if let Some(g) = t.group() {
        return Ok(g.profile().kind == GroupKind::National);
    }
    match t.send(Request::Status)? {
        Response::Status(s) => Ok(s.group_kind == GroupKind::National),
        r => Err(unexpected(&r)),
    }
}

/// What an empty directory or report says to do next.
fn no_groups_yet(national: bool) -> &'static str {
    if national {
        "no groups affiliated yet (affiliate one with `groundwork affiliate LINK-CODE`, the code \
         its steward's `groundwork link-code` prints)"
    } else {
        "no groups known yet (link one with `groundwork peer add TICKET`)"
    }
}

/// Prints peers.
pub fn print_peers(rows: &[PeerStatus], json: bool, national: bool, out: &mut Out) -> Result<()> {
    let empty = if national {
        "no peers yet (invite a device with `groundwork invite`, or affiliate a group with \
         `groundwork affiliate LINK-CODE`)"
    } else {
        "no peers yet (invite a device with `groundwork invite`, or link a group with \
         `groundwork peer add TICKET`)"
    };
    if out.json_or_empty(rows, json, empty)? {
        return Ok(());
    }
    let now = crate::clock::Clock::system().secs();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.device.fmt_short(),
                r.name.clone().unwrap_or_else(|| "-".into()),
                match (r.connected, r.in_sync) {
                    (true, Some(true)) => "connected, in sync",
                    (true, _) => "connected, syncing",
                    (false, _) => "-",
                }
                .to_owned(),
                if r.connected {
                    "now".to_owned()
                } else {
                    r.last_seen.map_or_else(|| "never".into(), |t| ago(now, t))
                },
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.table(
        &["DEVICE", "GROUP", "LINK", "LAST HEARD", "LAST ERROR"],
        &table,
    )?;
    Ok(())
}

/// How long before `now` the time `then` was, in words ("3 min ago").
fn ago(now: u64, then: u64) -> String {
    let s = now.saturating_sub(then);
    match s {
        0..60 => "just now".into(),
        60..3_600 => format!("{} min ago", s / 60),
        3_600..86_400 => format!("{} h ago", s / 3_600),
        _ => match s / 86_400 {
            1 => "1 day ago".into(),
            d => format!("{d} days ago"),
        },
    }
}

/// Prints the directory: each group's published (rounded) member count,
/// or `-` for a group that has published no summary.
pub fn print_directory(
    rows: &[groundwork_protocol::control::DirectoryEntry],
    json: bool,
    national: bool,
    out: &mut Out,
) -> Result<()> {
    if out.json_or_empty(rows, json, no_groups_yet(national))? {
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.area.clone().unwrap_or_else(|| "-".into()),
                r.kind.slug().replace('-', " "),
                r.members.map_or_else(|| "-".into(), |m| m.to_string()),
                match r.established {
                    Some(true) => "yes",
                    Some(false) => "forming",
                    None => "-",
                }
                .into(),
                if r.affiliated { "yes" } else { "-" }.into(),
                r.last_seen.map_or_else(|| "-".into(), |d| d.to_string()),
            ]
        })
        .collect();
    out.table(
        &[
            "GROUP",
            "AREA",
            "KIND",
            "MEMBERS",
            "ESTABLISHED",
            "AFFILIATED",
            "REPORTED",
        ],
        &table,
    )?;
    // A national node lists itself; with nothing else, say how to begin.
    let only_national = rows
        .iter()
        .all(|r| r.kind == groundwork_protocol::card::GroupKind::National);
    if national && only_national {
        out.line(no_groups_yet(true))?;
    } else {
        out.line(format!(
            "{} (`groundwork report` gives the network's figures)",
            super::output::count(rows.len(), "group")
        ))?;
    }
    Ok(())
}

/// Prints the network's figures (`report`) as text, or as JSON.
pub fn print_report(
    r: &groundwork_protocol::report::NetworkReport,
    json: bool,
    national: bool,
    out: &mut Out,
) -> Result<()> {
    let format = if json {
        crate::report_out::Format::Json
    } else {
        crate::report_out::Format::Text
    };
    write_report(r, format, None, national, out)
}

/// `report --format F [--output FILE]`: the report in a format, printed
/// or written to a file (whole or not at all: written beside it, flushed
/// to disk, then renamed over it).
pub fn write_report(
    r: &groundwork_protocol::report::NetworkReport,
    format: crate::report_out::Format,
    output: Option<&std::path::Path>,
    national: bool,
    out: &mut Out,
) -> Result<()> {
    use crate::report_out::{self as ro, Format};
    if output.is_none() && format == Format::Json {
        out.json(r)?;
        return Ok(());
    }
    if output.is_none() && format == Format::Text && r.groups == 0 {
        out.line(no_groups_yet(national))?;
        return Ok(());
    }
    let body = match format {
        Format::Text => ro::text(r),
        Format::Json => {
            super::output::json_escaped(&serde_json::to_string_pretty(r)?).into_owned() + "\n"
        }
        Format::Csv => ro::csv(r).context("could not write the CSV")?,
        Format::Markdown => ro::markdown(r),
        Format::Html => ro::html(r),
    };
    match output {
        None => {
            out.line(body.trim_end())?;
        }
        Some(path) => {
            super::files::write_private_file(path, |f| {
                use std::io::Write as _;
                Ok(f.write_all(body.as_bytes())?)
            })?;
            out.line(format!("wrote the report to {}", path.display()))?;
        }
    }
    Ok(())
}

/// Bytes in words: "812 B", "14.2 KiB", "3.1 MiB".
fn size(b: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = b as f64;
    if f < KIB {
        format!("{b} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / (KIB * KIB))
    }
}

/// Prints a running node's status.
pub fn print_status(s: &NodeStatus, json: bool, out: &mut Out) -> Result<()> {
    if json {
        out.json(s)?;
        return Ok(());
    }
    for w in s.warnings() {
        out.warn(w)?;
    }
    out.line(format!(
        "{} ({}), this device {} ({})",
        s.group_name,
        s.group.fmt_short(),
        s.device.fmt_short(),
        s.role.map_or_else(|| "-".to_owned(), |r| r.to_string())
    ))?;
    out.line("")?;
    let group_name = |g: Option<GroupId>| match g {
        None => s.group_name.clone(),
        Some(g) if g == s.group => s.group_name.clone(),
        Some(g) => s
            .peers
            .iter()
            .find(|p| p.group == Some(g))
            .and_then(|p| p.name.clone())
            .unwrap_or_else(|| g.fmt_short()),
    };
    let docs: Vec<Vec<String>> = s
        .documents
        .iter()
        .map(|d| {
            vec![
                group_name(d.group),
                d.kind.to_string(),
                // Heads: more than one is edits made at once, not yet
                // merged by a later change.
                match d.heads {
                    0 => "empty".to_owned(),
                    1 => "one".to_owned(),
                    n => format!("{n} (unmerged)"),
                },
                d.changes.map_or_else(|| "-".into(), |c| c.to_string()),
                d.bytes.map_or_else(|| "-".into(), size),
                match (d.peers, d.peers_in_sync) {
                    (Some(0), _) | (None, _) => "-".to_owned(),
                    (Some(p), Some(i)) => format!("{i} of {p}"),
                    (Some(p), None) => format!("? of {p}"),
                },
            ]
        })
        .collect();
    if let Some(a) = &s.affiliation {
        out.line(format!(
            "affiliated to network {} since {}",
            a.network.fmt_short(),
            a.since
        ))?;
        out.line("")?;
    }
    if let Some(g) = &s.gossip {
        out.line(format!(
            "gossip: network {}, {} neighbours, {} records received",
            g.network.fmt_short(),
            g.neighbours,
            g.records_received
        ))?;
    }
    if let Some(t) = &s.traffic {
        out.line(format!(
            "sync traffic: {} bytes sent, {} received (on the wire, gossip included: {} sent, {} received)",
            t.sent, t.received, t.wire_sent, t.wire_received
        ))?;
    }
    if s.gossip.is_some() || s.traffic.is_some() {
        out.line("")?;
    }
    out.table(
        &[
            "GROUP",
            "DOCUMENT",
            "VERSIONS",
            "CHANGES",
            "SIZE",
            "PEERS IN SYNC",
        ],
        &docs,
    )?;
    out.line(
        "(more than one version: edits made at the same time, merged by the next edit; \
         changes: stored since the last compaction)",
    )?;
    out.line("")?;
    for d in &s.documents {
        if !d.old_epoch.is_empty() {
            let ids: Vec<String> = d.old_epoch.iter().map(|x| x.fmt_short()).collect();
            out.line(format!(
                "{} is in epoch {}; still on an older one (it keeps what that erased until it syncs): {}",
                d.kind,
                d.epoch,
                ids.join(", ")
            ))?;
        }
        for stop in &d.stopped {
            out.line(format!(
                "{} not syncing with {}: {}{}",
                d.kind,
                stop.peer.fmt_short(),
                if stop.by_peer {
                    "the peer stopped: "
                } else {
                    ""
                },
                stop.reason
            ))?;
        }
    }
    for e in &s.equivocations {
        if e.healed {
            out.line(format!(
                "device {} once signed two different changes to {} (sequence {}, epoch {}); \
                 the document has moved to a later epoch since, with one history",
                e.device.fmt_short(),
                e.kind,
                e.seq,
                e.epoch
            ))?;
            continue;
        }
        out.line(format!(
            "warning: device {} signed two different changes to {} (sequence {}); it is broken \
             or compromised: a steward should revoke it (groundwork device revoke {})",
            e.device.fmt_short(),
            e.kind,
            e.seq,
            e.device.fmt_short()
        ))?;
    }
    if s.documents.iter().any(|d| !d.stopped.is_empty()) || !s.equivocations.is_empty() {
        out.line("")?;
    }
    print_peers(
        &s.peers,
        false,
        s.group_kind == groundwork_protocol::card::GroupKind::National,
        out,
    )
}
