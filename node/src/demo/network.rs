//! The demo network running: the national node and every sample group as
//! real nodes in this process, on loopback with relays off, affiliated and
//! linked over iroh.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use groundwork_protocol::GroupId;
use groundwork_protocol::control::{ErrorCode, Request, Response};

use crate::config::{Config, Relay};
use crate::control::ControlHandler;
use crate::daemon::Daemon;
use crate::datadir::DataDir;
use crate::demo::{DemoError, DemoResult};

/// How many times a link or an affiliation is tried when the other node
/// cannot be reached.
const LINK_TRIES: u32 = 3;

/// How the groups join the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The national node affiliates (and so links with) every group, and
    /// groups are also linked in pairs (the second of each pair links with
    /// the first), so their documents travel between them.
    Affiliated,
    /// Only every other group is affiliated, so linked with the national
    /// node; each of the others links with the group before it and nothing
    /// else. It is not in the network: only that neighbour knows it, and it
    /// learns the network's directory through that neighbour.
    Sparse,
}

impl Layout {
    /// Whether group `i` is affiliated (linked with the national node).
    pub fn affiliates(self, i: usize) -> bool {
        match self {
            Layout::Affiliated => true,
            Layout::Sparse => i.is_multiple_of(2),
        }
    }

    /// The group that group `i` links with itself, if any.
    pub fn neighbour(self, i: usize) -> Option<usize> {
        (i % 2 == 1).then(|| i - 1)
    }
}

/// The configuration every demo node runs with: loopback, any port, no
/// relays, no public address lookup, no mDNS.
pub fn loopback_config() -> Config {
    Config {
        relay: Relay::Disabled,
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        mdns: false,
    }
}

/// One running group node.
#[derive(Debug)]
pub struct Running {
    /// The group's name.
    pub name: String,
    /// Its id.
    pub group: GroupId,
    /// The node.
    pub daemon: Daemon,
}

/// How far the network has converged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Groups running.
    pub groups: usize,
    /// Summaries the national node holds of the groups it affiliated.
    pub summaries: usize,
    /// Affiliations the national node holds.
    pub affiliations: usize,
    /// Affiliations the layout asked for.
    pub affiliated: usize,
    /// Nodes (the national one included) holding the card of every group
    /// in the directory (the national node and those it affiliated).
    pub full_directories: usize,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the national node holds {}/{} summaries and {}/{} affiliations; {}/{} nodes hold the whole directory",
            self.summaries,
            self.affiliated,
            self.affiliations,
            self.affiliated,
            self.full_directories,
            self.groups + 1
        )
    }
}

impl Progress {
    /// Every summary and affiliation at the national node, and the whole
    /// directory on every node.
    pub fn converged(&self) -> bool {
        self.summaries == self.affiliated
            && self.affiliations == self.affiliated
            && self.full_directories == self.groups + 1
    }
}

/// The demo network, running.
#[derive(Debug)]
pub struct DemoNetwork {
    /// The national node.
    pub national: Daemon,
    /// The group nodes, in sample order.
    pub groups: Vec<Running>,
    affiliated: usize,
}

impl DemoNetwork {
    /// Starts the national node in `national` and a node for each group
    /// directory. Must run inside a tokio runtime.
    pub async fn start(national: &DataDir, groups: &[DataDir]) -> DemoResult<DemoNetwork> {
        DemoNetwork::start_counting(national, groups, || {}).await
    }

    /// [`DemoNetwork::start`], calling `started` as each node is up (the
    /// national node's first), for a progress bar.
    pub async fn start_counting(
        national: &DataDir,
        groups: &[DataDir],
        mut started: impl FnMut(),
    ) -> DemoResult<DemoNetwork> {
        let config = loopback_config();
        let node = |doing: String| move |source| DemoError::Node { doing, source };
        let mut national_node = Daemon::start(national, &config)
            .await
            .map_err(node("starting the national node".into()))?;
        // Other terminals reach the national node through its socket
        // (`groundwork --data-dir … tui`, `report`).
        national_node
            .serve_control(national)
            .await
            .map_err(node("serving the national node's control socket".into()))?;
        let national = national_node;
        started();
        let mut running = Vec::with_capacity(groups.len());
        for dir in groups {
            let daemon = Daemon::start(dir, &config).await.map_err(node(format!(
                "starting the node in {}",
                dir.root().display()
            )))?;
            let o = daemon.handle().overview().await?;
            let (name, group) = (o.name, o.group);
            running.push(Running {
                name,
                group,
                daemon,
            });
            started();
        }
        Ok(DemoNetwork {
            national,
            groups: running,
            affiliated: 0,
        })
    }

    /// Affiliates and links the groups as `layout` says, a few at a time.
    /// Each link is by consent: the node asked hands out a one-time link
    /// code (as its steward would, with `groundwork link-code`), and the
    /// node asking uses it. Returns (affiliations, links) made.
    pub async fn connect(&mut self, layout: Layout) -> DemoResult<(usize, usize)> {
        let national = self.national.control();
        let mut tasks = tokio::task::JoinSet::new();
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
        for (i, g) in self.groups.iter().enumerate() {
            let mut jobs = Vec::new();
            if layout.affiliates(i) {
                jobs.push((national.clone(), g.daemon.control(), true));
            }
            if let Some(n) = layout.neighbour(i) {
                jobs.push((g.daemon.control(), self.groups[n].daemon.control(), false));
            }
            for (asking, asked, affiliation) in jobs {
                let name = g.name.clone();
                let limit = limit.clone();
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    let what = if affiliation {
                        "affiliating"
                    } else {
                        "linking"
                    };
                    // A node that could not be reached (a busy loopback
                    // on a loaded laptop) is tried again with a fresh code;
                    // any other refusal ends the demo.
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        let ticket = match asked.request(Request::LinkCode { ttl_secs: 3600 }).await
                        {
                            Response::LinkCode { text, .. } => text,
                            other => {
                                return Err(DemoError::Link {
                                    what,
                                    name,
                                    why: format!("no link code: {other:?}"),
                                });
                            }
                        };
                        let req = if affiliation {
                            Request::Affiliate { ticket }
                        } else {
                            Request::PeerAdd { ticket }
                        };
                        match asking.request(req).await {
                            Response::Error {
                                code: ErrorCode::Unavailable,
                                ..
                            } if tries < LINK_TRIES => {}
                            Response::Error { message, .. } => {
                                break Err(DemoError::Link {
                                    what,
                                    name,
                                    why: message,
                                });
                            }
                            _ => break Ok(affiliation),
                        }
                    }
                });
            }
        }
        let (mut affiliations, mut links) = (0, 0);
        while let Some(done) = tasks.join_next().await {
            if done.map_err(|e| DemoError::Task(e.to_string()))?? {
                affiliations += 1;
            } else {
                links += 1;
            }
        }
        self.affiliated = affiliations;
        Ok((affiliations, links))
    }

    /// For a network run again: expects the affiliations the national node
    /// already holds.
    pub async fn mark_affiliated(&mut self) -> DemoResult<()> {
        let ids: Vec<GroupId> = self.groups.iter().map(|g| g.group).collect();
        let held = self.national.handle().overview().await?.affiliations;
        self.affiliated = ids.iter().filter(|g| held.contains(g)).count();
        Ok(())
    }

    /// How far the network has converged. The network is the groups the
    /// national node affiliated: a group that is not affiliated is known
    /// only to the groups it links with (`trust::records`).
    pub async fn progress(&self) -> DemoResult<Progress> {
        let ids: BTreeSet<GroupId> = self.groups.iter().map(|g| g.group).collect();
        let national = self.national.handle().overview().await?;
        let listed: BTreeSet<GroupId> = ids
            .iter()
            .filter(|g| national.affiliations.contains(g))
            .copied()
            .collect();
        let summaries = listed
            .iter()
            .filter(|g| national.summaries.contains(g))
            .count();
        let mut directory = listed;
        directory.insert(national.group);
        let holds_directory =
            |cards: &BTreeMap<GroupId, String>| directory.iter().all(|g| cards.contains_key(g));
        let mut full = usize::from(holds_directory(&national.cards));
        for g in &self.groups {
            let cards = g.daemon.handle().overview().await?.cards;
            full += usize::from(holds_directory(&cards));
        }
        Ok(Progress {
            groups: ids.len(),
            summaries,
            affiliations: directory.len() - 1,
            affiliated: self.affiliated,
            full_directories: full,
        })
    }

    /// Waits until the network has converged, calling `each` whenever the
    /// progress changes. Gives up after `timeout`, saying how far it got.
    pub async fn wait_converged(
        &self,
        timeout: Duration,
        mut each: impl FnMut(&Progress),
    ) -> DemoResult<Progress> {
        let start = Instant::now();
        let mut events = self.national.events();
        let mut last = None;
        loop {
            let p = self.progress().await?;
            if last != Some(p) {
                each(&p);
                last = Some(p);
            }
            if p.converged() {
                return Ok(p);
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(DemoError::NotConverged {
                    secs: timeout.as_secs(),
                    progress: p.to_string(),
                });
            }
            // Look again when the national node hears something, and at
            // least every 100 ms (group nodes raise no event here).
            let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), events.recv()).await;
        }
    }

    /// How many nodes run: the national node and each group's.
    pub fn nodes(&self) -> usize {
        self.groups.len() + 1
    }

    /// Stops every node at once (each waits for its links to close, so one
    /// after another took seconds a node), saving each one's sync state.
    pub async fn shutdown(self) -> DemoResult<()> {
        self.shutdown_counting(|| {}).await
    }

    /// [`DemoNetwork::shutdown`], calling `stopped` as each node has
    /// stopped, for a progress bar.
    pub async fn shutdown_counting(self, mut stopped: impl FnMut()) -> DemoResult<()> {
        let mut stopping = tokio::task::JoinSet::new();
        for g in self.groups {
            stopping.spawn(async move { (g.name, g.daemon.shutdown().await) });
        }
        let national = self.national;
        stopping.spawn(async move { ("national node".to_owned(), national.shutdown().await) });
        let mut errors = Vec::new();
        while let Some(done) = stopping.join_next().await {
            stopped();
            match done {
                Ok((_, Ok(()))) => {}
                Ok((name, Err(e))) => errors.push(format!("{name}: {e:#}")),
                Err(e) => errors.push(format!("a node's shutdown failed: {e}")),
            }
        }
        errors.sort();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DemoError::Stopping(errors.join("; ")))
        }
    }
}
