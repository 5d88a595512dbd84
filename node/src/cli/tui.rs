//! `groundwork tui`: the terminal UI on this device's node, attached to the
//! node running on the data directory, or on one started in this process.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::network::runtime;
use crate::daemon::Daemon;
use crate::datadir::DataDir;
use crate::tui::ControlNode;

/// The log file while the UI owns the terminal.
pub const LOG_FILE: &str = "node.log";

/// Fails unless standard input and output are a terminal.
pub fn require_terminal() -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!(
            "the terminal UI needs a terminal; in a script use the other commands (network, report, status…)"
        );
    }
    Ok(())
}

/// Runs the UI on `node`. Log lines go to `log` from now until the caller
/// calls [`crate::logging::to_stderr`] (after stopping any node it ran, whose
/// last words would otherwise land on the restored terminal).
pub fn show(node: Arc<ControlNode>, log: &Path, greeting: Option<String>) -> Result<()> {
    crate::logging::to_file(log)
        .with_context(|| format!("opening the log file {}", log.display()))?;
    groundwork_tui::run(node, greeting).context("the terminal UI")
}

/// `groundwork tui`.
pub fn run(dir: DataDir, offline: bool) -> Result<()> {
    require_terminal()?;
    let log = dir.root().join(LOG_FILE);
    if let Some(client) = crate::control::connect(&dir)? {
        let node = Arc::new(ControlNode::attached(dir.clone(), client));
        let result = show(node, &log, None);
        crate::logging::to_stderr();
        return result;
    }
    // No node runs here: run one in this process, so the device keeps
    // syncing while the member browses.
    let config = crate::config::resolve(&dir, offline, None)?;
    let rt = runtime()?;
    let mut daemon = rt.block_on(Daemon::start(&dir, &config))?;
    rt.block_on(daemon.serve_control(&dir))?;
    let node = Arc::new(ControlNode::in_process(
        Arc::new(daemon.control()),
        rt.handle().clone(),
    ));
    let result = show(
        node,
        &log,
        Some("started this device's node: it syncs while the UI is open".into()),
    );
    let stopped = rt.block_on(daemon.shutdown());
    crate::logging::to_stderr();
    stopped?;
    result
}
