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

/// Whether progress may be drawn: only when standard output and standard
/// error are both a terminal, so a script, a pipe or a log sees the
/// result and nothing else.
fn progress_shown() -> bool {
    use std::io::IsTerminal as _;
    io::stdout().is_terminal() && io::stderr().is_terminal()
}

/// A spinner on stderr while something slow runs ("reaching the inviting
/// device…"), cleared when it is dropped or finished. Hidden unless
/// [`progress_shown`].
pub fn spinner(message: String) -> indicatif::ProgressBar {
    if !progress_shown() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner()
        .with_finish(indicatif::ProgressFinish::AndClear)
        .with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar on stderr counting `len` steps of something slow ("importing",
/// "starting nodes"), with how far it has got and the time left. Left on
/// screen when finished, as a record of what was done (`leave`), or
/// cleared. Hidden unless [`progress_shown`].
pub fn counter(doing: &str, len: u64, leave: bool) -> indicatif::ProgressBar {
    if !progress_shown() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len).with_finish(if leave {
        indicatif::ProgressFinish::AndLeave
    } else {
        indicatif::ProgressFinish::AndClear
    });
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{doing} {{bar:30}} {{pos}}/{{len}} ({{elapsed}}, {{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

/// The columns `s` takes on a terminal: wide characters (CJK, most emoji)
/// take two, combining marks and zero-width joiners none.
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A table's cells made safe for a terminal (`text::safe_line`: cells
/// hold peers' text), and each column's display width.
pub fn safe_cells_and_widths(
    header: &[&str],
    rows: &[Vec<String>],
) -> (Vec<Vec<String>>, Vec<usize>) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| safe_line(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(c));
            }
        }
    }
    (rows, widths)
}

/// A table's lines: the header, then the rows, each column padded to its
/// widest cell's display width plus two spaces (the last is not padded).
pub fn table_lines(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let (rows, widths) = safe_cells_and_widths(header, rows);
    let fmt_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, c) in cells.enumerate() {
            line.push_str(c);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(display_width(c)) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.trim_end().to_owned()
    };
    let mut lines = vec![fmt_row(&mut header.iter().copied())];
    lines.extend(
        rows.iter()
            .map(|r| fmt_row(&mut r.iter().map(String::as_str))),
    );
    lines
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
        for line in table_lines(header, rows) {
            self.line(line)?;
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
    fn tables_pad_by_display_width_not_characters() {
        let names = [
            "Ada Obi",
            "Zoe\u{308} Lee",             // combining diaeresis: 7 columns, 8 chars
            "李华",                       // two wide characters: 4 columns
            "Sam 👩\u{200d}👩\u{200d}👧", // a ZWJ family emoji
        ];
        let rows: Vec<Vec<String>> = names
            .iter()
            .map(|n| vec![(*n).to_owned(), "activist".to_owned(), "x".to_owned()])
            .collect();
        let lines = table_lines(&["NAME", "KIND", "END"], &rows);
        assert_eq!(lines.len(), 5);
        // Where the second column starts on each line, as `measure` counts.
        let second_column = |measure: fn(&str) -> usize| -> Vec<usize> {
            lines
                .iter()
                .map(|l| {
                    let at = l
                        .find("KIND")
                        .or_else(|| l.find("activist"))
                        .expect("column");
                    measure(&l[..at])
                })
                .collect()
        };
        // The second column starts at the same display column on every line.
        let starts = second_column(display_width);
        assert!(
            starts.iter().all(|s| *s == starts[0]),
            "{lines:#?} {starts:?}"
        );
        // Positive control: counting characters would not have aligned them.
        let by_chars = second_column(|s| s.chars().count());
        assert!(by_chars.iter().any(|c| *c != by_chars[0]), "{by_chars:?}");
        assert_eq!(display_width("李华"), 4);
        assert_eq!(display_width("Zoe\u{308}"), 3);
    }

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
