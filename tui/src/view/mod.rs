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
    let name = clip(name, right.width.saturating_sub(2));
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

/// A table column as [`fit_columns`] sizes it: the width of its widest
/// cell (header included), and whether it may be cut to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Col {
    /// The widest cell, in terminal columns.
    pub want: u16,
    /// Whether the column gives way (its cells cut with `…`) when the
    /// table is too narrow for every column's widest cell.
    pub shrink: bool,
}

impl Col {
    /// A column of one width that is never cut (dates, counts, states).
    pub fn fixed(want: u16) -> Col {
        Col {
            want,
            shrink: false,
        }
    }

    /// A column of text (names, places, emails) as wide as its widest
    /// cell, cut when the table is short of room.
    pub fn text<'a>(header: &str, cells: impl IntoIterator<Item = &'a str>) -> Col {
        let width =
            |s: &str| u16::try_from(unicode_width::UnicodeWidthStr::width(s)).unwrap_or(u16::MAX);
        Col {
            want: cells.into_iter().map(width).fold(width(header), u16::max),
            shrink: true,
        }
    }
}

/// The widths of a table's columns in `width` terminal columns (one
/// column of spacing between them, as `Table` lays them out), sized to
/// their content: each column gets its widest cell when they all fit.
/// When they do not, the text columns give way, the widest first: they
/// are capped at one width, as high as the room allows, so a short column
/// (a place, an area) is kept whole and a long one (a name) is cut.
pub(super) fn fit_columns(width: u16, cols: &[Col]) -> Vec<u16> {
    let spacing = u16::try_from(cols.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let fixed: u32 = cols
        .iter()
        .filter(|c| !c.shrink)
        .map(|c| u32::from(c.want))
        .sum();
    let budget = u32::from(width).saturating_sub(fixed + u32::from(spacing));
    let wanted = |cap: u32| -> u32 {
        cols.iter()
            .filter(|c| c.shrink)
            .map(|c| u32::from(c.want).min(cap))
            .sum()
    };
    // The highest cap at which the text columns fit in the budget.
    let (mut lo, mut hi) = (0u32, u32::from(u16::MAX));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if wanted(mid) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let cap = lo;
    // What the cap leaves over goes, a column each, to the capped columns.
    let mut spare = budget.saturating_sub(wanted(cap));
    cols.iter()
        .map(|c| {
            if !c.shrink {
                return c.want;
            }
            let mut w = u32::from(c.want).min(cap);
            if w < u32::from(c.want) && spare > 0 {
                w += 1;
                spare -= 1;
            }
            u16::try_from(w).unwrap_or(u16::MAX)
        })
        .collect()
}

/// `widths` as the `Length` constraints a `Table` takes.
pub(super) fn lengths(widths: &[u16]) -> Vec<Constraint> {
    widths.iter().map(|w| Constraint::Length(*w)).collect()
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

/// Styled pieces of one cell cut to `width` terminal columns together:
/// the piece that crosses the edge ends in `…` and those after it are
/// dropped.
pub(super) fn clip_spans(parts: Vec<(String, ratatui::style::Style)>, width: u16) -> Line<'static> {
    let mut left = width;
    let mut spans = Vec::new();
    for (text, style) in parts {
        let w =
            u16::try_from(unicode_width::UnicodeWidthStr::width(text.as_str())).unwrap_or(u16::MAX);
        if w <= left {
            left -= w;
            spans.push(Span::styled(text, style));
        } else {
            spans.push(Span::styled(clip(&text, left), style));
            break;
        }
    }
    Line::from(spans)
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
    fn styled_pieces_are_cut_together() {
        let plain = ratatui::style::Style::new();
        let parts = || {
            vec![
                ("in sync".to_string(), plain),
                (" · two heads".to_string(), plain),
            ]
        };
        let text = |l: Line| {
            l.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        assert_eq!(text(clip_spans(parts(), 40)), "in sync · two heads");
        assert_eq!(text(clip_spans(parts(), 12)), "in sync · t…");
        assert_eq!(text(clip_spans(parts(), 7)), "in sync");
        assert_eq!(text(clip_spans(parts(), 4)), "in …");
    }

    #[test]
    fn columns_are_sized_to_their_content_and_the_widest_gives_way() {
        let text = |want| Col { want, shrink: true };
        // Room for all: each its widest cell.
        assert_eq!(
            fit_columns(80, &[text(15), Col::fixed(10), text(20)]),
            [15, 10, 20]
        );
        // 40 columns, 2 of spacing and 10 fixed: 28 for a name of 40 and a
        // place of 8. The place is kept whole; the name takes the rest.
        assert_eq!(
            fit_columns(40, &[text(40), Col::fixed(10), text(8)]),
            [20, 10, 8]
        );
        // Two long columns share the room evenly.
        assert_eq!(fit_columns(21, &[text(30), text(30)]), [10, 10]);
        assert_eq!(fit_columns(22, &[text(30), text(30)]), [11, 10]);
        // Every width fits: never wider than the table.
        for width in 0..60u16 {
            let w = fit_columns(width, &[text(50), Col::fixed(5), text(9), text(30)]);
            let used: u32 = w.iter().map(|w| u32::from(*w)).sum::<u32>() + 3;
            assert!(used <= u32::from(width).max(8), "{width}: {w:?}");
        }
        // A text column is as wide as its widest cell, header included.
        assert_eq!(Col::text("Name", ["Ada", "李华李华"]).want, 8);
        assert_eq!(Col::text("Place", ["Hall"]).want, 5);
    }
}
