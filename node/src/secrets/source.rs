//! Where a passphrase comes from: a file, a systemd credential, or a
//! prompt on the terminal, in that order.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::{Passphrase, SecretsError};

/// The credential a systemd unit passes (`LoadCredentialEncrypted=
/// groundwork-passphrase:…`), read from `$CREDENTIALS_DIRECTORY`.
pub const CREDENTIAL_NAME: &str = "groundwork-passphrase";
/// The most bytes read from a passphrase file.
const MAX_FILE_BYTES: usize = 4096;

/// How to get the passphrase when one is needed. Nothing is asked until
/// then: a command served by a running node never asks.
#[derive(Clone, Debug, Default)]
pub struct PassphraseSource {
    file: Option<PathBuf>,
    interactive: bool,
}

impl PassphraseSource {
    /// Never asks: a protected data directory cannot be opened (the
    /// default for library callers, tests and the demo).
    pub fn none() -> PassphraseSource {
        PassphraseSource::default()
    }

    /// The command line's: `--passphrase-file` if given, else a systemd
    /// credential if there is one, else a prompt if stdin is a terminal.
    pub fn command_line(file: Option<PathBuf>) -> PassphraseSource {
        PassphraseSource {
            file,
            interactive: true,
        }
    }

    /// Reads the passphrase from `file` only.
    pub fn file(file: impl Into<PathBuf>) -> PassphraseSource {
        PassphraseSource {
            file: Some(file.into()),
            interactive: false,
        }
    }

    /// Whether a passphrase file was named.
    pub fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// The passphrase of `what` (a data directory, a backup).
    pub fn get(&self, what: &str) -> Result<Passphrase, SecretsError> {
        if let Some(p) = self.file_or_credential()? {
            return Ok(p);
        }
        if self.interactive && std::io::stdin().is_terminal() {
            return Passphrase::new(prompt(&format!("Passphrase for {what}: "))?);
        }
        Err(SecretsError::NoPassphrase { what: what.into() })
    }

    /// A new passphrase: from the file or credential, else typed twice on
    /// a terminal. `None` when there is no way to ask, or when `optional`
    /// and the user typed none.
    pub fn get_new(&self, optional: bool) -> Result<Option<Passphrase>, SecretsError> {
        if let Some(p) = self.file_or_credential()? {
            return Ok(Some(p));
        }
        if !(self.interactive && std::io::stdin().is_terminal()) {
            return Ok(None);
        }
        let hint = if optional { " (empty for none)" } else { "" };
        let first = prompt(&format!("New passphrase{hint}: "))?;
        if optional && first.is_empty() {
            return Ok(None);
        }
        let first = Passphrase::new(first)?;
        let again = prompt("The same passphrase again: ")?;
        if again.as_bytes() != first.bytes() {
            return Err(SecretsError::BadPassphrase("typed the second time differs"));
        }
        Ok(Some(first))
    }

    fn file_or_credential(&self) -> Result<Option<Passphrase>, SecretsError> {
        if let Some(path) = &self.file {
            check_private(path)?;
            return read(path).map(Some);
        }
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let path = PathBuf::from(dir).join(CREDENTIAL_NAME);
            if path.exists() {
                return read(&path).map(Some);
            }
        }
        Ok(None)
    }
}

fn read(path: &std::path::Path) -> Result<Passphrase, SecretsError> {
    let bytes = super::lock::read_capped(path, MAX_FILE_BYTES)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SecretsError::Malformed {
        path: path.to_owned(),
        what: "passphrase file",
        why: "it is not UTF-8 text".into(),
    })?;
    Passphrase::new(Zeroizing::new(text.to_owned()))
}

/// A passphrase file others could read is refused, as a key file is.
fn check_private(path: &std::path::Path) -> Result<(), SecretsError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).map_err(|source| SecretsError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretsError::Malformed {
            path: path.to_owned(),
            what: "passphrase file",
            why: format!(
                "it is open to other users (mode {mode:04o}); run: chmod 600 {}",
                path.display()
            ),
        });
    }
    Ok(())
}

fn prompt(text: &str) -> Result<Zeroizing<String>, SecretsError> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|source| SecretsError::Io {
            path: "/dev/tty".into(),
            source,
        })
}
