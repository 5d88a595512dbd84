//! Reading a process's memory and CPU time from /proc, for the benchmarks.

use anyhow::{Result, anyhow};

/// One reading of a process from /proc (memory in KiB).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// Resident memory now (VmRSS).
    pub rss_kib: u64,
    /// Peak resident memory (VmHWM).
    pub hwm_kib: u64,
    /// Anonymous resident memory (RssAnon).
    pub anon_kib: u64,
    /// File-backed resident memory (RssFile).
    pub file_kib: u64,
    /// Threads.
    pub threads: u64,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads /proc/PID/status and /proc/PID/stat.
pub fn proc_sample(pid: u32) -> Result<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which is in parentheses): state is
    // field 3, utime 14, stime 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("odd /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    Ok(ProcSample {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        anon_kib: field("RssAnon:"),
        file_kib: field("RssFile:"),
        threads: field("Threads:"),
        // `rest` starts at field 3.
        cpu_ticks: tick(14 - 3) + tick(15 - 3),
    })
}
