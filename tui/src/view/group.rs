//! The group screen: constitution, plan, meet-ups and members.

use groundwork_protocol::control::MemberView;
use groundwork_protocol::schema::{ActionStatus, Constitution, Plan};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Tabs, Wrap};

use super::theme::Theme;
use super::{days_ago, pending};
use crate::model::{Loaded, Model, Tab, Target};
use crate::update::{plan_actions, plan_page};

pub(super) fn draw(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let [title, tabs, content] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let mut spans = vec![Span::styled(
        format!(" {}", model.target_name()),
        theme.title(),
    )];
    let entry = match model.target {
        Target::Own => model.own_group(),
        Target::Other(g) => Some(g),
    }
    .and_then(|g| model.directory.ready()?.iter().find(|e| e.group == g));
    if let Some(e) = entry {
        let mut about = Vec::new();
        if let Some(a) = &e.area {
            about.push(a.clone());
        }
        about.push(super::network::kind_label(e.kind).to_string());
        if e.affiliated {
            about.push("affiliated".into());
        }
        spans.push(Span::styled(
            format!(" · {}", about.join(" · ")),
            theme.dim(),
        ));
    }
    if let Target::Other(_) = model.target {
        spans.push(Span::styled(
            "  (what this group shares: constitution and plan)",
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), title);

    let all = model.tabs();
    let selected = all.iter().position(|t| *t == model.tab).unwrap_or(0);
    let titles: Vec<String> = all.iter().map(|t| t.title().to_string()).collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme.selected())
            .divider("│"),
        tabs,
    );
    match model.tab {
        Tab::Constitution => constitution(model, theme, frame, content),
        Tab::Plan => plan(model, theme, frame, content),
        Tab::Meetups => meetups(model, theme, frame, content),
        Tab::Members => members(model, theme, frame, content),
    }
}

/// The constitution shown and what to say when there is none.
fn shown_constitution(model: &Model) -> Result<&Constitution, String> {
    match model.target {
        Target::Own => model
            .constitution
            .ready()
            .ok_or_else(|| pending(&model.constitution, "the constitution")),
        Target::Other(_) => match &model.shared {
            Loaded::Ready(s) => s.constitution.as_ref().ok_or_else(|| {
                format!(
                    "{} has not shared its constitution with this node yet: it arrives once this node syncs with a node that carries it.",
                    model.target_name()
                )
            }),
            other => Err(pending(other, "the constitution")),
        },
    }
}

fn shown_plan(model: &Model) -> Result<&Plan, String> {
    match model.target {
        Target::Own => model
            .plan
            .ready()
            .map(|p| &p.plan)
            .ok_or_else(|| pending(&model.plan, "the plan")),
        Target::Other(_) => match &model.shared {
            Loaded::Ready(s) => s.plan.as_ref().ok_or_else(|| {
                format!(
                    "{} has not shared its plan with this node yet.",
                    model.target_name()
                )
            }),
            other => Err(pending(other, "the plan")),
        },
    }
}

/// The constitution as the tab draws it: the text (headings styled), then
/// the amendments.
fn constitution_lines(c: &Constitution, theme: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = c
        .body
        .as_str()
        .lines()
        .map(|l| {
            if let Some(h) = l.strip_prefix('#') {
                Line::styled(h.trim_start_matches('#').trim().to_string(), theme.header())
            } else {
                Line::raw(l.to_string())
            }
        })
        .collect();
    if c.body.as_str().trim().is_empty() {
        lines.push(Line::styled("(no text yet)", theme.dim()));
    }
    if !c.amendments.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Amendments", theme.header()));
        for a in &c.amendments {
            lines.push(Line::raw(format!(
                "v{} {}  {}",
                a.version, a.date, a.summary
            )));
        }
    }
    lines
}

/// The rows the constitution takes, wrapped at the terminal's width inside
/// the tab's borders: what `G` and End scroll to the end of.
pub(crate) fn constitution_rows(model: &Model) -> usize {
    let Ok(c) = shown_constitution(model) else {
        return 0;
    };
    Paragraph::new(Text::from(constitution_lines(c, Theme::new(false))))
        .wrap(Wrap { trim: false })
        .line_count(model.size.0.saturating_sub(2))
}

/// The rows of the constitution that fit: the body less the group title,
/// the tabs and the borders.
pub(crate) fn constitution_visible(model: &Model) -> usize {
    usize::from(model.size.1).saturating_sub(6).max(1)
}

fn constitution(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().border_style(theme.focus());
    let c = match shown_constitution(model) {
        Ok(c) => c,
        Err(text) => {
            frame.render_widget(
                Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
                area,
            );
            return;
        }
    };
    let adopted = c
        .adopted
        .map_or("not adopted yet".to_string(), |d| format!("adopted {d}"));
    let block = block.title(Line::from(vec![
        Span::styled(" Constitution ", theme.title()),
        Span::styled(format!("version {} · {adopted} ", c.version), theme.dim()),
    ]));
    let lines = constitution_lines(c, theme);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .scroll((model.constitution_scroll, 0))
            .block(block),
        area,
    );
}

fn plan(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let p = match shown_plan(model) {
        Ok(p) => p,
        Err(text) => {
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: true })
                    .block(Block::bordered()),
                area,
            );
            return;
        }
    };
    let vision = p.vision.as_str().trim();
    let vision_rows = if vision.is_empty() {
        1
    } else {
        // Rows the wrapped vision takes, at most four.
        let w = usize::from(area.width.saturating_sub(2)).max(1);
        vision
            .lines()
            .map(|l| l.chars().count().div_ceil(w).max(1))
            .sum::<usize>()
            .min(4)
    } as u16;
    let goal_rows = (p.goals.len().clamp(1, 3)) as u16;
    let [v, g, a, l] = Layout::vertical([
        Constraint::Length(vision_rows + 2),
        Constraint::Length(goal_rows + 2),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let vision_text = if vision.is_empty() {
        Line::styled("(no vision yet)", theme.dim()).into()
    } else {
        Text::raw(vision.to_string())
    };
    frame.render_widget(
        Paragraph::new(vision_text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(Span::styled(" Vision ", theme.title()))),
        v,
    );
    let goals: Vec<Line> = if p.goals.is_empty() {
        vec![Line::styled("(no goals yet)", theme.dim())]
    } else {
        p.goals
            .iter()
            .map(|g| Line::raw(format!("• {}", g.text)))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(goals).block(Block::bordered().title(Line::from(vec![
            Span::styled(format!(" Goals ({}) ", p.goals.len()), theme.title()),
            Span::styled("v ", theme.dim()),
        ]))),
        g,
    );

    let actions = plan_actions(model);
    let done = actions
        .iter()
        .filter(|a| a.status == ActionStatus::Done)
        .count();
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Line::from(vec![
            Span::styled(" Actions ", theme.title()),
            Span::styled(format!("{done} of {} done ", actions.len()), theme.dim()),
        ]));
    let inner = block.inner(a);
    frame.render_widget(block, a);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model
        .action_pos
        .shown(actions.len(), fit.min(plan_page(model).max(fit)));
    let owners = match model.target {
        Target::Own => model.plan.ready().map(|p| &p.owners),
        Target::Other(_) => None,
    };
    let owner = |a: &groundwork_protocol::schema::Action| -> &str {
        match owners {
            Some(o) => o.get(a.id.as_str()).map_or("–", |o| o.name.as_str()),
            None => "not shared",
        }
    };
    let shown: Vec<_> = actions.iter().skip(pos.offset).take(fit).collect();
    let widths = super::fit_columns(
        inner.width,
        &[
            super::Col::text("Action", shown.iter().map(|a| a.title.as_str())),
            super::Col::text("Owner", shown.iter().map(|a| owner(a))),
            super::Col::fixed(10),
            super::Col::fixed(15),
        ],
    );
    let rows = shown.iter().map(|a| {
        let status = match a.status {
            ActionStatus::Done => Span::styled(
                match a.done_on {
                    Some(d) => format!("done {d}"),
                    None => "done".into(),
                },
                theme.good(),
            ),
            ActionStatus::Open => match a.due {
                Some(d) if d < model.today => Span::styled("overdue", theme.bad()),
                _ => Span::raw("open"),
            },
        };
        Row::new(vec![
            Line::raw(super::clip(&a.title, widths[0])),
            Line::raw(super::clip(owner(a), widths[1])),
            Line::raw(a.due.map_or("–".into(), |d| d.to_string())),
            Line::from(status),
        ])
    });
    let table = Table::new(rows, super::lengths(&widths))
        .header(Row::new(["Action", "Owner", "Due", "Status"]).style(theme.header()))
        .row_highlight_style(theme.selected());
    let mut state = TableState::default()
        .with_selected((!actions.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);
    if actions.is_empty() {
        frame.render_widget(
            Paragraph::new("(no actions yet)").style(theme.dim()),
            super::below(inner, 1),
        );
    }
    let themes = &p.listening.themes;
    let listening = format!(
        " Listening: {} conversations held{}",
        p.listening.conversations_held.value(),
        if themes.is_empty() {
            String::new()
        } else {
            format!(" · themes: {}", themes.join(", "))
        }
    );
    frame.render_widget(Paragraph::new(listening).style(theme.dim()), l);
}

fn meetups(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let Some(list) = model.meetups.ready() else {
        frame.render_widget(
            Paragraph::new(pending(&model.meetups, "meet-ups")).block(Block::bordered()),
            area,
        );
        return;
    };
    let list_width = if area.width >= 120 { 48 } else { 34 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Fill(1)]).areas(area);
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Span::styled(
            format!(" Meet-ups ({}) ", list.len()),
            theme.title(),
        ));
    let inner = block.inner(left);
    frame.render_widget(block, left);
    let fit = usize::from(inner.height).max(1);
    let pos = model.meetup_pos.shown(list.len(), fit);
    let place_w = inner.width.saturating_sub(11);
    let rows = list.iter().skip(pos.offset).take(fit).map(|m| {
        let when = if m.date > model.today {
            Span::styled(m.date.to_string(), theme.good())
        } else {
            Span::raw(m.date.to_string())
        };
        Row::new(vec![
            Line::from(when),
            Line::raw(super::clip(&m.place, place_w)),
        ])
    });
    let table = Table::new(rows, [Constraint::Length(10), Constraint::Fill(1)])
        .row_highlight_style(theme.selected());
    let mut state =
        TableState::default().with_selected((!list.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);

    let detail = Block::bordered().title(Span::styled(" Agenda and notes ", theme.title()));
    let Some(m) = list.get(pos.selected) else {
        frame.render_widget(
            Paragraph::new("No meet-ups yet. Press a to add one.")
                .style(theme.dim())
                .block(detail),
            right,
        );
        return;
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(m.date.to_string(), theme.header()),
            Span::raw(format!(" · {}", m.place)),
        ]),
        Line::styled(
            format!(
                "{} · {} came",
                days_ago(model.today, Some(m.date)).replace("d ago", "days ago"),
                m.attendance
            ),
            theme.dim(),
        ),
        Line::raw(""),
        Line::styled("Agenda", theme.title()),
    ];
    push_text(&mut lines, m.agenda.as_str(), "(no agenda)", theme);
    lines.push(Line::raw(""));
    lines.push(Line::styled("Notes", theme.title()));
    push_text(
        &mut lines,
        m.notes.as_str(),
        "(no notes yet: press e to write them)",
        theme,
    );
    if !m.actions.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Actions", theme.title()));
        for a in &m.actions {
            lines.push(Line::raw(format!("• {a}")));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((model.meetup_scroll, 0))
            .block(detail),
        right,
    );
}

fn push_text<'a>(lines: &mut Vec<Line<'a>>, text: &str, empty: &'a str, theme: Theme) {
    if text.trim().is_empty() {
        lines.push(Line::styled(empty, theme.dim()));
    } else {
        lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
    }
}

fn members(model: &Model, theme: Theme, frame: &mut Frame, area: Rect) {
    let Some(all) = model.members.ready() else {
        frame.render_widget(
            Paragraph::new(pending(&model.members, "members"))
                .wrap(Wrap { trim: true })
                .block(Block::bordered()),
            area,
        );
        return;
    };
    let show_filter = model.filtering || !model.member_filter.is_empty();
    let [table_area, filter_area] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::from(show_filter)),
    ])
    .areas(area);
    let contacts = model.may_read_contacts();
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Line::from(vec![
            Span::styled(" Members ", theme.title()),
            Span::styled(
                format!("{} of {} ", model.member_rows.len(), all.len()),
                theme.dim(),
            ),
        ]));
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    let fit = usize::from(inner.height.saturating_sub(1)).max(1);
    let pos = model.member_pos.shown(model.member_rows.len(), fit);
    let wide = inner.width >= 120;
    // Only the rows on screen are built, and sized: a roster of 10,000
    // draws as fast as one of 20.
    let shown: Vec<_> = (pos.offset..model.member_rows.len().min(pos.offset + fit))
        .filter_map(|r| model.member(r))
        .collect();
    let mut header = vec!["Name", "Kind", "Joined", "Status"];
    let mut cols = vec![
        super::Col::text("Name", shown.iter().map(|m| m.member.name.as_str())),
        super::Col::fixed(12),
        super::Col::fixed(10),
        super::Col::fixed(6),
    ];
    if wide || !contacts {
        header.push("Courses");
        cols.push(super::Col::fixed(7));
    }
    if contacts {
        header.push("Email");
        cols.push(super::Col::text("Email", shown.iter().map(|m| email(m))));
        if wide {
            header.extend(["Phone", "Consent"]);
            cols.extend([super::Col::fixed(14), super::Col::fixed(7)]);
        }
    }
    let widths = super::fit_columns(inner.width, &cols);
    let name_w = widths[0];
    let email_w = if contacts {
        widths[header.len() - if wide { 3 } else { 1 }]
    } else {
        0
    };
    let rows = shown.iter().map(|m| {
        let mut cells = vec![
            Line::raw(super::clip(&m.member.name, name_w)),
            Line::raw(m.member.kind.name()),
            Line::raw(m.member.joined.to_string()),
            Line::raw(m.member.status.to_string()),
        ];
        if wide || !contacts {
            cells.push(Line::raw(m.member.courses.len().to_string()));
        }
        if contacts {
            let c = m.contact.as_ref();
            cells.push(Line::raw(super::clip(email(m), email_w)));
            if wide {
                cells.push(Line::raw(
                    c.and_then(|c| c.phone.clone())
                        .unwrap_or_else(|| "–".into()),
                ));
                cells.push(Line::raw(if c.is_some_and(|c| c.consent_to_contact) {
                    "yes"
                } else {
                    "no"
                }));
            }
        }
        Row::new(cells)
    });
    let table = Table::new(rows, super::lengths(&widths))
        .header(Row::new(header).style(theme.header()))
        .row_highlight_style(theme.selected());
    let mut state = TableState::default()
        .with_selected((!model.member_rows.is_empty()).then(|| pos.selected - pos.offset));
    frame.render_stateful_widget(table, inner, &mut state);
    if all.is_empty() {
        frame.render_widget(
            Paragraph::new("No members yet. Press a to add one.").style(theme.dim()),
            super::below(inner, 1),
        );
    }
    if show_filter {
        super::draw_filter(
            &model.member_filter,
            model.filtering,
            theme,
            frame,
            filter_area,
        );
    }
}

/// A member's email as the roster shows it, `–` when there is none.
fn email(m: &MemberView) -> &str {
    m.contact
        .as_ref()
        .and_then(|c| c.email.as_deref())
        .unwrap_or("–")
}
