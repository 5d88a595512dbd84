//! Printing: aligned text tables and JSON, to a stdout that may be a closed
//! pipe (`groundwork member list | head` must not panic).

use std::io::{self, Write};

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

    /// Prints one line.
    pub fn line(&mut self, s: impl AsRef<str>) -> io::Result<()> {
        self.w.write_all(s.as_ref().as_bytes())?;
        self.w.write_all(b"\n")
    }

    /// Prints a value as pretty JSON.
    pub fn json<T: serde::Serialize>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.w, value)?;
        self.w.write_all(b"\n")
    }

    /// Prints rows as a table with a header, columns padded to fit.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
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
