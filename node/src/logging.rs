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

/// The writer `tracing_subscriber` is given.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match file().as_mut() {
            Some(f) => f.write(buf),
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
