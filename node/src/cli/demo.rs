//! `groundwork demo`: found the sample network, run it on loopback, and
//! print the national report once it has converged.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use groundwork_protocol::control::{Request, Response};

use super::network::{ShutdownSignals, print_report, runtime};
use super::output::Out;
use crate::control::ControlHandler;
use crate::datadir::DataDir;
use crate::demo::network::{DemoNetwork, Layout, Progress};

/// How long the demo waits for the network to converge.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the demo. Its data lives in a temporary directory (removed at the
/// end) unless `data_dir` is given; a directory holding an earlier demo is
/// run again as it is.
pub fn run(data_dir: Option<&Path>, groups: usize, headless: bool, out: &mut Out) -> Result<()> {
    let temp;
    let root = match data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.to_owned()
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_owned()
        }
    };
    let (national, dirs, fresh) = match crate::demo::read_manifest(&root)? {
        Some(dirs) => {
            out.line(format!(
                "Running the demo network in {} again",
                root.display()
            ))?;
            (
                DataDir::new(root.join(crate::demo::NATIONAL_DIR)),
                dirs,
                false,
            )
        }
        None => {
            if std::fs::read_dir(&root)
                .with_context(|| format!("reading {}", root.display()))?
                .next()
                .is_some()
            {
                bail!(
                    "{} is not empty and holds no demo network; give a new or empty directory",
                    root.display()
                );
            }
            let (national, dirs) = found(&root, groups, out)?;
            (national, dirs, true)
        }
    };
    runtime()?.block_on(async {
        let mut shutdown = ShutdownSignals::install()?;
        out.line(format!(
            "Starting {} nodes on loopback (relays off)",
            dirs.len() + 1
        ))?;
        out.flush()?;
        let starting = super::output::counter("starting nodes", dirs.len() as u64 + 1, true);
        let mut net = DemoNetwork::start_counting(&national, &dirs, || starting.inc(1)).await?;
        starting.finish();
        let started = Instant::now();
        let result = converge(&mut net, fresh, out).await;
        let result = match result {
            Ok(()) => {
                out.line(format!(
                    "Converged in {:.1} s: every summary is at the national node and every node holds the whole directory",
                    started.elapsed().as_secs_f64()
                ))?;
                out.line("")?;
                report(&net, out).await
            }
            Err(e) => Err(e),
        };
        if result.is_ok() && !headless {
            out.line("")?;
            if super::tui::require_terminal().is_ok() {
                out.line("Opening the terminal UI on the national node (q quits and stops the network)")?;
                out.flush()?;
                let node = std::sync::Arc::new(crate::tui::ControlNode::in_process(
                    std::sync::Arc::new(net.national.control()),
                    tokio::runtime::Handle::current(),
                ));
                let greeting = format!(
                    "the demo network: {} groups syncing on loopback",
                    dirs.len()
                );
                // Ctrl-C is a key in the UI; SIGTERM (or a Ctrl-C while
                // `$EDITOR` runs) stops it.
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let on_signal = stop.clone();
                let signals = tokio::spawn(async move {
                    shutdown.wait().await;
                    on_signal.store(true, std::sync::atomic::Ordering::Relaxed);
                });
                let shown = tokio::task::block_in_place(|| {
                    super::tui::show(node, national.root(), Some(greeting), stop)
                });
                signals.abort();
                if let Err(e) = shown {
                    out.line(format!("error: {e:#}"))?;
                }
            } else {
                out.line(format!(
                    "The network is running. In another terminal, try: groundwork --data-dir {} tui (or report, network, status). Press Ctrl-C to stop.",
                    national.root().display()
                ))?;
                out.flush()?;
                shutdown.wait().await;
            }
        }
        out.line(format!("Stopping {} nodes…", net.nodes()))?;
        out.flush()?;
        let nodes = net.nodes();
        let stopping = super::output::counter("stopping nodes", nodes as u64, true);
        let t = Instant::now();
        let stopped = net.shutdown_counting(|| stopping.inc(1)).await;
        stopping.finish();
        crate::logging::to_stderr();
        stopped?;
        out.line(format!(
            "Stopped {nodes} nodes in {:.1} s",
            t.elapsed().as_secs_f64()
        ))?;
        result
    })?;
    match data_dir {
        Some(d) => out.line(format!(
            "The data is in {}; explore the national node with: groundwork --data-dir {} report",
            d.display(),
            d.join(crate::demo::NATIONAL_DIR).display()
        ))?,
        None => out.line(
            "The sample data was temporary; pass --data-dir DIR to keep it and explore it with the other commands.",
        )?,
    }
    Ok(())
}

/// Founds the national body and the sample groups under `root`.
fn found(root: &Path, groups: usize, out: &mut Out) -> Result<(DataDir, Vec<DataDir>)> {
    out.line(format!(
        "Founding {} and {groups} sample groups in {}",
        crate::demo::sample::NATIONAL_NAME,
        root.display()
    ))?;
    out.flush()?;
    let national = crate::demo::found_national(root)?;
    let built = crate::demo::build(root, groups, |g| {
        let _ = out.line(format!(
            "  founded {} ({}): {} members{}",
            g.name,
            g.area,
            g.members,
            if g.established { ", established" } else { "" }
        ));
        let _ = out.flush();
    })?;
    crate::demo::write_manifest(root, &built)?;
    let established = built.iter().filter(|g| g.established).count();
    out.line(format!(
        "{} groups, {established} established, {} members",
        built.len(),
        built.iter().map(|g| g.members).sum::<usize>()
    ))?;
    Ok((
        national,
        built
            .into_iter()
            .map(|g| DataDir::new(g.data_dir))
            .collect(),
    ))
}

/// Affiliates and links a fresh network, then waits, printing progress.
async fn converge(net: &mut DemoNetwork, fresh: bool, out: &mut Out) -> Result<()> {
    if fresh {
        let t = Instant::now();
        let linking = super::output::spinner("affiliating and linking the groups…".into());
        let (affiliations, links) = net.connect(Layout::Affiliated).await?;
        linking.finish_and_clear();
        out.line(format!(
            "The national node affiliated {affiliations} groups and groups made {links} links with their neighbours ({:.1} s)",
            t.elapsed().as_secs_f64()
        ))?;
    } else {
        net.mark_affiliated().await?;
    }
    out.flush()?;
    let mut shown: Option<Instant> = None;
    net.wait_converged(CONVERGE_TIMEOUT, |p: &Progress| {
        // The first line, at most one a second after it, and the last.
        if p.converged() || shown.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            shown = Some(Instant::now());
            let _ = out.line(format!("  syncing: {p}"));
            let _ = out.flush();
        }
    })
    .await?;
    Ok(())
}

/// Prints the national node's report.
async fn report(net: &DemoNetwork, out: &mut Out) -> Result<()> {
    match net.national.control().request(Request::Report).await {
        Response::Report(r) => {
            out.line(format!(
                "{}: the network's figures",
                crate::demo::sample::NATIONAL_NAME
            ))?;
            print_report(&r, false, true, out)
        }
        Response::Error { message, .. } => bail!("{message}"),
        other => bail!("unexpected answer to the report request: {other:?}"),
    }
}
