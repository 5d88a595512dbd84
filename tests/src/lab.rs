//! A network-namespace lab: hosts with their own network stacks, joined by
//! veth pairs, a bridge, or an impairment relay ([`crate::impair`]).
//!
//! Every address lives inside namespaces the lab made; the machine's own
//! namespace gets no address, link or route. The lab deletes its
//! namespaces (killing what still runs in them) when dropped, so a failing
//! test cleans up too, and a new lab first removes those left by a test
//! process that no longer exists (killed before it could clean up).
//!
//! Without `CAP_NET_ADMIN` (or without `ip`), [`Lab::new`] says
//! `SKIPPED: …` on the terminal, past the test harness's capture, and gives
//! `None`; with `GROUNDWORK_LAB=require` it fails the test instead.

use std::io::{self, Write};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The prefix of every namespace a lab makes: `gwlab-PID-N-ROLE`.
const PREFIX: &str = "gwlab-";

/// A set of network namespaces, deleted when dropped.
#[derive(Debug)]
pub struct Lab {
    id: String,
    namespaces: Vec<String>,
}

/// Runs `ip ARGS`, giving its stderr as the error.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Moves the calling thread into network namespace `name` (made by `ip
/// netns add`): sockets it makes from now on are made there.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let file = std::fs::File::open(format!("/run/netns/{name}"))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
}

/// Says `SKIPPED: why` where it is seen whether the test passes or not
/// (straight to the process's stderr: the harness captures only `eprintln!`).
pub fn say_skipped(test: &str, why: &str) {
    let _ = writeln!(io::stderr(), "SKIPPED: {test}: {why}");
}

impl Lab {
    /// A new, empty lab for `test`, or `None` (said on the terminal) when
    /// this machine cannot make network namespaces.
    pub fn new(test: &str) -> Option<Lab> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        remove_orphans();
        let id = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut lab = Lab {
            id,
            namespaces: Vec::new(),
        };
        match lab.try_ns("probe") {
            Ok(_) => Some(lab),
            Err(e) => {
                let why = format!("the network lab needs CAP_NET_ADMIN and iproute2 ({e})");
                assert!(
                    std::env::var("GROUNDWORK_LAB").as_deref() != Ok("require"),
                    "GROUNDWORK_LAB=require, but {why}"
                );
                say_skipped(test, &why);
                None
            }
        }
    }

    fn try_ns(&mut self, role: &str) -> Result<String, String> {
        let name = format!("{}-{role}", self.id);
        ip(&["netns", "add", &name])?;
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    /// A new namespace (a host, a switch or a router) named after `role`,
    /// with its loopback up.
    pub fn ns(&mut self, role: &str) -> String {
        self.try_ns(role).unwrap_or_else(|e| panic!("lab: {e}"))
    }

    /// A veth pair: `a_if` in namespace `a`, `b_if` in `b`, each given its
    /// address (`10.1.0.2/24`) if any, both up.
    pub fn wire(
        &self,
        a: &str,
        a_if: &str,
        a_addr: Option<&str>,
        b: &str,
        b_if: &str,
        b_addr: Option<&str>,
    ) {
        let run = |args: &[&str]| ip(args).unwrap_or_else(|e| panic!("lab: {e}"));
        run(&[
            "-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b,
        ]);
        for (ns, ifname, addr) in [(a, a_if, a_addr), (b, b_if, b_addr)] {
            if let Some(addr) = addr {
                run(&["-n", ns, "addr", "add", addr, "dev", ifname]);
            }
            run(&["-n", ns, "link", "set", ifname, "up"]);
        }
    }

    /// A switch: a new namespace with a bridge, and each host's `eth0`
    /// (with its address) wired to a port of it, `p0`, `p1`, …. Returns the
    /// switch's namespace.
    pub fn switch(&mut self, hosts: &[(&str, &str)]) -> String {
        let sw = self.ns("switch");
        let run = |args: &[&str]| ip(args).unwrap_or_else(|e| panic!("lab: {e}"));
        run(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        run(&["-n", &sw, "link", "set", "br0", "up"]);
        for (i, (host, addr)) in hosts.iter().enumerate() {
            let port = format!("p{i}");
            self.wire(host, "eth0", Some(addr), &sw, &port, None);
            run(&["-n", &sw, "link", "set", &port, "master", "br0"]);
        }
        sw
    }

    /// Gives interface `ifname` in namespace `ns` the address `addr`.
    pub fn addr(&self, ns: &str, ifname: &str, addr: &str) {
        ip(&["-n", ns, "addr", "add", addr, "dev", ifname]).unwrap_or_else(|e| panic!("lab: {e}"));
    }

    /// Loads an nftables ruleset into namespace `ns`; an error if `nft` is
    /// missing or the kernel refuses it.
    pub fn nft(&self, ns: &str, ruleset: &str) -> Result<(), String> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("nft: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(ruleset.as_bytes())
                .map_err(|e| format!("nft: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "nft: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Takes interface `ifname` in namespace `ns` down or up.
    pub fn set_link(&self, ns: &str, ifname: &str, up: bool) {
        ip(&[
            "-n",
            ns,
            "link",
            "set",
            ifname,
            if up { "up" } else { "down" },
        ])
        .unwrap_or_else(|e| panic!("lab: {e}"));
    }

    /// `cmd`, to be run inside namespace `ns` (by `ip netns exec`), with
    /// its arguments and environment.
    pub fn inside(&self, ns: &str, cmd: &Command) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            c.current_dir(dir);
        }
        c
    }

    /// Whether the kernel has `netem` (this lab's machines have not: the
    /// relay stands in for it).
    pub fn has_netem(&self, ns: &str, ifname: &str) -> bool {
        let ok = ip(&["-n", ns, "link", "show", ifname]).is_ok()
            && Command::new("ip")
                .args([
                    "netns", "exec", ns, "tc", "qdisc", "add", "dev", ifname, "root", "netem",
                    "delay", "1ms",
                ])
                .output()
                .is_ok_and(|o| o.status.success());
        if ok {
            let _ = Command::new("ip")
                .args([
                    "netns", "exec", ns, "tc", "qdisc", "del", "dev", ifname, "root",
                ])
                .output();
        }
        ok
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.namespaces.drain(..).rev() {
            remove_ns(&ns);
        }
    }
}

/// Kills what runs in `ns` and deletes it.
fn remove_ns(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).output();
        }
    }
    let _ = ip(&["netns", "del", ns]);
}

/// Deletes labs' namespaces whose test process has gone.
fn remove_orphans() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            remove_ns(&name);
        }
    }
}
