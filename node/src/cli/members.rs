//! The `member` commands: add, list, show, edit, remove, import, export.

use std::path::Path;

use anyhow::{Result, bail};
use groundwork_protocol::control::{Request, Response};

use super::files::write_private_file;
use super::output::Out;
use super::target::{Target, unexpected};
use super::{MemberCmd, MemberFields};
use crate::group::{MemberInput, MemberView};
use crate::roster_csv;

fn input(name: Option<String>, f: MemberFields) -> MemberInput {
    MemberInput {
        id: None,
        name,
        email: f.email,
        phone: f.phone,
        kind: f.kind,
        joined: f.joined,
        status: f.status,
        principles_agreed: f.principles,
        courses: f.courses,
        trained: f.trained,
        consent_to_contact: f.consent,
        lawful_basis: f.lawful_basis,
        consent_date: f.consent_date,
    }
}

pub(super) fn member(t: &mut Target, cmd: MemberCmd, out: &mut Out) -> Result<()> {
    match cmd {
        MemberCmd::Add {
            name,
            fields,
            quiet,
        } => {
            let input = input(Some(name), fields);
            match t.send(Request::MemberAdd { input })? {
                Response::MemberAdded { id, member } => {
                    out.added(quiet, "member", &id, Some(&member.name))?;
                }
                other => return Err(unexpected(&other)),
            }
        }
        MemberCmd::List { kind, json } => {
            let members = members(t, kind, false)?;
            if json.json {
                out.json(&members)?;
            } else if members.is_empty() {
                out.line("no members yet (add one with `groundwork member add --name NAME`)")?;
            } else {
                let rows: Vec<Vec<String>> = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.id.to_string(),
                            m.member.name.clone(),
                            m.member.kind.to_string(),
                            m.member.joined.to_string(),
                            m.member.status.to_string(),
                            m.member.courses.len().to_string(),
                        ]
                    })
                    .collect();
                out.table(
                    &["ID", "NAME", "KIND", "JOINED", "STATUS", "COURSES"],
                    &rows,
                )?;
                out.line(super::output::count(members.len(), "member"))?;
            }
        }
        MemberCmd::Show { id, json } => {
            let m = match t.send(Request::MemberShow { id })? {
                Response::Member(m) => m,
                other => return Err(unexpected(&other)),
            };
            if json.json {
                out.json(&m)?;
            } else {
                show_member(&m, out)?;
            }
        }
        MemberCmd::Edit { id, name, fields } => {
            let mut patch = input(name, fields);
            patch.id = None;
            if patch == groundwork_protocol::control::MemberInput::default() {
                return Err(super::target::Answered {
                    code: groundwork_protocol::control::ErrorCode::Usage,
                    message:
                        "nothing to change: give a field to set, for example --name or --email"
                            .into(),
                }
                .into());
            }
            match t.send(Request::MemberEdit { id, patch })? {
                Response::Member(m) => {
                    out.line(format!("updated member {}: {}", m.id, m.member.name))?;
                }
                other => return Err(unexpected(&other)),
            }
        }
        MemberCmd::Remove { id } => match t.send(Request::MemberRemove { id })? {
            Response::MemberRemoved { id, member } => {
                out.line(format!("removed member {id}: {}", member.name))?;
            }
            other => return Err(unexpected(&other)),
        },
        MemberCmd::Forget {
            id,
            yes,
            redact_notes,
        } => super::forget::forget(t, id, yes, redact_notes, out)?,
        MemberCmd::Import {
            file,
            skip_invalid,
            update,
            template: false,
        } => import(t, &file, skip_invalid, update, out)?,
        MemberCmd::Import { file, .. } => template(&file, out)?,
        MemberCmd::Export { file } => {
            let members = members(t, None, true)?;
            match file {
                Some(path) => {
                    write_private_file(&path, |w| {
                        roster_csv::write(&members, w).map_err(anyhow::Error::from)
                    })?;
                    out.line(format!(
                        "exported {} to {}",
                        super::output::count(members.len(), "member"),
                        path.display()
                    ))?;
                }
                // To a terminal, names written on other devices are made
                // safe; to a pipe or file the data stays exact.
                None if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
                    let mut csv = Vec::new();
                    roster_csv::write(&members, &mut csv)?;
                    out.line(String::from_utf8_lossy(&csv).trim_end())?;
                }
                None => roster_csv::write(&members, out.writer())?,
            }
        }
    }
    Ok(())
}

/// `member import --template FILE`: a spreadsheet to fill in, never over
/// a file that exists (it may be the roster).
pub(super) fn template(path: &Path, out: &mut Out) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        bail!(
            "{} already exists: the template is written only to a new file",
            path.display()
        );
    }
    write_private_file(path, |w| {
        roster_csv::template(w).map_err(anyhow::Error::from)
    })?;
    out.line(format!(
        "wrote {}: the header row and two made-up example rows; replace the examples with \
         your members, then `groundwork member import {}`",
        path.display(),
        path.display()
    ))?;
    Ok(())
}

/// Members sorted by name, of one kind or all, with contact details if
/// `with_contacts` and this device may read them.
fn members(
    t: &mut Target,
    kind: Option<groundwork_protocol::schema::MemberKind>,
    with_contacts: bool,
) -> Result<Vec<MemberView>> {
    match t.send(Request::MemberList {
        kind,
        with_contacts,
    })? {
        Response::Members(ms) => Ok(ms),
        other => Err(unexpected(&other)),
    }
}

fn show_member(m: &MemberView, out: &mut Out) -> Result<()> {
    let opt =
        |d: Option<groundwork_protocol::Date>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    out.line(format!("{} ({})", m.member.name, m.id))?;
    out.line(format!("  kind:       {}", m.member.kind))?;
    out.line(format!("  joined:     {}", m.member.joined))?;
    out.line(format!("  status:     {}", m.member.status))?;
    out.line(format!("  principles: {}", opt(m.member.principles_agreed)))?;
    let courses: Vec<&str> = m.member.courses.iter().map(|c| c.title()).collect();
    out.line(format!(
        "  courses:    {}",
        if courses.is_empty() {
            "-".to_owned()
        } else {
            courses.join("; ")
        }
    ))?;
    if let Some(c) = &m.contact {
        out.line(format!(
            "  email:      {}",
            c.email.as_deref().unwrap_or("-")
        ))?;
        out.line(format!(
            "  phone:      {}",
            c.phone.as_deref().unwrap_or("-")
        ))?;
        out.line(format!(
            "  consent:    {} ({}, {})",
            if c.consent_to_contact { "yes" } else { "no" },
            c.lawful_basis,
            opt(c.consent_date)
        ))?;
    }
    Ok(())
}

fn import(
    t: &mut Target,
    file: &Path,
    skip_invalid: bool,
    update: bool,
    out: &mut Out,
) -> Result<()> {
    let mut parsed = roster_csv::read_file(file)?;
    parsed.refuse_impossible_dates(crate::group::today());
    let name = file.display();
    if !parsed.invalid.is_empty() && !skip_invalid {
        let first = &parsed.invalid[0];
        let more = match parsed.invalid.len() - 1 {
            0 => String::new(),
            n => format!(
                " (and {n} more invalid row{})",
                if n == 1 { "" } else { "s" }
            ),
        };
        bail!(
            "{name} line {}: {}: {}{more}; nothing was imported (fix the file, or pass --skip-invalid)",
            first.line,
            first.field,
            first.why
        );
    }
    let (lines, rows): (Vec<u64>, Vec<MemberInput>) =
        std::mem::take(&mut parsed.rows).into_iter().unzip();
    // A bar counts the rows where the store is open here; a running node
    // answers once, so a spinner says it is at work.
    let bar = if rows.len() < 200 {
        indicatif::ProgressBar::hidden()
    } else if t.is_direct() {
        super::output::counter("importing members", rows.len() as u64, true)
    } else {
        super::output::spinner(format!(
            "importing {} rows through the running node…",
            rows.len()
        ))
    };
    let answer = t.answer(Request::MemberImport { rows, update }, |n| {
        bar.set_position(n)
    });
    if t.is_direct() {
        bar.finish();
    } else {
        bar.finish_and_clear();
    }
    let outcome = match answer? {
        Response::Imported(outcome) => outcome,
        Response::Error { message, .. } => bail!("{name}: nothing was imported: {message}"),
        other => return Err(unexpected(&other)),
    };
    out.line(format!(
        "imported {} member{} from {name}; {} already on the roster",
        outcome.added.len(),
        if outcome.added.len() == 1 { "" } else { "s" },
        outcome.already_present
    ))?;
    if !outcome.differing.is_empty() {
        let n = outcome.differing.len();
        let rows = if n == 1 { "row" } else { "rows" };
        out.line(if update {
            format!("updated {} member{} from {n} {rows}:", outcome.updated.len(), if outcome.updated.len() == 1 { "" } else { "s" })
        } else {
            format!(
                "{n} {rows} matched a member but {} data the roster does not have; \
                 nothing was changed for them (pass --update to apply them as `member edit` would):",
                if n == 1 { "carries" } else { "carry" }
            )
        })?;
        for d in &outcome.differing {
            let line = lines.get(d.row).copied().unwrap_or_default();
            out.line(format!(
                "  line {line}: member {}: {}",
                d.id,
                d.fields.join(", ")
            ))?;
        }
    }
    if !parsed.ignored_columns.is_empty() {
        out.line(format!(
            "ignored columns: {}",
            parsed.ignored_columns.join(", ")
        ))?;
    }
    if !parsed.unknown_courses.is_empty() {
        let names: Vec<&str> = parsed.unknown_courses.iter().map(String::as_str).collect();
        out.line(format!(
            "courses not in the programme's list, kept as written: {}",
            names.join("; ")
        ))?;
    }
    if !parsed.invalid.is_empty() {
        out.line(format!(
            "skipped {} invalid row{}:",
            parsed.invalid.len(),
            if parsed.invalid.len() == 1 { "" } else { "s" }
        ))?;
        for e in &parsed.invalid {
            out.line(format!("  line {}: {}: {}", e.line, e.field, e.why))?;
        }
    }
    Ok(())
}
