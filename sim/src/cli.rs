//! The knobs (environment variables) and the runs the binary and the
//! bench make: every size in turn, a line of progress each on stderr, the
//! Markdown tables on stdout.
//!
//! Knobs: `GW_SIM_GROUPS` (sizes, comma-separated; 200,500,1000,2000),
//! `GW_SIM_SEED` (1), `GW_SIM_LATENCY_MS` (one-way range, `10-60`),
//! `GW_SIM_LOSS` (per packet, 0.01), `GW_SIM_UPLINK_MBIT` (a group's
//! uplink, 20), `GW_SIM_NATIONAL_MBIT` (100), `GW_SIM_LIMIT_SECS`
//! (simulated seconds, 600), `GW_SIM_TARGET` (the size to extrapolate
//! to, 10000).

use std::process::ExitCode;
use std::time::Instant;

use crate::{Config, Row, SimError, peak_rss_kib, report};

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, SimError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| SimError::Knob {
            name,
            value: v,
            why: "not a number",
        }),
    }
}

fn configs() -> Result<(Vec<Config>, usize), SimError> {
    let sizes: Vec<usize> = match var("GW_SIM_GROUPS") {
        None => vec![200, 500, 1000, 2000],
        Some(v) => v
            .split(',')
            .map(|s| s.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .ok()
            .filter(|s: &Vec<usize>| !s.is_empty() && s.iter().all(|n| *n >= 2))
            .ok_or(SimError::Knob {
                name: "GW_SIM_GROUPS",
                value: v,
                why: "sizes of at least 2, comma-separated",
            })?,
    };
    let seed = parse("GW_SIM_SEED", 1u64)?;
    let latency = match var("GW_SIM_LATENCY_MS") {
        None => (10, 60),
        Some(v) => v
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .filter(|(a, b)| a <= b)
            .ok_or(SimError::Knob {
                name: "GW_SIM_LATENCY_MS",
                value: v,
                why: "a range such as 10-60",
            })?,
    };
    let loss = parse("GW_SIM_LOSS", 0.01f64)?;
    let uplink = parse("GW_SIM_UPLINK_MBIT", 20.0f64)?;
    let national = parse("GW_SIM_NATIONAL_MBIT", 100.0f64)?;
    let limit = parse("GW_SIM_LIMIT_SECS", 600u64)?;
    let target = parse("GW_SIM_TARGET", 10_000usize)?;
    let configs = sizes
        .into_iter()
        .map(|n| {
            let mut c = Config::new(n, seed);
            c.links.latency_ms = latency;
            c.links.loss = loss.clamp(0.0, 0.5);
            c.links.uplink_mbit = uplink;
            c.links.national_mbit = national;
            c.limit = limit * 1_000_000_000;
            c
        })
        .collect();
    Ok((configs, target))
}

/// Runs every size the environment names and prints the tables.
pub fn run_from_env() -> ExitCode {
    let (configs, target) = match configs() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("groundwork-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let mut rows = Vec::new();
    for c in configs {
        let groups = c.groups;
        eprintln!("simulating {groups} groups (seed {})", c.seed);
        let started = Instant::now();
        let outcome = match crate::run(c) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("groundwork-sim: {e}");
                return ExitCode::FAILURE;
            }
        };
        let wall = started.elapsed().as_secs_f64();
        eprintln!(
            "  {groups} groups: {:.1} s wall, {} events, {} of {groups} reporting, {} directories whole; sessions ended: {:?}",
            wall,
            outcome.events,
            outcome.reporting,
            outcome.full_directories(),
            outcome.end_reasons
        );
        rows.push(Row {
            outcome,
            wall,
            peak_rss_kib: peak_rss_kib(),
        });
    }
    // Written, not printed: a reader that stops early (`| head`) is not
    // an error worth a panic.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let mut text = format!("{}\n{}\n", report::table(&rows), report::by_kind(&rows));
    if rows.len() > 1 {
        text.push_str(&report::growth(&rows, target));
        text.push('\n');
    }
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
