//! What the benches share: formatting, the generated roster, and nodes in
//! the bench's own process (founding, joining by invite, editing through
//! the control API, waiting for a peer's change events).
//!
//! Each bench includes this file (`#[path = "common/mod.rs"] mod common;`)
//! and uses a part of it, so unused items are not warned about here.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use groundwork_node::config::{Config, Relay};
use groundwork_node::control::{Event, Request, Response};
use groundwork_node::daemon::Daemon;
use groundwork_node::datadir::{DataDir, KeyKind};
use groundwork_node::group::{Group, GroupKind, MemberInput, today};
use groundwork_protocol::schema::Role;
use groundwork_protocol::{DocKind, GroupId};
use groundwork_tests::people::{Person, Rng, person};
use groundwork_tests::stats::ms;

pub mod reconnect;

/// The seed every bench generates its people from.
pub const SEED: u64 = 0x6772_6f75_6e64_776b;

/// The longest any one wait in a bench may take.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Milliseconds, to two decimals below 100 ms.
pub fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// Bytes, in the unit that reads best.
pub fn fmt_bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MiB", b as f64 / (1u64 << 20) as f64)
    } else if b >= 10 * 1024 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// The median of some counts (0 for none).
pub fn median_u64(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or(0)
}

/// "pass", or a bold "FAIL".
pub fn verdict(pass: bool) -> &'static str {
    if pass { "pass" } else { "**FAIL**" }
}

/// A knob from the environment: `name`'s number, or `default` if unset.
pub fn knob(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v} is not a number")),
        Err(_) => Ok(default),
    }
}

/// A node's configuration for a bench: loopback, relays and LAN discovery off.
pub fn offline() -> Config {
    Config {
        relay: Relay::Disabled,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        mdns: false,
    }
}

/// A generated person as a member to add.
pub fn input(p: &Person) -> MemberInput {
    MemberInput {
        name: Some(p.name.clone()),
        email: Some(p.email.clone()),
        phone: Some(p.phone.clone()),
        kind: Some(p.kind),
        joined: Some(p.joined),
        ..MemberInput::default()
    }
}

/// `members` generated people as the CSV `member import` reads.
pub fn roster_csv(members: usize) -> String {
    let mut rng = Rng(SEED);
    let mut csv = String::from("Name,Email,Phone,Member type,Joined\n");
    for n in 0..members {
        let p = person(&mut rng, n, "");
        // Names are letters and one space; no field needs quoting.
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            p.name, p.email, p.phone, p.kind, p.joined
        );
    }
    csv
}

/// Founds a group in `dir` (no node runs yet).
pub fn found(dir: &Path, name: &str) -> Result<()> {
    Group::found(
        &DataDir::new(dir),
        name,
        None,
        GroupKind::LocalOrganisingGroup,
        today(),
    )
    .with_context(|| format!("founding a group in {}", dir.display()))?;
    Ok(())
}

/// Founds a group in `dir` and imports `members` generated members.
pub fn found_with_members(dir: &Path, members: usize) -> Result<()> {
    let data = DataDir::new(dir);
    let group = Group::found(
        &data,
        "Bench Organising Group",
        None,
        GroupKind::LocalOrganisingGroup,
        today(),
    )?;
    let mut rng = Rng(SEED);
    let rows: Vec<MemberInput> = (0..members)
        .map(|n| input(&person(&mut rng, n, "")))
        .collect();
    let outcome = group.import_members(&rows, false, today(), |_| {})?;
    ensure!(
        outcome.added.len() == members,
        "the import added {} of {members} members",
        outcome.added.len()
    );
    Ok(())
}

/// Copies a data directory (a stopped node's), file by file.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// How long each step of a join took.
#[derive(Debug, Clone, Copy)]
pub struct JoinTimes {
    /// Temporary endpoint, invite redeemed, endpoint closed.
    pub exchange: Duration,
    /// The new device's store: group, role, the inviter as a peer.
    pub setup: Duration,
    /// `Daemon::start` for the new device.
    pub start: Duration,
    /// From the node's start until `wait_synced` returned.
    pub sync: Duration,
    /// All of it.
    pub total: Duration,
}

/// Makes a new device join `a`'s group with `role`, the way
/// `groundwork join` does (node/src/cli/network.rs), then waits for the
/// first sync. The invite is made before the clock starts.
pub async fn join(a: &Daemon, dir: &Path, role: Role, label: &str) -> Result<(Daemon, JoinTimes)> {
    let config = offline();
    let invite = match a
        .request(Request::Invite {
            role,
            ttl_secs: 3600,
        })
        .await?
    {
        Response::Invite { text } => groundwork_protocol::invite::Invite::from_text(&text)?,
        other => bail!("no invite: {other:?}"),
    };
    let data = DataDir::new(dir);
    let t0 = Instant::now();
    data.create()?;
    let device = data.read_or_create_key(KeyKind::Device)?;
    let joined = groundwork_node::daemon::redeem_invite(&device, &config, &invite, label).await?;
    let exchange = t0.elapsed();
    groundwork_node::daemon::set_up_joined(&data, device, &invite, &joined)?;
    let setup = t0.elapsed() - exchange;
    let t1 = Instant::now();
    let b = Daemon::start(&data, &config).await?;
    let start = t1.elapsed();
    let t2 = Instant::now();
    b.wait_synced(invite.inviter, LIMIT).await?;
    let sync = t2.elapsed();
    Ok((
        b,
        JoinTimes {
            exchange,
            setup,
            start,
            sync,
            total: t0.elapsed(),
        },
    ))
}

/// How many members a node holds (the control API's `member list`).
pub async fn member_count(node: &Daemon) -> Result<usize> {
    match node
        .request(Request::MemberList {
            kind: None,
            with_contacts: false,
        })
        .await?
    {
        Response::Members(m) => Ok(m.len()),
        other => bail!("no member list: {other:?}"),
    }
}

/// Adds a member through the node's control API (durably committed, and
/// offered to every peer, when it returns).
pub async fn add_member(node: &Daemon, p: &Person) -> Result<()> {
    let req = Request::MemberAdd { input: input(p) };
    let resp = node.request(req).await?;
    if let Response::Error { message, .. } = &resp {
        bail!("member add failed: {message}");
    }
    Ok(())
}

/// Waits for `kinds` to have changed on a node (its `DocChanged` events,
/// raised once it has verified and durably stored the change); returns
/// when each did, in milliseconds after `t0`.
pub async fn wait_changed(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    group: GroupId,
    kinds: &[DocKind],
    t0: Instant,
) -> Result<Vec<f64>> {
    let mut when = vec![None; kinds.len()];
    let deadline = t0 + Duration::from_secs(20);
    while when.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, events.recv())
            .await
            .map_err(|_| anyhow!("no change event from the peer within 20 s"))?;
        match ev {
            Ok(Event::DocChanged { group: g, kind }) if g == group => {
                if let Some(i) = kinds.iter().position(|k| *k == kind)
                    && when[i].is_none()
                {
                    when[i] = Some(ms(t0.elapsed()));
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                bail!("the bench fell {n} events behind")
            }
            Err(e) => bail!("event stream: {e}"),
        }
    }
    Ok(when.into_iter().flatten().collect())
}

/// Starts `cmd` (a `groundwork up`, stdout piped) and waits up to `limit`
/// for its `ticket:` line; the child is killed if it prints none.
pub fn spawn_up(cmd: &mut std::process::Command, limit: Duration) -> Result<std::process::Child> {
    use std::io::BufRead as _;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting `groundwork up`")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("ticket:") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(limit).is_err() {
        let _ = child.kill();
        return Err(anyhow!(
            "`groundwork up` printed no ticket within {limit:?}"
        ));
    }
    Ok(child)
}
