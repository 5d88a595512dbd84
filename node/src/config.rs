//! `config.toml` in the data directory, resolved with the command line into
//! one [`Config`] before anything runs. Flags beat the file; the file beats
//! the defaults.
//!
//! ```toml
//! # Relay servers help peers behind home routers reach each other.
//! #   "default"   n0's public relays, and public address lookup (DNS/pkarr)
//! #   "disabled"  no relays and no public lookup: LAN and direct addresses only
//! #               (the same as --offline)
//! #   "https://relay.example.org"   a relay the network hosts itself
//! relay = "default"
//!
//! # Where `groundwork up` listens: an IP address and port; port 0 lets the
//! # system choose. Overridden by `up --listen`.
//! listen = "0.0.0.0:0"
//!
//! # LAN discovery (mDNS): find the group's other devices on the same
//! # network, e.g. two laptops in a meeting hall with no internet. Only
//! # devices this node already knows (from the group's devices document or
//! # `peer add`) are connected to; others are ignored.
//! mdns = true
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::datadir::DataDir;

/// The file's name in the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The file as written. Every field is optional; unknown fields are errors
/// (a typo should not be silently ignored).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `"default"`, `"disabled"`, or the URL of a self-hosted relay.
    pub relay: Option<String>,
    /// Where `up` listens.
    pub listen: Option<SocketAddr>,
    /// LAN discovery on or off.
    pub mdns: Option<bool>,
}

/// Which relays the endpoint uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relay {
    /// n0's public relays, with public address lookup.
    Default,
    /// None, and no public address lookup.
    Disabled,
    /// A relay the network hosts itself (no public address lookup).
    Custom(iroh::RelayUrl),
}

/// Everything the node needs to know about how to run, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Relays.
    pub relay: Relay,
    /// Where `up` listens.
    pub listen: SocketAddr,
    /// LAN discovery (mDNS).
    pub mdns: bool,
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("{path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a field of the wrong type or name.
    #[error("{path}: {why}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's message (it names the line and the field).
        why: String,
    },
    /// A relay value that is none of the three forms.
    #[error("{path}: relay = \"{value}\" is not \"default\", \"disabled\" or an http(s) URL")]
    BadRelay {
        /// The file.
        path: PathBuf,
        /// The value given.
        value: String,
    },
}

/// Reads `config.toml` (if there is one) and applies the flags over it.
pub fn resolve(
    dir: &DataDir,
    offline: bool,
    listen: Option<SocketAddr>,
) -> Result<Config, ConfigError> {
    let path = dir.root().join(CONFIG_FILE);
    let file = read(&path)?;
    let relay = if offline {
        Relay::Disabled
    } else {
        match file.relay.as_deref().map(str::trim) {
            None | Some("default") => Relay::Default,
            Some("disabled") => Relay::Disabled,
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Relay::Custom(url.parse().map_err(|_| ConfigError::BadRelay {
                    path: path.clone(),
                    value: url.to_owned(),
                })?)
            }
            Some(other) => {
                return Err(ConfigError::BadRelay {
                    path,
                    value: other.to_owned(),
                });
            }
        }
    };
    let listen = listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    Ok(Config {
        relay,
        listen,
        mdns: file.mdns.unwrap_or(true),
    })
}

fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(source) => {
            return Err(ConfigError::Unreadable {
                path: path.to_owned(),
                source,
            });
        }
    };
    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        why: e
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(content: Option<&str>) -> (tempfile::TempDir, DataDir) {
        let tmp = tempfile::tempdir().expect("tempdir");
        if let Some(c) = content {
            std::fs::write(tmp.path().join(CONFIG_FILE), c).expect("write");
        }
        let dir = DataDir::new(tmp.path());
        (tmp, dir)
    }

    #[test]
    fn defaults_file_and_flags_in_that_order() {
        let (_t, d) = with(None);
        assert_eq!(
            resolve(&d, false, None).expect("ok"),
            Config {
                relay: Relay::Default,
                listen: "0.0.0.0:0".parse().expect("addr"),
                mdns: true,
            }
        );
        let (_t, d) = with(Some(
            "relay = \"https://relay.example.org\"\nlisten = \"127.0.0.1:7000\"\n",
        ));
        let c = resolve(&d, false, None).expect("ok");
        assert!(
            matches!(c.relay, Relay::Custom(ref u) if u.to_string().starts_with("https://relay.example.org"))
        );
        assert_eq!(c.listen, "127.0.0.1:7000".parse().expect("addr"));
        let c = resolve(&d, true, Some("127.0.0.1:0".parse().expect("addr"))).expect("ok");
        assert_eq!(
            c,
            Config {
                relay: Relay::Disabled,
                listen: "127.0.0.1:0".parse().expect("addr"),
                mdns: true,
            }
        );
        let (_t, d) = with(Some("relay = \"disabled\"\nmdns = false\n"));
        let c = resolve(&d, false, None).expect("ok");
        assert_eq!((c.relay, c.mdns), (Relay::Disabled, false));
    }

    #[test]
    fn bad_files_name_the_file_and_the_problem() {
        for (content, expect) in [
            ("relay = \"sometimes\"\n", "sometimes"),
            ("relya = \"default\"\n", "relya"),
            ("listen = \"not an address\"\n", "listen"),
            ("relay = \n", "config.toml"),
        ] {
            let (_t, d) = with(Some(content));
            let err = resolve(&d, false, None).expect_err(content).to_string();
            assert!(
                err.contains("config.toml") && err.contains(expect),
                "{content}: {err}"
            );
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }
}
