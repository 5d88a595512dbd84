//! Printing: aligned text tables and JSON, to a stdout that may be a closed
//! pipe (`groundwork member list | head` must not panic).
//!
//! Everything printed passes `protocol::text::safe`: text from peers
//! (group names, members written on other devices, refusal reasons) can
//! hold escape sequences or bidirectional overrides, and none reaches the
//! terminal. JSON keeps the characters, escaped (`\u001b`, `\u202e`).

use std::io::{self, Write};

use groundwork_protocol::text::{safe, safe_line};

/// "1 member", "2 members": `n` and the noun, plural unless one.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `json` with DEL, C1 controls, line and paragraph separators and
/// bidirectional controls written as `\uXXXX` (they only ever occur
/// inside strings, so the JSON means the same).
pub fn json_escaped(json: &str) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        ) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !json.chars().any(escape) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escape(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A table's cells made safe for a terminal (`text::safe_line`: cells
/// hold peers' text), and each column's width in characters.
pub fn safe_cells_and_widths(
    header: &[&str],
    rows: &[Vec<String>],
) -> (Vec<Vec<String>>, Vec<usize>) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| safe_line(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    (rows, widths)
}

/// Standard output, locked and buffered.
pub struct Out {
    w: io::BufWriter<io::StdoutLock<'static>>,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Out")
    }
}

impl Out {
    /// Locks standard output.
    pub fn stdout() -> Self {
        Self {
            w: io::BufWriter::new(io::stdout().lock()),
        }
    }

    /// Prints one line (line feeds in it start new lines; any other
    /// control character is shown as its picture).
    pub fn line(&mut self, s: impl AsRef<str>) -> io::Result<()> {
        self.w.write_all(safe(s.as_ref()).as_bytes())?;
        self.w.write_all(b"\n")
    }

    /// Says what was added: "added member k3f9qz: Amara Holt", or with
    /// `--quiet` the bare id, for `ID=$(groundwork member add ... -q)`.
    pub fn added(
        &mut self,
        quiet: super::Quiet,
        what: &str,
        id: &groundwork_protocol::ShortId,
        name: Option<&str>,
    ) -> io::Result<()> {
        match name {
            _ if quiet.quiet => self.line(id.to_string()),
            Some(name) => self.line(format!("added {what} {id}: {name}")),
            None => self.line(format!("added {what} {id}")),
        }
    }

    /// Prints a note for the person on standard error, so what stdout
    /// carries (an invite, a ticket) stays bare for scripts.
    pub fn note(&mut self, s: impl AsRef<str>) -> io::Result<()> {
        self.w.flush()?;
        let mut e = io::stderr().lock();
        writeln!(e, "{}", safe(s.as_ref()))
    }

    /// Prints a warning on standard error (after what is already printed).
    pub fn warn(&mut self, s: impl AsRef<str>) -> io::Result<()> {
        self.w.flush()?;
        let mut e = io::stderr().lock();
        writeln!(e, "warning: {}", safe(s.as_ref()))
    }

    /// Prints a value as pretty JSON, with every character a terminal
    /// could act on escaped (serde_json escapes only C0 controls).
    pub fn json<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        self.w.write_all(json_escaped(&text).as_bytes())?;
        self.w.write_all(b"\n")
    }

    /// The start of every listing: `rows` as JSON when asked, else
    /// `empty` when there are none. Returns whether that was all to print.
    pub fn json_or_empty<T: serde::Serialize>(
        &mut self,
        rows: &[T],
        json: bool,
        empty: &str,
    ) -> io::Result<bool> {
        if json {
            self.json(&rows)?;
        } else if rows.is_empty() {
            self.line(empty)?;
        }
        Ok(json || rows.is_empty())
    }

    /// Prints rows as a table with a header, columns padded to fit.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        let (rows, widths) = safe_cells_and_widths(header, rows);
        let rows = rows.as_slice();
        let fmt_row = |cells: &mut dyn Iterator<Item = &str>| {
            let mut line = String::new();
            for (i, c) in cells.enumerate() {
                if i + 1 == widths.len() {
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
                }
            }
            line.trim_end().to_owned()
        };
        self.line(fmt_row(&mut header.iter().copied()))?;
        for r in rows {
            self.line(fmt_row(&mut r.iter().map(String::as_str)))?;
        }
        Ok(())
    }

    /// Flushes; a closed pipe is reported as an error the caller can ignore.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The raw writer, for CSV.
    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_the_data_and_escapes_what_a_terminal_would_act_on() {
        let v = serde_json::json!({"name": "Evil\u{1b}[2J\u{202e}Group\u{9b}"});
        let text = serde_json::to_string(&v).expect("json");
        let escaped = json_escaped(&text);
        assert!(
            !escaped.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{escaped}"
        );
        let back: serde_json::Value = serde_json::from_str(&escaped).expect("still JSON");
        assert_eq!(back, v);
    }
}
