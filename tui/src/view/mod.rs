//! `view`: draws a [`Model`] into a frame. Pure: it reads the model and
//! changes nothing, so a frame is a function of the model (and the
//! snapshot tests show every screen).

mod dashboard;
pub(crate) mod group;
mod network;
mod overlay;
mod sync;
pub mod theme;

use groundwork_protocol::Date;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::{Level, Loaded, Model, Screen};
use theme::Theme;

/// Draws the whole UI.
pub fn view(model: &Model, frame: &mut Frame) {
    let theme = Theme::new(model.color);
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(model, theme, frame, header);
    match model.screen {
        Screen::Network => network::draw(model, theme, frame, body),
        Screen::Group => group::draw(model, theme, frame, body),
        Screen::Dashboard => dashboard::draw(model, theme, frame, body),
        Screen::Sync => sync::draw(model, theme, frame, body),
    }
    draw_status(model, theme, frame, status);
    overlay::draw(model, theme, frame);
    make_safe(frame.buffer_mut());
}

/// Text from peers (group names, members written on other devices, reasons)
/// can hold escape sequences and bidirectional overrides: every cell drawn
/// is made safe (`protocol::text::safe_line`) before it reaches the
/// terminal, whichever widget drew it.
pub fn make_safe(buffer: &mut ratatui::buffer::Buffer) {
    for cell in &mut buffer.content {
        if let std::borrow::Cow::Owned(s) = groundwork_protocol::text::safe_line(cell.symbol()) {
            cell.set_symbol(&s);
        }
    }
}

fn draw_header(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(" Groundwork ", theme.title())];
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, s.title());
        if *s == model.screen {
            spans.push(Span::styled(label, theme.selected()));
        } else {
            spans.push(Span::raw(label));
        }
    }
    let tabs = Line::from(spans);
    let [left, right] =
        Layout::horizontal([Constraint::Length(tabs.width() as u16), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(tabs), left);
    // This node's group, on the right where there is room.
    let name = model
        .status
        .ready()
        .map(|s| s.group_name.as_str())
        .unwrap_or("…");
    frame.render_widget(
        Paragraph::new(
            Line::styled(format!("{name} "), theme.dim())
                .alignment(ratatui::layout::Alignment::Right),
        ),
        right,
    );
}

fn draw_status(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let keys = Span::styled(" ? help · q back ", theme.dim());
    let health: Vec<Span> = if let Some(e) = &model.node_error {
        vec![Span::styled(format!(" ✕ node: {e}"), theme.bad())]
    } else {
        match &model.status {
            Loaded::Loading => vec![Span::styled(" … connecting to the node", theme.dim())],
            Loaded::Failed(e) => vec![Span::styled(format!(" ✕ node: {e}"), theme.bad())],
            Loaded::Ready(s) => {
                let connected: Vec<_> = s.peers.iter().filter(|p| p.connected).collect();
                let role = s
                    .role
                    .map_or("not a group device".to_string(), |r| r.to_string());
                let sync = if connected.is_empty() {
                    Span::styled("no peer connected", theme.warn())
                } else if connected.iter().all(|p| p.in_sync == Some(true)) {
                    Span::styled("in sync", theme.good())
                } else {
                    Span::styled("syncing", theme.warn())
                };
                let mut spans = vec![
                    Span::styled(" ● ", theme.good()),
                    Span::raw(format!(
                        "{role} · {}/{} peers · ",
                        connected.len(),
                        s.peers.len()
                    )),
                    sync,
                ];
                let n = s.warnings().len();
                if n > 0 {
                    let plural = if n == 1 { "" } else { "s" };
                    spans.push(Span::styled(
                        format!(" · ⚠ {n} warning{plural} (Sync)"),
                        theme.warn(),
                    ));
                }
                spans
            }
        }
    };
    let mut spans = health;
    if let Some((level, text)) = &model.flash {
        let style = match level {
            Level::Info => theme.good(),
            Level::Error => theme.bad(),
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(text.clone(), style));
    }
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(keys.width() as u16)])
            .areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Line::from(keys)), right);
}

/// The filter line under a list: what is typed, and while typing, a cursor
/// and the keys that end it.
fn draw_filter(filter: &str, typing: bool, theme: Theme, frame: &mut Frame, area: Rect) {
    let (cursor, keys) = if typing {
        ("▏", "   Enter keeps · Esc clears")
    } else {
        ("", "   Esc clears")
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" / ", theme.header()),
            Span::raw(format!("{filter}{cursor}")),
            Span::styled(keys, theme.dim()),
        ])),
        area,
    );
}

/// A count as published (rounded to base 5), or a dash for none.
pub fn cell(c: Option<u64>) -> String {
    match c {
        None => "–".into(),
        Some(c) => c.to_string(),
    }
}

/// "3 d ago" for a date.
pub fn days_ago(today: Date, d: Option<Date>) -> String {
    match d {
        None => "never".into(),
        Some(d) => match today.unix_days() - d.unix_days() {
            n if n <= 0 => "today".into(),
            1 => "yesterday".into(),
            n => format!("{n} d ago"),
        },
    }
}

/// "12 s ago" for a time in seconds since the Unix epoch.
pub fn ago(now: u64, then: Option<u64>) -> String {
    let Some(then) = then else {
        return "never".into();
    };
    match now.saturating_sub(then) {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// A placeholder for something not loaded.
pub fn pending<T>(l: &Loaded<T>, what: &str) -> String {
    match l {
        Loaded::Loading => format!("Loading {what}…"),
        Loaded::Failed(e) => format!("Cannot show {what}: {e}"),
        Loaded::Ready(_) => String::new(),
    }
}

/// `area` less `n` rows at the top.
pub fn below(area: Rect, n: u16) -> Rect {
    let n = n.min(area.height);
    Rect {
        y: area.y + n,
        height: area.height - n,
        ..area
    }
}

/// The width each column of a table gets in `area`, as `Table` lays them
/// out (one column of spacing, no highlight symbol).
pub(super) fn column_widths(area: Rect, widths: &[Constraint]) -> Vec<u16> {
    Layout::horizontal(widths.iter().copied())
        .spacing(1)
        .split(Rect { height: 1, ..area })
        .iter()
        .map(|r| r.width)
        .collect()
}

/// `s` cut to `width` terminal columns, ending in `…` when it was longer,
/// so a long name shows it is cut rather than ending mid-word silently.
pub(super) fn clip(s: &str, width: u16) -> String {
    use unicode_width::UnicodeWidthChar;
    let width = usize::from(width);
    if unicode_width::UnicodeWidthStr::width(s) <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod clip_tests {
    use super::*;

    #[test]
    fn clip_cuts_by_display_width_and_marks_the_cut() {
        assert_eq!(clip("Ada Obi", 10), "Ada Obi");
        assert_eq!(clip("Ada Obi", 7), "Ada Obi");
        assert_eq!(clip("Community Organisers Birkenhead", 12), "Community O…");
        assert_eq!(
            unicode_width::UnicodeWidthStr::width(clip("李华李华李华", 5).as_str()),
            5
        );
        assert_eq!(clip("李华李华李华", 5), "李华…");
        assert_eq!(clip("anything", 0), "");
        assert_eq!(clip("ab", 1), "…");
    }

    #[test]
    fn column_widths_match_the_table_layout() {
        let area = Rect::new(0, 0, 80, 10);
        let w = column_widths(area, &[Constraint::Fill(1), Constraint::Length(10)]);
        assert_eq!(w, vec![69, 10]);
    }
}
