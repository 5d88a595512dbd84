//! Editing text in the user's own editor: `$VISUAL`, else `$EDITOR`, else
//! `vi`. Used by the terminal UI for meet-up notes and by the command line
//! for `constitution edit`.

use std::io::Write;
use std::path::Path;

/// The editor command to run, as the user set it (it may carry arguments).
pub fn command() -> String {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

/// Writes `text` to a file in a new private (0700) directory inside
/// `scratch` (else the system's temporary directory), opens it in the
/// editor, and returns the file's text once the editor exits successfully
/// (a leading byte-order mark dropped). The directory is removed
/// afterwards, with any swap or backup files the editor left. The error is
/// one line ending "nothing changed".
pub fn edit(scratch: Option<&Path>, text: &str) -> Result<String, String> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("editing-");
    let dir = match scratch {
        Some(s) => builder.tempdir_in(s),
        None => builder.tempdir(),
    }
    .map_err(|e| format!("cannot make a temporary directory: {e}; nothing changed"))?;
    let path = dir.path().join("text.md");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot make the temporary file: {e}; nothing changed"))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| format!("cannot write the temporary file: {e}; nothing changed"))?;
    }
    let editor = command();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| format!("could not run the editor ({editor}): {e}; nothing changed"))?;
    if !status.success() {
        return Err(format!(
            "the editor ({editor}) exited with {status}; nothing changed"
        ));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("cannot read the edited text: {e}; nothing changed"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "the edited text is not UTF-8; nothing changed".to_string())?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}
