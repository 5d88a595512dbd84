//! Files the command line writes and reads: a private file written whole
//! or not at all, and a text file read as UTF-8.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// Writes a file with mode 0600 through a temporary file and a rename, so a
/// crash never leaves half a file under the real name.
pub(super) fn write_private_file(
    path: &Path,
    f: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".partial");
    let tmp = PathBuf::from(tmp_name);
    let result = (|| -> Result<()> {
        // A stale partial file from a crash may have other permissions: start afresh.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(parent)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// A text file's contents, UTF-8, without a leading byte-order mark.
pub(super) fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| anyhow!("{} is not UTF-8 text", path.display()))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}
