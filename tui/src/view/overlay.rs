//! Overlays: help, forms, the notes editor and messages.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme::Theme;
use crate::form::Form;
use crate::model::{Model, Overlay, Target};
use crate::update::{help, overlay_size, plan_goals, plan_vision};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn draw(model: &Model, theme: Theme, frame: &mut Frame) {
    let Some(overlay) = &model.overlay else {
        return;
    };
    let screen = frame.area();
    match overlay {
        Overlay::Help => {
            let keys = help(model);
            let key_w = keys
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            let lines: Vec<Line> = keys
                .iter()
                .map(|(k, what)| {
                    Line::from(vec![
                        Span::styled(format!(" {k:<key_w$}  "), theme.header()),
                        Span::raw(*what),
                    ])
                })
                .collect();
            let area = centered(
                screen,
                screen.width.saturating_sub(4).min(78),
                lines.len() as u16 + 2,
            );
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                    Block::bordered()
                        .border_style(theme.focus())
                        .title(Span::styled(
                            format!(" Keys: {} ", model.screen.title()),
                            theme.title(),
                        )),
                ),
                area,
            );
        }
        Overlay::Message { title, text } => {
            let area = centered(screen, screen.width.saturating_sub(4).min(70), 7);
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(text.clone())
                    .wrap(Wrap { trim: true })
                    .block(
                        Block::bordered()
                            .title(Span::styled(format!(" {title} "), theme.title()))
                            .title_bottom(Span::styled(" Enter closes ", theme.dim())),
                    ),
                area,
            );
        }
        Overlay::Form(_, form) => draw_form(form, theme, frame, screen),
        Overlay::Member(id) => draw_member(model, id, theme, frame, screen),
        Overlay::Goals(selected) => draw_goals(model, *selected, theme, frame, screen),
        Overlay::Confirm { prompt, .. } => {
            let area = centered(screen, screen.width.saturating_sub(4).min(64), 7);
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(prompt.clone())
                    .wrap(Wrap { trim: true })
                    .block(
                        Block::bordered()
                            .border_style(theme.warn())
                            .title(Span::styled(" Are you sure? ", theme.title()))
                            .title_bottom(Span::styled(" y yes · n no ", theme.dim())),
                    ),
                area,
            );
        }
        Overlay::Notes(n) => {
            let (w, h) = overlay_size(screen.width, screen.height);
            let area = centered(screen, w, h);
            frame.render_widget(Clear, area);
            let block = Block::bordered()
                .border_style(theme.focus())
                .title(Span::styled(format!(" {} ", n.title), theme.title()));
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let [text, gap, help] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length(1),
                Constraint::Length(1),
            ])
            .areas(inner);
            let _ = gap;
            let cursor = n
                .area
                .render(text, frame.buffer_mut(), ratatui::style::Style::new());
            let line = if n.saving {
                Line::styled("Saving…", theme.warn())
            } else if n.confirm_discard {
                Line::styled(
                    "Discard your changes? y discards, any other key goes back",
                    theme.bad(),
                )
            } else if let Some(e) = &n.error {
                Line::styled(e.clone(), theme.bad())
            } else {
                Line::styled(
                    format!(
                        "Ctrl-S save · Esc cancel · Ctrl-Z undo · Ctrl-Y redo{}",
                        if n.unsaved() { " · modified" } else { "" }
                    ),
                    theme.dim(),
                )
            };
            frame.render_widget(Paragraph::new(line), help);
            if let Some(p) = cursor
                && !n.saving
                && !n.confirm_discard
            {
                frame.set_cursor_position(p);
            }
        }
    }
}

/// One member's record: the roster fields, then contact details where this
/// device holds them.
fn draw_member(
    model: &Model,
    id: &groundwork_protocol::ShortId,
    theme: Theme,
    frame: &mut Frame,
    screen: Rect,
) {
    let Some(m) = model
        .members
        .ready()
        .and_then(|all| all.iter().find(|m| &m.id == id))
    else {
        return;
    };
    let dash = || "–".to_owned();
    let date = |d: Option<groundwork_protocol::Date>| d.map_or_else(dash, |d| d.to_string());
    let mut rows: Vec<(&str, String)> = vec![
        ("Id", m.id.to_string()),
        ("Kind", m.member.kind.name().to_owned()),
        ("Joined", m.member.joined.to_string()),
        ("Status", m.member.status.to_string()),
        ("Principles", date(m.member.principles_agreed)),
        (
            "Courses",
            if m.member.courses.is_empty() {
                dash()
            } else {
                m.member
                    .courses
                    .iter()
                    .map(|c| c.title().to_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        ("Trained", date(m.member.trained)),
    ];
    match &m.contact {
        Some(c) => rows.extend([
            ("Email", c.email.clone().unwrap_or_else(dash)),
            ("Phone", c.phone.clone().unwrap_or_else(dash)),
            (
                "Consent",
                format!(
                    "{} ({}{})",
                    if c.consent_to_contact { "yes" } else { "no" },
                    c.lawful_basis,
                    c.consent_date.map(|d| format!(", {d}")).unwrap_or_default()
                ),
            ),
        ]),
        None => rows.push(("Contact", "not held on this device".to_owned())),
    }
    let height = rows.len() as u16 + 2;
    let area = centered(screen, screen.width.saturating_sub(4).min(72), height);
    frame.render_widget(Clear, area);
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(label, value)| {
            Line::from(vec![
                Span::styled(format!("{label:<11}"), theme.dim()),
                Span::raw(value),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_style(theme.focus())
                .title(Span::styled(format!(" {} ", m.member.name), theme.title()))
                .title_bottom(Span::styled(
                    " e edit · r remove · f forget · Esc back ",
                    theme.dim(),
                )),
        ),
        area,
    );
}

/// The plan's vision, then its goals with the selected one marked (› as
/// well as the colour, so it shows without colours).
fn draw_goals(model: &Model, selected: usize, theme: Theme, frame: &mut Frame, screen: Rect) {
    let goals = plan_goals(model);
    let (w, h) = overlay_size(screen.width, screen.height);
    let w = w.min(78);
    let mut head: Vec<Line> = Vec::new();
    if let Some(vision) = plan_vision(model).filter(|v| !v.trim().is_empty()) {
        head.push(Line::styled(
            format!("Vision: {}", vision.trim()),
            theme.dim(),
        ));
        head.push(Line::raw(""));
    }
    if goals.is_empty() {
        head.push(Line::styled("(no goals yet)", theme.dim()));
    }
    let inner_w = w.saturating_sub(2);
    let rows = |lines: &[Line<'static>]| {
        Paragraph::new(lines.to_vec())
            .wrap(Wrap { trim: false })
            .line_count(inner_w)
    };
    // As tall as the vision and goals need, within the large overlay's
    // height; the selected goal is kept in view.
    let goal_lines: Vec<Line> = goals
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i == selected {
                Line::styled(format!("› {}", g.text), theme.selected())
            } else {
                Line::raw(format!("• {}", g.text))
            }
        })
        .collect();
    let want = rows(&head) + rows(&goal_lines) + 2;
    let height = (want.min(usize::from(h)) as u16).max(5);
    let area = centered(screen, w, height);
    frame.render_widget(Clear, area);
    let keys = if model.target == Target::Own {
        " a add · e change · r remove · Esc closes "
    } else {
        " Esc closes "
    };
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Span::styled(
            format!(" Goals ({}) ", goals.len()),
            theme.title(),
        ))
        .title_bottom(Span::styled(keys, theme.dim()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let room = usize::from(inner.height).saturating_sub(head.len()).max(1);
    let skip = selected.saturating_sub(room - 1);
    let mut lines = head;
    lines.extend(goal_lines.into_iter().skip(skip));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The focused field's matching suggestions, the marked one highlighted,
/// and the keys that pick one; or that what is typed names none.
fn suggestions(f: &crate::form::Field, theme: Theme, width: u16) -> Vec<Line<'static>> {
    let matches = f.matches();
    if matches.is_empty() {
        return vec![
            Line::styled(
                super::clip(
                    &format!("no member's name holds “{}”", f.value.trim()),
                    width,
                ),
                theme.warn(),
            ),
            Line::styled("Enter save · Tab next field · Esc cancel", theme.dim()),
        ];
    }
    let shown = matches.len().min(crate::form::MATCHES_SHOWN);
    let more = matches.len() - shown;
    let mut parts: Vec<(String, ratatui::style::Style)> = Vec::new();
    for (i, (name, _)) in matches.iter().take(shown).enumerate() {
        if i > 0 {
            parts.push((" · ".into(), theme.dim()));
        }
        // Marked by a sign as well as a colour, for a terminal without one.
        if i == f.pick {
            parts.push((format!("› {name}"), theme.selected()));
        } else {
            parts.push((name.clone(), ratatui::style::Style::new()));
        }
    }
    if more > 0 {
        parts.push((format!(" +{more} more"), theme.dim()));
    }
    vec![
        super::clip_spans(parts, width),
        Line::styled(
            "Tab takes the marked one · Ctrl-N/P next/previous · Enter save",
            theme.dim(),
        ),
    ]
}

fn draw_form(form: &Form, theme: Theme, frame: &mut Frame, screen: Rect) {
    let label_w = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0) as u16
        + 2;
    // Fields, a blank line, and two lines for the hint or the error.
    let height = form.fields.len() as u16 + 5;
    let area = centered(screen, screen.width.saturating_sub(4).min(72), height);
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Span::styled(format!(" {} ", form.title), theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut cursor = None;
    for (i, f) in form.fields.iter().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.bottom() {
            break;
        }
        let row = Rect {
            y,
            height: 1,
            ..inner
        };
        let [l, v] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)]).areas(row);
        let focused = i == form.focus;
        let label_style = if focused { theme.header() } else { theme.dim() };
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{}:", f.label), label_style)),
            l,
        );
        // Keep the cursor in view on a long value.
        let chars: Vec<char> = f.value.chars().collect();
        let width = usize::from(v.width.saturating_sub(1)).max(1);
        let start = f.cursor.saturating_sub(width);
        let shown: String = chars.iter().skip(start).take(width + 1).collect();
        let value = if !f.choices.is_empty() {
            // A list: the choice between arrows, and the others dimmed.
            let others: Vec<&str> = f
                .choices
                .iter()
                .copied()
                .filter(|c| *c != f.value)
                .collect();
            Line::from(vec![
                Span::raw(format!("‹ {} ›", f.value)),
                Span::styled(format!("  ← → {}", others.join(", ")), theme.dim()),
            ])
        } else if f.value.is_empty() {
            Line::from(Span::styled(f.hint, theme.dim()))
        } else {
            Line::from(Span::raw(shown.clone()))
        };
        frame.render_widget(Paragraph::new(value), v);
        if focused {
            let before: String = if f.choices.is_empty() {
                chars.iter().skip(start).take(f.cursor - start).collect()
            } else {
                format!("‹ {}", f.value)
            };
            let x = v.x + unicode_width::UnicodeWidthStr::width(before.as_str()) as u16;
            cursor = Some(Position::new(x.min(v.right().saturating_sub(1)), y));
        }
    }
    let status_y = inner.y + form.fields.len() as u16 + 1;
    if status_y < inner.bottom() {
        let focused = form.fields.get(form.focus);
        let lines = if form.saving {
            vec![Line::styled("Saving…", theme.warn())]
        } else if let Some(e) = &form.error {
            vec![Line::styled(e.clone(), theme.bad())]
        } else if let Some(f) = focused.filter(|f| form.picking() || f.matches_none()) {
            suggestions(f, theme, inner.width)
        } else {
            vec![Line::styled(
                "Enter save · Tab next field · Esc cancel",
                theme.dim(),
            )]
        };
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }),
            Rect {
                y: status_y,
                height: inner.bottom() - status_y,
                ..inner
            },
        );
    }
    if let Some(p) = cursor
        && !form.saving
    {
        frame.set_cursor_position(p);
    }
}
