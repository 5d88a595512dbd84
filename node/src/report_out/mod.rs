//! `report --format text|json|csv|markdown|html`: the network's figures as
//! a national body publishes them.
//!
//! Every format is drawn from the same [`Section`]s, so they always agree:
//! the headline figures, then trained by course, themes, groups formed by
//! year, growth, areas and groups. Text from peers (group names, areas,
//! themes) is escaped for each format: HTML entities, Markdown's table
//! characters, CSV quoting; text for a terminal passes `text::safe` in
//! [`crate::cli::output::Out`].

use groundwork_protocol::report::NetworkReport;

mod html;

pub use html::html;

/// An output format of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text tables.
    Text,
    /// The report as JSON.
    Json,
    /// One row per figure: section, name, measure, value.
    Csv,
    /// Markdown tables.
    Markdown,
    /// One self-contained HTML page with inline SVG charts.
    Html,
}

/// The note every format carries on how small figures are protected.
pub const PROTECTION_NOTE: &str = "Every count of people is rounded to the nearest 5 on the \
group's own devices before it leaves them, so no figure from 1 to 4 is ever published and \
no total, difference or breakdown can reveal one. Breakdowns that add up to a total (by \
kind, by month) are rounded so that they still add up. Totals are sums of rounded figures, \
so a network total can differ from the true count by a few people per group. Counts of \
groups are exact.";

/// One table of the report.
#[derive(Debug)]
pub struct Section {
    /// Its key in CSV (`course`, `theme`, ...).
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Column names; the first column names the row, the rest are counts.
    pub header: Vec<&'static str>,
    /// The rows.
    pub rows: Vec<Vec<String>>,
}

/// The headline figures: (label, CSV measure, value).
pub fn headline(r: &NetworkReport) -> Vec<(&'static str, &'static str, u64)> {
    let t = &r.totals;
    vec![
        ("Members", "members", t.members),
        ("Professionals", "professional", t.by_kind.professional),
        ("Activists", "activist", t.by_kind.activist),
        ("Observers", "observer", t.by_kind.observer),
        ("People trained", "trained", t.trained),
        ("One-to-one conversations", "conversations", t.conversations),
        ("Meet-ups held", "meetups", t.meetups),
        ("Groups", "groups", r.groups),
        (
            "Local Organising Groups",
            "local_organising_groups",
            r.group_kinds.local_organising_groups,
        ),
        (
            "Social Action Hubs",
            "social_action_hubs",
            r.group_kinds.social_action_hubs,
        ),
        ("Groups established (21+)", "established", r.established),
        ("Groups affiliated", "affiliated", r.affiliated),
        ("Groups reporting", "reporting", r.reporting),
    ]
}

/// The report's tables, in the order every format prints them.
pub fn sections(r: &NetworkReport) -> Vec<Section> {
    let n = |v: u64| v.to_string();
    vec![
        Section {
            id: "course",
            title: "People trained by course",
            header: vec!["course", "trained"],
            rows: r
                .trained_by_course
                .iter()
                .map(|c| vec![c.title.clone(), n(c.trained)])
                .collect(),
        },
        Section {
            id: "theme",
            title: "Listening themes",
            header: vec!["theme", "groups", "conversations"],
            rows: r
                .themes
                .iter()
                .map(|t| vec![t.theme.clone(), n(t.groups), n(t.conversations)])
                .collect(),
        },
        Section {
            id: "formed",
            title: "Groups formed by year",
            header: vec!["year", "groups"],
            rows: r
                .formed_by_year
                .iter()
                .map(|y| vec![y.year.to_string(), n(y.groups)])
                .collect(),
        },
        Section {
            id: "growth",
            title: "Growth over 24 months (running totals)",
            header: vec!["month", "members", "trained"],
            rows: r
                .growth
                .iter()
                .map(|p| vec![p.month.to_string(), n(p.members), n(p.trained)])
                .collect(),
        },
        Section {
            id: "area",
            title: "By area",
            header: vec![
                "area",
                "groups",
                "established",
                "members",
                "trained",
                "conversations",
                "meetups",
            ],
            rows: r
                .by_area
                .iter()
                .map(|a| {
                    vec![
                        a.label().to_owned(),
                        n(a.groups),
                        n(a.established),
                        n(a.totals.members),
                        n(a.totals.trained),
                        n(a.totals.conversations),
                        n(a.totals.meetups),
                    ]
                })
                .collect(),
        },
        Section {
            id: "group",
            title: "By group",
            header: vec!["group", "members", "trained", "conversations", "meetups"],
            rows: r
                .by_group
                .iter()
                .filter_map(|g| {
                    let f = g.figures.as_ref()?;
                    Some(vec![
                        g.name.clone(),
                        n(f.members),
                        n(f.trained),
                        n(f.conversations),
                        n(f.meetups),
                    ])
                })
                .collect(),
        },
    ]
}

/// The report's title line.
pub fn title(r: &NetworkReport) -> String {
    match r.as_of {
        Some(d) => format!("Network report: figures as of {d}"),
        None => "Network report: no figures yet".to_owned(),
    }
}

/// The report as aligned text (what `report` prints by default).
pub fn text(r: &NetworkReport) -> String {
    let mut out = String::new();
    out.push_str(&title(r));
    out.push_str("\n\n");
    let head = headline(r);
    let w = head.iter().map(|h| h.0.len()).max().unwrap_or(0);
    for (label, _, v) in &head {
        out.push_str(&format!("{label:<w$}  {v}\n"));
    }
    for s in sections(r) {
        if s.rows.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}:\n", s.title));
        out.push_str(&aligned(&s.header, &s.rows));
    }
    out.push('\n');
    out.push_str(PROTECTION_NOTE);
    out.push('\n');
    out
}

/// A table as aligned text. Cells from peers (names, areas, themes) pass
/// `text::safe_line` first: the text may be written to a file and later
/// shown by `cat`, where an escape sequence would act on the terminal.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let (rows, widths) = crate::cli::output::safe_cells_and_widths(header, rows);
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(crate::cli::output::display_width(c));
            if i == 0 {
                l.push_str(c);
                l.extend(std::iter::repeat_n(' ', pad));
            } else {
                l.push_str("  ");
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(c);
            }
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut out = line(
        header
            .iter()
            .map(|h| h.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Text from a peer, made safe inside a Markdown table cell: no line
/// breaks, and the characters Markdown acts on escaped.
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in groundwork_protocol::text::safe_line(s).chars() {
        if matches!(
            c,
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '(' | ')'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The report as Markdown.
pub fn markdown(r: &NetworkReport) -> String {
    let mut out = format!("# {}\n\n", title(r));
    out.push_str("| Figure | Count |\n|---|---:|\n");
    for (label, _, v) in headline(r) {
        out.push_str(&format!("| {label} | {v} |\n"));
    }
    for s in sections(r) {
        if s.rows.is_empty() {
            continue;
        }
        out.push_str(&format!("\n## {}\n\n", s.title));
        out.push_str(&format!("| {} |\n", s.header.join(" | ")));
        out.push_str("|---|");
        out.push_str(&"---:|".repeat(s.header.len() - 1));
        out.push('\n');
        for row in &s.rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    out.push_str(&format!(
        "\n## How small figures are protected\n\n{PROTECTION_NOTE}\n"
    ));
    out
}

/// A name as a spreadsheet will not run it: a cell starting with `=`,
/// `+`, `-`, `@` or a tab is a formula to Excel and LibreOffice, so it
/// gets a leading `'`.
fn spreadsheet_safe(s: &str) -> String {
    crate::roster_csv::guard(groundwork_protocol::text::safe_line(s).into_owned())
}

/// The report as CSV: `section,name,measure,value`, one row per figure
/// (headline figures under `totals`).
pub fn csv(r: &NetworkReport) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "name", "measure", "value"])?;
    for (_, measure, v) in headline(r) {
        w.write_record(["totals", "", measure, &v.to_string()])?;
    }
    for s in sections(r) {
        for row in &s.rows {
            for (measure, value) in s.header.iter().zip(row).skip(1) {
                w.write_record([s.id, &spreadsheet_safe(&row[0]), measure, value.as_str()])?;
            }
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests;
