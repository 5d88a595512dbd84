//! Styles, in colour or (under `NO_COLOR`) with modifiers only.

use ratatui::style::{Color, Modifier, Style};

/// The styles a frame is drawn with.
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colour or not.
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// Titles and headings.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Table headers.
    pub fn header(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The selected row of the focused list.
    pub fn selected(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// Secondary text.
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Good news: connected, in sync, done.
    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    /// Something to look at: offline, syncing.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Errors.
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// The border of the focused pane.
    pub fn focus(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// Chart bars and lines.
    pub fn chart(self, i: usize) -> Style {
        const COLORS: [Color; 3] = [Color::Cyan, Color::Magenta, Color::Green];
        self.fg(COLORS[i % COLORS.len()])
    }
}
