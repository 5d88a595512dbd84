//! `report --format html`: one self-contained page. Styles are inline, the
//! charts are inline SVG, and there is no script, font or image to fetch,
//! so it reads the same offline, attached to an email or printed.

use std::fmt::Write;

use groundwork_protocol::report::NetworkReport;

use super::{PROTECTION_NOTE, headline, sections, title};

/// Text escaped for HTML (element content and quoted attributes), with
/// anything a terminal or a bidi override could act on replaced first.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in groundwork_protocol::text::safe_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLOURS: [&str; 4] = ["#1b6ca8", "#d1495b", "#2e8540", "#edae49"];

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d1d1f;line-height:1.4}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem}\
.figure{background:#f4f6f8;border-radius:.4rem;padding:.6rem}\
.figure b{display:block;font-size:1.5rem}\
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #eee}\
td.n,th.n{text-align:right}svg{max-width:100%;height:auto}\
.note{background:#fff8e1;border-left:4px solid #edae49;padding:.6rem 1rem}";

/// Horizontal bars: one row per (label, value).
fn bars(id: &str, label: &str, rows: &[(String, u64)], colour: &str) -> String {
    let row_h = 24;
    // Room for the longest label (about 7 px a character at 12 px).
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let left = (longest * 7 + 12).clamp(80, 380);
    let width = 800;
    let height = row_h * rows.len().max(1) + 10;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<svg id=\"{id}\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">",
        esc(label)
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = i * row_h + 5;
        let w = (*v as usize * (width - left - 60)) / max as usize;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{v}</text>",
            left - 6,
            y + 15,
            esc(name),
            row_h - 6,
            left + w + 4,
            y + 15,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The growth chart: running totals of members and trained, by month.
fn growth(r: &NetworkReport) -> String {
    let (width, height, left, bottom, top) = (800usize, 300usize, 50usize, 30usize, 10usize);
    let n = r.growth.len();
    if n == 0 {
        return "<p>No growth to show yet: no group has published a summary.</p>".into();
    }
    let max = r.growth.iter().map(|p| p.members).max().unwrap_or(0).max(1);
    let x = |i: usize| left + i * (width - left - 10) / (n.max(2) - 1);
    let y = |v: u64| {
        top + (height - top - bottom) - (v as usize * (height - top - bottom)) / max as usize
    };
    let line = |pick: &dyn Fn(usize) -> u64, colour: &str| {
        let pts: Vec<String> = (0..n).map(|i| format!("{},{}", x(i), y(pick(i)))).collect();
        format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            pts.join(" ")
        )
    };
    let mut svg = format!(
        "<svg id=\"growth\" role=\"img\" aria-label=\"Growth over 24 months\" \
         viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        height - bottom,
        width - 10,
        height - bottom,
        height - bottom,
        left - 4,
        top + 10,
        left - 4,
        height - bottom,
    );
    svg.push_str(&line(&|i| r.growth[i].members, COLOURS[0]));
    svg.push_str(&line(&|i| r.growth[i].trained, COLOURS[2]));
    for (i, anchor) in [(0, "start"), (n / 2, "middle"), (n - 1, "end")] {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(i),
            height - 10,
            r.growth[i].month
        );
    }
    let _ = write!(
        svg,
        "<rect x=\"{}\" y=\"{top}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
         <text x=\"{}\" y=\"{}\">members</text>\
         <rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
         <text x=\"{}\" y=\"{}\">trained</text></svg>",
        left + 10,
        COLOURS[0],
        left + 24,
        top + 9,
        left + 10,
        top + 16,
        COLOURS[2],
        left + 24,
        top + 25,
    );
    svg
}

/// The report as one HTML page.
pub fn html(r: &NetworkReport) -> String {
    let mut out = String::new();
    let t = esc(&title(r));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n\
         <div class=\"figures\">"
    );
    for (label, measure, v) in headline(r) {
        let _ = write!(
            out,
            "<div class=\"figure\" id=\"fig-{measure}\"><b>{v}</b>{}</div>",
            esc(label)
        );
    }
    out.push_str("</div>\n<h2>Growth over 24 months</h2>\n");
    out.push_str(&growth(r));
    let k = &r.totals.by_kind;
    out.push_str("\n<h2>Members by kind</h2>\n");
    out.push_str(&bars(
        "kinds",
        "Members by kind",
        &[
            ("professional".into(), k.professional),
            ("activist".into(), k.activist),
            ("observer".into(), k.observer),
        ],
        COLOURS[0],
    ));
    out.push_str("\n<h2>People trained by course</h2>\n");
    let courses: Vec<(String, u64)> = r
        .trained_by_course
        .iter()
        .map(|c| (c.title.clone(), c.trained))
        .collect();
    out.push_str(&bars(
        "courses",
        "People trained by course",
        &courses,
        COLOURS[2],
    ));
    out.push_str("\n<h2>Members by area</h2>\n");
    let areas: Vec<(String, u64)> = r
        .by_area
        .iter()
        .map(|a| (a.label().to_owned(), a.totals.members))
        .collect();
    out.push_str(&bars("areas", "Members by area", &areas, COLOURS[1]));
    out.push_str("\n<h2>Top listening themes (conversations)</h2>\n");
    let themes: Vec<(String, u64)> = r
        .themes
        .iter()
        .map(|t| {
            (
                format!("{} ({} groups)", t.theme, t.groups),
                t.conversations,
            )
        })
        .collect();
    out.push_str(&bars("themes", "Top listening themes", &themes, COLOURS[3]));
    for s in sections(r) {
        if s.rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n<h2>{}</h2>\n<table id=\"table-{}\"><tr>",
            esc(s.title),
            s.id
        );
        for (i, h) in s.header.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"n\"" };
            let _ = write!(out, "<th{class}>{}</th>", esc(h));
        }
        out.push_str("</tr>");
        for row in &s.rows {
            out.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                let class = if i == 0 { "" } else { " class=\"n\"" };
                let _ = write!(out, "<td{class}>{}</td>", esc(c));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    let _ = write!(
        out,
        "\n<h2>How small figures are protected</h2>\n<p class=\"note\" id=\"protection\">{}</p>\n\
         </body></html>\n",
        esc(PROTECTION_NOTE)
    );
    out
}
