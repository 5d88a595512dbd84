//! Where log lines go: standard error, except while the terminal UI owns
//! the terminal, when they go to a file (a warning printed over the UI
//! would garble it).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

static FILE: Mutex<Option<File>> = Mutex::new(None);

fn file() -> std::sync::MutexGuard<'static, Option<File>> {
    FILE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends log lines to `path` (appended, mode 0600) until [`to_stderr`].
pub fn to_file(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // A log left by an older version, or copied in, may be open to others.
    use std::os::unix::fs::PermissionsExt as _;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    *file() = Some(f);
    Ok(())
}

/// Sends log lines to standard error again.
pub fn to_stderr() {
    *file() = None;
}

/// What is logged unless `GROUNDWORK_LOG` (or `RUST_LOG`) says otherwise:
/// Groundwork's own warnings. iroh's own (a pkarr lookup that failed
/// offline, a relay channel closed, a connection turned away) are about
/// its internals, and the node reports what they mean for the user.
pub const DEFAULT_FILTER: &str =
    "off,groundwork=warn,groundwork_node=warn,groundwork_protocol=warn,groundwork_tui=warn";

/// The log filter: `GROUNDWORK_LOG`, else `RUST_LOG`, else
/// [`DEFAULT_FILTER`]. A filter that does not parse is an error naming
/// the variable, not a silent fallback.
pub fn filter(
    var: impl Fn(&str) -> Option<String>,
) -> Result<tracing_subscriber::EnvFilter, String> {
    for name in ["GROUNDWORK_LOG", "RUST_LOG"] {
        if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
            return tracing_subscriber::EnvFilter::builder()
                .parse(&value)
                .map_err(|e| {
                    format!(
                        "{name} is not a log filter ({e}): give a level such as warn, info or \
                         debug, or directives such as warn,groundwork_node=debug"
                    )
                });
        }
    }
    Ok(tracing_subscriber::EnvFilter::new(DEFAULT_FILTER))
}

/// Whether log lines on standard error may be coloured: only on a
/// terminal, and not when `NO_COLOR` is set (no-color.org).
pub fn ansi(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `buf` without ANSI escape sequences (CSI: ESC `[` ... final byte).
fn without_ansi(buf: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !buf.contains(&0x1b) {
        return std::borrow::Cow::Borrowed(buf);
    }
    let mut out = Vec::with_capacity(buf.len());
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == 0x1b && buf.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < buf.len() && !(0x40..=0x7e).contains(&buf[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(buf[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The writer `tracing_subscriber` is given.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match file().as_mut() {
            // Colour chosen for the terminal has no place in the file.
            Some(f) => f.write_all(&without_ansi(buf)).map(|()| buf.len()),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match file().as_mut() {
            Some(f) => f.flush(),
            None => io::stderr().flush(),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_is_an_error_that_names_the_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let e = filter(env(&[("RUST_LOG", "warn,=[nope")])).expect_err("bad RUST_LOG");
        assert!(e.starts_with("RUST_LOG is not a log filter"), "{e}");
        let e = filter(env(&[("GROUNDWORK_LOG", "groundwork_node=loud")])).expect_err("bad");
        assert!(e.starts_with("GROUNDWORK_LOG is not a log filter"), "{e}");
        // GROUNDWORK_LOG wins over RUST_LOG; good filters parse.
        let f = filter(env(&[("GROUNDWORK_LOG", "debug"), ("RUST_LOG", "=[nope")]))
            .expect("GROUNDWORK_LOG is read first");
        assert_eq!(f.to_string(), "debug");
        let f = filter(env(&[("RUST_LOG", "info,iroh=off")])).expect("RUST_LOG");
        assert!(f.to_string().contains("iroh=off"), "{f}");
        let f = filter(env(&[])).expect("default");
        assert!(f.to_string().contains("groundwork_node=warn"), "{f}");
    }

    /// A buffer that a test's subscriber writes log lines into.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn by_default_irohs_warnings_are_left_out_and_groundworks_are_shown() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry()
            .with(filter(|_| None).expect("the default filter"))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            );
        tracing::subscriber::with_default(subscriber, || {
            // What iroh says on a laptop with no internet, under its own
            // targets.
            tracing::warn!(target: "iroh::discovery::pkarr", "pkarr publish failed: dns error");
            tracing::error!(target: "iroh::magicsock", "relay_recv_channel closed");
            tracing::warn!(target: "iroh::endpoint", "Endpoint dropped without calling Endpoint::close");
            tracing::warn!(target: "iroh_relay::client", "connect failed");
            tracing::info!(target: "groundwork_node::net", "a session started");
            // Positive control: Groundwork's own warning is shown.
            tracing::warn!(target: "groundwork_node::runtime", "store is nearly full");
        });
        let text = String::from_utf8(out.0.lock().expect("log").clone()).expect("utf-8");
        assert!(text.contains("store is nearly full"), "{text}");
        for hidden in [
            "pkarr",
            "relay_recv_channel",
            "Endpoint dropped",
            "connect failed",
            "a session started",
        ] {
            assert!(!text.contains(hidden), "{hidden:?} was logged:\n{text}");
        }
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(ansi(true, None));
        assert!(ansi(true, Some("".into())));
        assert!(!ansi(true, Some("1".into())));
        assert!(!ansi(false, None));
    }

    #[test]
    fn escape_sequences_are_stripped_for_the_log_file() {
        assert_eq!(
            &*without_ansi(b"\x1b[2m\x1b[33m WARN\x1b[0m groundwork_node: hi\n"),
            b" WARN groundwork_node: hi\n"
        );
        assert_eq!(&*without_ansi(b"plain\n"), b"plain\n");
        assert_eq!(&*without_ansi(b"cut \x1b[3"), b"cut ");
    }
}
