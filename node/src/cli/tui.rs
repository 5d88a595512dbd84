//! `groundwork tui`: the terminal UI on this device's node, attached to the
//! node running on the data directory, or on one started in this process.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Runs the UI on `node` for the group whose data directory is `root`. Log
/// lines go to `node.log` there from now until the caller calls
/// [`crate::logging::to_stderr`] (after stopping any node it ran, whose last
/// words would otherwise land on the restored terminal). `$EDITOR` edits a
/// file in a private directory there too. Setting `stop` quits.
pub fn show(
    node: Arc<ControlNode>,
    root: &Path,
    greeting: Option<String>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let log = root.join(LOG_FILE);
    crate::logging::to_file(&log)
        .with_context(|| format!("opening the log file {}", log.display()))?;
    let options = groundwork_tui::Options {
        greeting,
        scratch: Some(root.to_owned()),
        stop: Some(stop),
    };
    groundwork_tui::run(node, options).context("the terminal UI")
}

/// SIGTERM and SIGHUP make the UI quit (and a node it runs stop cleanly);
/// SIGINT is ignored: in the UI Ctrl-C is a key, and one pressed in
/// `$EDITOR` is the editor's.
fn on_signals(rt: &tokio::runtime::Runtime, stop: Arc<AtomicBool>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let _guard = rt.enter();
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut hup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    rt.spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => stop.store(true, Ordering::Relaxed),
                _ = hup.recv() => stop.store(true, Ordering::Relaxed),
                _ = int.recv() => {}
            }
        }
    });
    Ok(())
}

/// `groundwork tui`.
pub fn run(dir: DataDir, offline: bool) -> Result<()> {
    require_terminal()?;
    let rt = runtime()?;
    let stop = Arc::new(AtomicBool::new(false));
    on_signals(&rt, stop.clone())?;
    if let Some(client) = crate::control::connect(&dir)? {
        let node = Arc::new(ControlNode::attached(dir.clone(), client));
        let result = show(node, dir.root(), None, stop);
        crate::logging::to_stderr();
        return result;
    }
    // No node runs here: run one in this process, so the device keeps
    // syncing while the member browses.
    let config = crate::config::resolve(&dir, offline, None)?;
    let mut daemon = rt.block_on(Daemon::start(&dir, &config))?;
    rt.block_on(daemon.serve_control(&dir))?;
    let node = Arc::new(ControlNode::in_process(
        Arc::new(daemon.control()),
        rt.handle().clone(),
    ));
    let result = show(
        node,
        dir.root(),
        Some("started this device's node: it syncs while the UI is open".into()),
        stop,
    );
    let stopped = rt.block_on(daemon.shutdown());
    crate::logging::to_stderr();
    stopped?;
    result
}
