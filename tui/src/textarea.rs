//! A small multi-line plain-text editor widget with undo/redo, used for editing meet-up notes.
//!
//! Text is stored as lines of `String`; the cursor column is counted in `char`s. Horizontal
//! positions on screen use terminal display widths (the same measure `Buffer` uses), so wide
//! characters (CJK, emoji) keep the cursor aligned. There is no soft wrapping.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

/// Maximum number of undo steps kept; the oldest are dropped first.
const UNDO_LIMIT: usize = 1000;

/// The previous edit, deciding whether the next edit joins its undo step: runs of `Word`
/// (non-whitespace typing), `Backspace` or `Delete` are coalesced; `Other` (whitespace, Enter,
/// paste) never is; `None` means a movement/undo/redo happened since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EditKind {
    None,
    Word,
    Backspace,
    Delete,
    Other,
}

/// The document state saved for undo/redo: lines and cursor.
type Snapshot = (Vec<String>, (usize, usize));

/// A multi-line plain-text editor with undo/redo and scrolling that keeps the cursor visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextArea {
    lines: Vec<String>,
    cursor: (usize, usize),
    top: usize,
    left: usize,
    /// Display column remembered across consecutive vertical moves.
    want_col: Option<usize>,
    undo: VecDeque<Snapshot>,
    redo: Vec<Snapshot>,
    last_edit: EditKind,
    original: String,
}

/// Display width of one char; control chars (e.g. tab) are shown as one blank cell.
fn char_width(c: char) -> usize {
    match c.is_control() {
        true => 1,
        false => usize::from(c.encode_utf8(&mut [0; 4]).cell_width()),
    }
}

/// Byte offset of char index `col` in `s` (or `s.len()` past the end).
fn byte_idx(s: &str, col: usize) -> usize {
    s.char_indices().nth(col).map_or(s.len(), |(i, _)| i)
}

/// The largest char index whose prefix display width is at most `target`.
fn col_at_width(s: &str, target: usize) -> usize {
    let mut acc = 0;
    s.chars()
        .take_while(|&c| {
            acc += char_width(c);
            acc <= target
        })
        .count()
}

impl TextArea {
    /// Creates an editor holding `text` (`"\r\n"` is read as `"\n"`), with the cursor at its end.
    pub fn new(text: &str) -> Self {
        let original = text.replace("\r\n", "\n");
        let lines: Vec<String> = original.split('\n').map(String::from).collect();
        let row = lines.len() - 1;
        let cursor = (row, lines[row].chars().count());
        Self {
            lines,
            cursor,
            top: 0,
            left: 0,
            want_col: None,
            undo: VecDeque::new(),
            redo: Vec::new(),
            last_edit: EditKind::None,
            original,
        }
    }

    /// Returns the whole text, lines joined with `'\n'` (no trailing newline is added).
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Returns true if the text differs from the text given to [`TextArea::new`]
    /// (after its `"\r\n"` were read as `"\n"`).
    pub fn is_modified(&self) -> bool {
        self.text() != self.original
    }

    /// Returns the cursor as `(row, col)`, with `col` counted in chars.
    pub fn cursor(&self) -> (usize, usize) {
        self.cursor
    }

    /// Handles one key. `height` and `width` are the size of the visible text area (inside any
    /// border) so scrolling can be kept in view.
    ///
    /// Returns true if the key was handled (edit or movement), false if it is not an editing key
    /// (e.g. Esc, Ctrl-S, Tab, F-keys, key releases) so the caller can act on it.
    pub fn input(&mut self, key: KeyEvent, height: u16, width: u16) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        if key.kind == KeyEventKind::Release {
            return false;
        }
        (self.top, self.left) = self.view(height, width);
        let page = usize::from(height).max(1);
        let (row, len) = (self.cursor.0, self.line_len(self.cursor.0));
        let handled = match key.code {
            KeyCode::Char(c) if ctrl && !alt => self.ctrl_char(c, shift),
            // Ctrl+Alt together is how AltGr arrives on some platforms (e.g. `@`, `{`, `€`).
            KeyCode::Char(c) if alt && (!ctrl || c.is_ascii_alphanumeric()) => false,
            KeyCode::Char(c) if c.is_control() => false,
            KeyCode::Char(c) if c.is_whitespace() => self.edit(EditKind::Other, &c.to_string()),
            KeyCode::Char(c) => self.edit(EditKind::Word, &c.to_string()),
            KeyCode::Enter if ctrl || alt => false,
            KeyCode::Enter => self.edit(EditKind::Other, "\n"),
            KeyCode::Backspace => self.remove(EditKind::Backspace),
            KeyCode::Delete => self.remove(EditKind::Delete),
            KeyCode::Left => self.move_to(self.step(false, ctrl)),
            KeyCode::Right => self.move_to(self.step(true, ctrl)),
            KeyCode::Up => self.move_rows(-1),
            KeyCode::Down => self.move_rows(1),
            KeyCode::PageUp => {
                self.top = self.top.saturating_sub(page);
                self.move_rows(-(page as isize))
            }
            KeyCode::PageDown => {
                let max_top = self.lines.len().saturating_sub(page).max(self.top);
                self.top = (self.top + page).min(max_top);
                self.move_rows(page as isize)
            }
            KeyCode::Home if ctrl => self.move_to((0, 0)),
            KeyCode::End if ctrl => self.move_to((usize::MAX, usize::MAX)),
            KeyCode::Home => self.move_to((row, 0)),
            KeyCode::End => self.move_to((row, len)),
            _ => false,
        };
        if handled {
            (self.top, self.left) = self.view(height, width);
        }
        handled
    }

    /// Inserts `s` at the cursor as a single undo step (for pastes). `"\r\n"` and lone `'\r'`
    /// become line breaks; other control characters except tab are dropped.
    pub fn insert_str(&mut self, s: &str, height: u16, width: u16) {
        let s: String = (s.replace("\r\n", "\n").replace('\r', "\n").chars())
            .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
            .collect();
        if !s.is_empty() {
            self.edit(EditKind::Other, &s);
            (self.top, self.left) = self.view(height, width);
        }
    }

    /// Undoes the last edit step; returns true if something was undone.
    pub fn undo(&mut self) -> bool {
        let snap = self.undo.pop_back();
        self.restore(snap, true)
    }

    /// Redoes the last undone step; returns true if something was redone.
    pub fn redo(&mut self) -> bool {
        let snap = self.redo.pop();
        self.restore(snap, false)
    }

    /// Scrolls the view by `delta` rows (mouse wheel; negative is up), moving the cursor along
    /// only if it would otherwise leave the `height` visible rows.
    pub fn scroll(&mut self, delta: isize, height: u16) {
        let h = usize::from(height);
        if h == 0 || delta == 0 {
            return;
        }
        (self.top, _) = self.view(height, 0);
        let max_top = self.lines.len().saturating_sub(h).max(self.top);
        self.top = self.top.saturating_add_signed(delta).min(max_top);
        let row = self.cursor.0.clamp(self.top, self.top + h - 1);
        if row != self.cursor.0 {
            self.move_rows(row as isize - self.cursor.0 as isize);
        }
    }

    /// Draws the visible part of the text into `area` of `buf` with `style`, and returns the
    /// screen position of the cursor if it is inside `area` (for `Frame::set_cursor_position`).
    /// Only reads `self`: the view is scrolled minimally so the cursor fits `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, style: Style) -> Option<Position> {
        let area = area.intersection(*buf.area());
        if area.is_empty() {
            return None;
        }
        let (top, left) = self.view(area.height, area.width);
        let right = left + usize::from(area.width);
        for y in area.top()..area.bottom() {
            let blank = " ".repeat(usize::from(area.width));
            buf.set_stringn(area.x, y, blank, usize::from(area.width), style);
            let Some(line) = self.lines.get(top + usize::from(y - area.y)) else {
                continue;
            };
            let (mut col, mut last_x) = (0, None);
            for c in line.chars() {
                let (start, w) = (col, char_width(c));
                col += w;
                if w == 0 {
                    // Combining marks join the previous cell if that keeps its width.
                    if let Some(cell) = last_x.and_then(|x| buf.cell_mut((x, y))) {
                        let joined = format!("{}{c}", cell.symbol());
                        if c != '\u{200d}' && joined.cell_width() == cell.symbol().cell_width() {
                            cell.set_symbol(&joined);
                        }
                    }
                    continue;
                }
                last_x = None;
                if start >= right {
                    break;
                } else if start >= left && col <= right && !c.is_control() {
                    // Partly visible wide chars and control chars stay blank.
                    let x = area.x + (start - left) as u16;
                    last_x = buf
                        .cell_mut((x, y))
                        .map(|cell| cell.set_char(c))
                        .and(Some(x));
                }
            }
        }
        let (row, cx) = (self.cursor.0, self.cursor_x());
        let shown = row >= top && row - top < usize::from(area.height) && cx >= left && cx < right;
        shown.then(|| Position::new(area.x + (cx - left) as u16, area.y + (row - top) as u16))
    }

    /// Ctrl+`c`: undo (z) or redo (y, Shift+z); false for any other Ctrl key.
    fn ctrl_char(&mut self, c: char, shift: bool) -> bool {
        match c {
            'z' if !shift => self.undo(),
            'z' | 'Z' | 'y' | 'Y' => self.redo(),
            _ => return false,
        };
        true
    }

    /// Number of chars in line `row`.
    fn line_len(&self, row: usize) -> usize {
        self.lines.get(row).map_or(0, |l| l.chars().count())
    }

    /// Display column of the cursor.
    fn cursor_x(&self) -> usize {
        let (row, col) = self.cursor;
        self.lines[row].chars().take(col).map(char_width).sum()
    }

    /// The `(top, left)` view for a `height` x `width` viewport: the stored view, scrolled
    /// minimally so the cursor is inside it. A zero dimension leaves that axis unchanged.
    fn view(&self, height: u16, width: u16) -> (usize, usize) {
        let (h, w) = (usize::from(height), usize::from(width));
        let (row, col) = self.cursor;
        let (mut top, mut left) = (self.top, self.left);
        if h > 0 && row < top {
            top = row;
        } else if h > 0 && row >= top + h {
            top = row + 1 - h;
        }
        let cx = self.cursor_x();
        let cw = self.lines[row].chars().nth(col).map_or(1, char_width);
        let cw = cw.max(1); // the cell under the cursor, at least one
        if w > 0 && cx < left {
            left = cx;
        } else if w > 0 && cx + cw > left + w {
            left = (cx + cw - w).min(cx);
        }
        (top, left)
    }

    /// Starts (or, for coalescing kinds, continues) an undo step before an edit.
    fn begin_edit(&mut self, kind: EditKind) {
        let coalesce = kind == self.last_edit && kind != EditKind::Other;
        if !coalesce {
            if self.undo.len() >= UNDO_LIMIT {
                self.undo.pop_front();
            }
            self.undo.push_back((self.lines.clone(), self.cursor));
        }
        self.redo.clear();
        self.last_edit = kind;
        self.want_col = None;
    }

    /// Swaps the document with `snap` (if any), pushing the current state onto the redo stack
    /// (`to_redo`) or the undo stack.
    fn restore(&mut self, snap: Option<Snapshot>, to_redo: bool) -> bool {
        let Some((lines, cursor)) = snap else {
            return false;
        };
        let current = (std::mem::replace(&mut self.lines, lines), self.cursor);
        match to_redo {
            true => self.redo.push(current),
            false => self.undo.push_back(current),
        }
        self.move_to(cursor)
    }

    /// Inserts `s` (which may contain `'\n'`) at the cursor as an edit of `kind`.
    fn edit(&mut self, kind: EditKind, s: &str) -> bool {
        self.begin_edit(kind);
        let (row, col) = self.cursor;
        let at = byte_idx(&self.lines[row], col);
        let tail = self.lines[row].split_off(at);
        let mut parts = s.split('\n');
        self.lines[row].push_str(parts.next().unwrap_or_default());
        let mut r = row;
        for part in parts {
            r += 1;
            self.lines.insert(r, part.to_string());
        }
        self.cursor = (r, self.line_len(r));
        self.lines[r].push_str(&tail);
        true
    }

    /// Backspace or Delete (`kind`): removes one char, joining lines at a line boundary.
    fn remove(&mut self, kind: EditKind) -> bool {
        let (back, (row, col)) = (kind == EditKind::Backspace, self.cursor);
        let at_end = row + 1 == self.lines.len() && col >= self.line_len(row);
        if (back && (row, col) == (0, 0)) || (!back && at_end) {
            return true;
        }
        self.begin_edit(kind);
        if back {
            self.cursor = match col {
                0 => (row - 1, self.line_len(row - 1)),
                _ => (row, col - 1),
            };
        }
        let (row, col) = self.cursor;
        if col < self.line_len(row) {
            let line = &mut self.lines[row];
            line.remove(byte_idx(line, col));
        } else {
            let next = self.lines.remove(row + 1);
            self.lines[row].push_str(&next);
        }
        true
    }

    /// Moves the cursor to `pos`, clamped into the text (a horizontal move: forgets the
    /// remembered column and ends any coalescing of typed chars).
    fn move_to(&mut self, (row, col): (usize, usize)) -> bool {
        let row = row.min(self.lines.len() - 1);
        self.cursor = (row, col.min(self.line_len(row)));
        self.want_col = None;
        self.last_edit = EditKind::None;
        true
    }

    /// Moves the cursor `delta` rows, keeping the remembered display column.
    fn move_rows(&mut self, delta: isize) -> bool {
        let want = self.want_col.unwrap_or_else(|| self.cursor_x());
        let row = (self.cursor.0.saturating_add_signed(delta)).min(self.lines.len() - 1);
        self.cursor = (row, col_at_width(&self.lines[row], want));
        self.want_col = Some(want);
        self.last_edit = EditKind::None;
        true
    }

    /// The position one char (or with `word`, one word) forward or back, wrapping across lines
    /// and never stopping between a char and its combining marks.
    fn step(&self, forward: bool, word: bool) -> (usize, usize) {
        let (row, col) = self.cursor;
        let chars: Vec<char> = self.lines[row].chars().collect();
        match (forward, col) {
            (true, c) if c >= chars.len() && row + 1 < self.lines.len() => return (row + 1, 0),
            (true, c) if c >= chars.len() => return (row, col),
            (false, 0) if row > 0 => return (row - 1, usize::MAX),
            (false, 0) => return (0, 0),
            _ => {}
        }
        let it: Vec<char> = match forward {
            true => chars[col..].to_vec(),
            false => chars[..col].iter().rev().copied().collect(),
        };
        let ws = |c: &&char| c.is_whitespace();
        let zw = |c: &&char| char_width(**c) == 0;
        let n = match (word, forward) {
            (true, _) => {
                let lead = it.iter().take_while(ws).count();
                lead + it[lead..].iter().take_while(|c| !ws(c)).count()
            }
            (false, true) => 1 + it[1..].iter().take_while(zw).count(),
            (false, false) => (1 + it.iter().take_while(zw).count()).min(col),
        };
        (row, if forward { col + n } else { col - n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyCode::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::CONTROL)
    }
    /// Presses each key in a 10x5 view, asserting it was handled.
    #[track_caller]
    fn keys(ta: &mut TextArea, codes: &[KeyCode]) {
        for &code in codes {
            assert!(ta.input(key(code), 5, 10), "{code:?}");
        }
    }
    /// Presses `codes`, then checks the cursor.
    #[track_caller]
    fn go(ta: &mut TextArea, codes: &[KeyCode], want: (usize, usize)) {
        keys(ta, codes);
        assert_eq!(ta.cursor(), want);
    }
    #[track_caller]
    fn typ(ta: &mut TextArea, s: &str) {
        for c in s.chars() {
            keys(ta, &[if c == '\n' { Enter } else { Char(c) }]);
        }
    }
    fn state(ta: &TextArea) -> (String, (usize, usize)) {
        (ta.text(), ta.cursor())
    }
    /// Renders into a `w` x `h` buffer; returns the rows joined by `|` and the cursor position.
    fn draw(ta: &TextArea, w: u16, h: u16) -> (String, Option<(u16, u16)>) {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        let pos = ta.render(Rect::new(0, 0, w, h), &mut buf, Style::default());
        let rows = buf.content.chunks(usize::from(w.max(1)));
        let rows: Vec<String> = rows
            .map(|r| r.iter().map(|c| c.symbol()).collect())
            .collect();
        (rows.join("|"), pos.map(|p| (p.x, p.y)))
    }

    #[test]
    fn new_and_is_modified() {
        let mut ta = TextArea::new("ab\r\ncd");
        assert_eq!(
            (state(&ta), ta.is_modified()),
            (("ab\ncd".into(), (1, 2)), false)
        );
        assert_eq!(state(&TextArea::new("")), (String::new(), (0, 0)));
        assert_eq!(TextArea::new("a\n").cursor(), (1, 0));
        typ(&mut ta, "!");
        assert!(ta.is_modified());
        assert!(ta.undo());
        assert!(!ta.is_modified());
        keys(&mut ta, &[Backspace, Char('d')]);
        assert!(!ta.is_modified());
    }

    #[test]
    fn typing_enter_backspace_delete() {
        let mut ta = TextArea::new("");
        typ(&mut ta, "hello\nworld");
        assert_eq!(state(&ta), ("hello\nworld".into(), (1, 5)));
        keys(&mut ta, &[Home, Backspace]);
        assert_eq!(state(&ta), ("helloworld".into(), (0, 5)));
        keys(&mut ta, &[Enter, Up, End, Delete]);
        assert_eq!(state(&ta), ("helloworld".into(), (0, 5)));
        keys(&mut ta, &[Delete]);
        assert!(ta.input(KeyEvent::new(Char('A'), KeyModifiers::SHIFT), 5, 10));
        assert_eq!(ta.text(), "helloAorld");
        // Backspace at the very start and Delete at the very end are harmless no-ops.
        let mut ta = TextArea::new("x");
        keys(&mut ta, &[Delete, Home, Backspace]);
        assert_eq!((ta.text(), ta.undo()), ("x".into(), false));
    }

    #[test]
    fn non_editing_keys_are_not_handled() {
        let mut ta = TextArea::new("a");
        let alt_x = KeyEvent::new(Char('x'), KeyModifiers::ALT);
        let release = KeyEvent::new_with_kind(Char('b'), KeyModifiers::NONE, KeyEventKind::Release);
        for k in [
            key(Esc),
            key(Tab),
            key(F(2)),
            ctrl(Char('s')),
            ctrl(Enter),
            alt_x,
            release,
        ] {
            assert!(!ta.input(k, 5, 10), "{k:?}");
        }
        assert_eq!(ta.text(), "a");
        let altgr = KeyEvent::new(Char('@'), KeyModifiers::CONTROL | KeyModifiers::ALT);
        assert!(ta.input(altgr, 5, 10));
        assert_eq!(ta.text(), "a@");
    }

    #[test]
    fn movement_wraps_and_clamps() {
        let mut ta = TextArea::new("abc\nd\nefgh");
        go(&mut ta, &[Right], (2, 4));
        go(&mut ta, &[Up], (1, 1));
        go(&mut ta, &[Up], (0, 3)); // remembered column 4, clamped to 3
        go(&mut ta, &[Down, Down], (2, 4));
        go(&mut ta, &[Home, Left], (1, 1));
        go(&mut ta, &[Right], (2, 0));
        go(&mut ta, &[Up, Up, Left, Up], (0, 0));
        assert!(ta.input(ctrl(End), 5, 10));
        go(&mut ta, &[Down], (2, 4));
        assert!(ta.input(ctrl(Home), 5, 10));
        assert_eq!(ta.cursor(), (0, 0));
    }

    #[test]
    fn word_jumps() {
        let mut ta = TextArea::new("one two  three\nx");
        let mut jump = |code, want| {
            assert!(ta.input(ctrl(code), 5, 10));
            assert_eq!(ta.cursor(), want);
        };
        jump(Home, (0, 0));
        jump(Right, (0, 3));
        jump(Right, (0, 7));
        jump(Right, (0, 14));
        jump(Right, (1, 0));
        jump(Left, (0, 14));
        jump(Left, (0, 9));
        jump(Left, (0, 4));
    }

    #[test]
    fn undo_coalesces_words_and_redo() {
        let mut ta = TextArea::new("");
        typ(&mut ta, "hello world");
        let undone: Vec<_> = std::iter::from_fn(|| ta.undo().then(|| state(&ta))).collect();
        let want = [("hello ", (0, 6)), ("hello", (0, 5)), ("", (0, 0))];
        assert_eq!(undone, want.map(|(t, c)| (t.to_string(), c)));
        assert!(ta.redo());
        assert!(ta.input(ctrl(Char('y')), 5, 10));
        assert_eq!(state(&ta), ("hello ".into(), (0, 6)));
        assert!(ta.input(ctrl(Char('z')), 5, 10));
        let redo = KeyEvent::new(Char('Z'), KeyModifiers::CONTROL | KeyModifiers::SHIFT);
        assert!(ta.input(redo, 5, 10));
        assert_eq!(ta.text(), "hello ");
        // A new edit after undo clears the redo stack.
        assert!(ta.undo());
        typ(&mut ta, "X");
        assert_eq!((ta.redo(), ta.text()), (false, "helloX".into()));
        // Movement between typed chars starts a new step; a run of Backspaces is one step.
        typ(&mut ta, "ab");
        keys(&mut ta, &[Left, Char('c')]);
        assert_eq!(ta.text(), "helloXacb");
        assert!(ta.undo());
        assert_eq!(ta.text(), "helloXab");
        keys(&mut ta, &[End, Backspace, Backspace, Backspace]);
        assert_eq!(ta.text(), "hello");
        assert!(ta.undo());
        assert_eq!(state(&ta), ("helloXab".into(), (0, 8)));
    }

    #[test]
    fn undo_stack_is_capped() {
        let mut ta = TextArea::new("");
        typ(&mut ta, &" ".repeat(UNDO_LIMIT + 10));
        let n = std::iter::from_fn(|| ta.undo().then_some(())).count();
        assert_eq!((n, ta.text().len()), (UNDO_LIMIT, 10));
    }

    #[test]
    fn paste_is_one_step() {
        let mut ta = TextArea::new("ab");
        keys(&mut ta, &[Left]);
        ta.insert_str("1\r\n2\t3\u{7}\n4", 5, 10);
        assert_eq!(state(&ta), ("a1\n2\t3\n4b".into(), (2, 1)));
        assert_eq!(draw(&ta, 4, 3), ("a1  |2 3 |4b  ".into(), Some((1, 2))));
        ta.insert_str("", 5, 10);
        assert!(ta.undo());
        assert_eq!(state(&ta), ("ab".into(), (0, 1)));
    }

    #[test]
    fn multibyte_chars() {
        let mut ta = TextArea::new("é日本");
        assert_eq!(ta.cursor(), (0, 3));
        keys(&mut ta, &[Backspace]);
        typ(&mut ta, "😀x");
        keys(&mut ta, &[Left, Left, Delete]);
        assert_eq!(state(&ta), ("é日x".into(), (0, 2)));
        // A wide char covers two cells; the second one is blank.
        assert_eq!(draw(&ta, 8, 1), ("é日 x    ".into(), Some((3, 0))));
        // Up/Down keep the display column across wide chars.
        let mut ta = TextArea::new("日本語\nabcdef");
        go(&mut ta, &[Home, Right, Right, Right, Up], (0, 1));
        go(&mut ta, &[Down], (1, 3));
        // Combining marks are skipped by Left/Right and drawn in their base char's cell.
        let mut ta = TextArea::new("e\u{301}x");
        assert_eq!(draw(&ta, 3, 1), ("e\u{301}x ".into(), Some((2, 0))));
        go(&mut ta, &[Left, Left], (0, 0));
        go(&mut ta, &[Right], (0, 2));
    }

    #[test]
    fn scrolling_keeps_cursor_visible() {
        let text: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        let mut ta = TextArea::new(&text.join("\n"));
        let press = |ta: &mut TextArea, code| assert!(ta.input(key(code), 3, 8));
        assert_eq!(
            draw(&ta, 8, 3),
            ("line 17 |line 18 |line 19 ".into(), Some((7, 2)))
        );
        assert!(ta.input(ctrl(Home), 3, 8));
        assert_eq!(
            draw(&ta, 8, 3),
            ("line 0  |line 1  |line 2  ".into(), Some((0, 0)))
        );
        for _ in 0..3 {
            press(&mut ta, Down);
        }
        assert_eq!(draw(&ta, 8, 3).0, "line 1  |line 2  |line 3  "); // minimal scroll
        press(&mut ta, PageDown);
        assert_eq!(
            draw(&ta, 8, 3),
            ("line 4  |line 5  |line 6  ".into(), Some((0, 2)))
        );
        press(&mut ta, PageUp);
        assert_eq!(ta.cursor(), (3, 0));
        ta.scroll(5, 3); // wheel down: the cursor follows the view
        assert_eq!((ta.cursor(), draw(&ta, 8, 3).1), ((6, 0), Some((0, 0))));
        ta.scroll(-1, 3); // wheel up: the cursor is still in view and stays
        assert_eq!(
            draw(&ta, 8, 3),
            ("line 5  |line 6  |line 7  ".into(), Some((0, 1)))
        );
        ta.scroll(100, 3);
        assert_eq!(draw(&ta, 8, 3).0, "line 17 |line 18 |line 19 ");
        // Horizontal scrolling over a long line with wide chars.
        let mut ta = TextArea::new("abcdefghij日本");
        let mut step = |code, row: &str, x| {
            assert!(ta.input(key(code), 1, 5));
            assert_eq!(draw(&ta, 5, 1), (row.to_string(), Some((x, 0))));
        };
        step(End, "日 本  ", 4);
        step(Left, "日 本  ", 2);
        step(Left, "日 本  ", 0);
        step(Left, "j日 本 ", 0);
        step(Home, "abcde", 0);
    }

    #[test]
    fn zero_size_never_panics() {
        let mut ta = TextArea::new("日本\n😀");
        for code in [Up, PageDown, PageUp, End, Char('x'), Left, Enter, Backspace] {
            assert!(ta.input(key(code), 0, 0));
        }
        ta.scroll(3, 0);
        ta.insert_str("a\nb", 0, 0);
        for (w, h) in [(0, 0), (0, 3), (3, 0), (1, 1)] {
            let _ = draw(&ta, w, h);
        }
        // An area reaching outside the buffer is clipped rather than panicking.
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 2));
        let pos = ta.render(Rect::new(2, 1, 10, 10), &mut buf, Style::default());
        assert!(pos.is_some());
        assert_eq!(draw(&TextArea::new(""), 1, 1), (" ".into(), Some((0, 0))));
    }
}
