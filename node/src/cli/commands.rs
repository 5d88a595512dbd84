//! Running each command against the group in the data directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use groundwork_protocol::schema::{Constitution, Meetup};

use super::output::Out;
use super::{
    ActionCmd, Cli, Command, ConstitutionCmd, ConversationsCmd, DeviceCmd, GoalCmd, MeetupCmd,
    MemberCmd, MemberFields, PeerCmd, PlanCmd,
};
use crate::datadir::DataDir;
use crate::group::{ConstitutionUpdate, Group, MeetupInput, MemberInput, MemberView, today};
use crate::roster_csv;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let mut out = Out::stdout();
    let data_dir = || match &cli.data_dir {
        Some(d) => Ok(DataDir::new(d)),
        None => DataDir::platform_default()
            .ok_or_else(|| anyhow!("no home directory to keep data in; pass --data-dir")),
    };
    match cli.command {
        Command::Up { listen } => super::network::up(data_dir()?, cli.offline, listen, &mut out)?,
        Command::Invite { role, hours } => {
            let text = with_group_value(data_dir()?, |g| super::network::invite(g, role, hours))?;
            out.line(text)?;
        }
        Command::Join { invite, label } => {
            super::network::join(data_dir()?, cli.offline, &invite, &label, &mut out)?
        }
        Command::Peer(PeerCmd::Add { ticket }) => {
            let offline = cli.offline;
            let rec = with_group_value(data_dir()?, |g| {
                super::network::peer_add(g, offline, &ticket)
            })?;
            out.line(format!(
                "linked with node {} of group {}",
                rec.device.fmt_short(),
                rec.group.map_or_else(|| "?".to_owned(), |g| g.fmt_short())
            ))?;
        }
        Command::Peer(PeerCmd::List { json }) => {
            let rows = with_group_value(data_dir()?, super::network::peer_rows)?;
            super::network::print_peers(&rows, json.json, &mut out)?;
        }
        Command::Device(DeviceCmd::Revoke { id }) => {
            let line = with_group_value(data_dir()?, |g| super::network::revoke(g, &id))?;
            out.line(line)?;
        }
        Command::Status { json: _ } => bail!("status needs a running node (`groundwork up`)"),
        Command::Ticket => {
            let g = Group::open(&data_dir()?)?;
            match g.meta::<String>(TICKET_KEY)? {
                Some(t) => out.line(format!("ticket: {t}"))?,
                None => bail!("no ticket yet: run `groundwork up` once to get one"),
            }
        }
        Command::Demo {
            groups,
            headless: _,
        } => demo(cli.data_dir.as_deref(), groups.into(), &mut out)?,
        Command::Init { name, area, kind } => {
            let dir = data_dir()?;
            let g = Group::found(&dir, &name, area.as_deref(), kind, today())?;
            out.line(format!(
                "founded {} in {}",
                g.profile().name,
                dir.root().display()
            ))?;
            out.line(format!("group id: {}", g.profile().id))?;
        }
        Command::Member(cmd) => with_group(data_dir()?, |g| member(g, cmd, &mut out))?,
        Command::Constitution(cmd) => with_group(data_dir()?, |g| constitution(g, cmd, &mut out))?,
        Command::Plan(cmd) => with_group(data_dir()?, |g| plan(g, cmd, &mut out))?,
        Command::Meetup(cmd) => with_group(data_dir()?, |g| meetup(g, cmd, &mut out))?,
        Command::Device(DeviceCmd::List { json }) => {
            with_group(data_dir()?, |g| device_list(g, json.json, &mut out))?
        }
    }
    out.flush()?;
    Ok(())
}

use crate::daemon::TICKET_KEY;

/// Opens the group, runs a command on it, then does the store's housekeeping.
fn with_group_value<R>(dir: DataDir, f: impl FnOnce(&Group) -> Result<R>) -> Result<R> {
    let mut g = Group::open(&dir)?;
    let r = f(&g)?;
    g.maintain();
    Ok(r)
}

fn with_group(dir: DataDir, f: impl FnOnce(&Group) -> Result<()>) -> Result<()> {
    let mut g = Group::open(&dir)?;
    f(&g)?;
    g.maintain();
    Ok(())
}

fn demo(data_dir: Option<&Path>, groups: usize, out: &mut Out) -> Result<()> {
    // Sample data lives in a temporary directory unless --data-dir is given.
    let temp;
    let root = match data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.to_owned()
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_owned()
        }
    };
    out.line(format!(
        "Founding {groups} sample groups of the {} network in {}",
        crate::demo::sample::NATIONAL_NAME,
        root.display()
    ))?;
    out.flush()?;
    let built = crate::demo::build(&root, groups, |g| {
        let _ = out.line(format!(
            "  founded {} ({}): {} members",
            g.name, g.area, g.members
        ));
        let _ = out.flush();
    })?;
    out.line("")?;
    let rows: Vec<Vec<String>> = built
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.area.clone(),
                g.members.to_string(),
                if g.established {
                    "yes".into()
                } else {
                    "forming".into()
                },
                g.trained.to_string(),
                g.meetups.to_string(),
            ]
        })
        .collect();
    out.table(
        &[
            "GROUP",
            "AREA",
            "MEMBERS",
            "ESTABLISHED",
            "TRAINED",
            "MEET-UPS",
        ],
        &rows,
    )?;
    let total: usize = built.iter().map(|g| g.members).sum();
    let established = built.iter().filter(|g| g.established).count();
    out.line(format!(
        "{} groups, {established} established, {total} members",
        built.len()
    ))?;
    out.line("")?;
    match data_dir {
        Some(d) => out.line(format!(
            "Explore a group: groundwork --data-dir {} member list",
            built.first().map_or_else(|| d.display().to_string(), |g| g.data_dir.display().to_string())
        ))?,
        None => out.line("The sample data was temporary; pass --data-dir DIR to keep it and explore it with the other commands.")?,
    }
    out.line("Syncing the groups over iroh and the network-wide report come with `groundwork up` (not built yet).")?;
    Ok(())
}

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
        consent_to_contact: f.consent,
        lawful_basis: f.lawful_basis,
        consent_date: f.consent_date,
    }
}

fn member(g: &Group, cmd: MemberCmd, out: &mut Out) -> Result<()> {
    match cmd {
        MemberCmd::Add { name, fields } => {
            let (id, m) = g.add_member(&input(Some(name), fields), today())?;
            out.line(format!("added member {id}: {}", m.name))?;
        }
        MemberCmd::List { kind, json } => {
            let members: Vec<MemberView> = g
                .members(false)?
                .into_iter()
                .filter(|m| kind.is_none_or(|k| m.member.kind == k))
                .collect();
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
                out.line(format!("{} members", members.len()))?;
            }
        }
        MemberCmd::Show { id, json } => {
            let m = g.member(&id)?;
            if json.json {
                out.json(&m)?;
            } else {
                show_member(&m, out)?;
            }
        }
        MemberCmd::Edit { id, name, fields } => {
            let mut patch = input(name, fields);
            patch.id = None;
            let m = g.edit_member(&id, &patch)?;
            out.line(format!("updated member {}: {}", m.id, m.member.name))?;
        }
        MemberCmd::Remove { id } => {
            let m = g.remove_member(&id)?;
            out.line(format!("removed member {id}: {}", m.name))?;
        }
        MemberCmd::Import { file, skip_invalid } => import(g, &file, skip_invalid, out)?,
        MemberCmd::Export { file } => {
            let members = g.members(true)?;
            match file {
                Some(path) => {
                    write_private_file(&path, |w| {
                        roster_csv::write(&members, w).map_err(anyhow::Error::from)
                    })?;
                    out.line(format!(
                        "exported {} members to {}",
                        members.len(),
                        path.display()
                    ))?;
                }
                None => roster_csv::write(&members, out.writer())?,
            }
        }
    }
    Ok(())
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

fn import(g: &Group, file: &Path, skip_invalid: bool, out: &mut Out) -> Result<()> {
    let parsed = roster_csv::read_file(file)?;
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
    let rows: Vec<MemberInput> = parsed.rows.iter().map(|(_, r)| r.clone()).collect();
    let bar = progress_bar(rows.len() as u64);
    let outcome = g
        .import_members(&rows, today(), |n| bar.set_position(n))
        .with_context(|| format!("{name}: nothing was imported"))?;
    bar.finish_and_clear();
    out.line(format!(
        "imported {} member{} from {name}; {} already on the roster",
        outcome.added.len(),
        if outcome.added.len() == 1 { "" } else { "s" },
        outcome.already_present
    ))?;
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

/// A progress bar on a terminal; hidden when stderr is not one.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 200 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "importing {bar:40} {pos}/{len} members ({eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Writes a file with mode 0600 through a temporary file and a rename, so a
/// crash never leaves half a file under the real name.
fn write_private_file(path: &Path, f: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".partial");
    let tmp = PathBuf::from(tmp_name);
    let result = (|| -> Result<()> {
        // A stale partial file from a crash may have other permissions: start afresh.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(parent)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| anyhow!("{} is not UTF-8 text", path.display()))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

fn constitution(g: &Group, cmd: ConstitutionCmd, out: &mut Out) -> Result<()> {
    let report = |out: &mut Out, v: Option<u64>| match v {
        Some(v) => out.line(format!("constitution is now version {v}")),
        None => out.line("no changes"),
    };
    match cmd {
        ConstitutionCmd::Show { json } => {
            let c: Constitution = g.read()?;
            if json.json {
                out.json(&c)?;
            } else {
                out.line(c.body.as_str().trim_end())?;
                out.line("")?;
                let adopted = c
                    .adopted
                    .map_or_else(|| "not yet adopted".to_owned(), |d| format!("adopted {d}"));
                out.line(format!("-- version {}, {adopted}", c.version))?;
                for a in &c.amendments {
                    out.line(format!("-- v{} {}: {}", a.version, a.date, a.summary))?;
                }
            }
        }
        ConstitutionCmd::Set { file, summary } => {
            let text = read_text(&file)?;
            if text.trim().is_empty() {
                bail!("{} is empty; a constitution needs text", file.display());
            }
            let v = g.amend_constitution(
                &ConstitutionUpdate {
                    text: Some(text),
                    summary,
                    adopted: None,
                },
                today(),
            )?;
            report(out, v)?;
        }
        ConstitutionCmd::Edit { summary } => {
            let c: Constitution = g.read()?;
            let edited = edit_in_editor(g.dir(), c.body.as_str())?;
            if edited.trim().is_empty() {
                bail!("the edited constitution is empty; nothing changed");
            }
            let v = g.amend_constitution(
                &ConstitutionUpdate {
                    text: Some(edited),
                    summary,
                    adopted: None,
                },
                today(),
            )?;
            report(out, v)?;
        }
        ConstitutionCmd::Adopt { date } => {
            let date = date.unwrap_or_else(today);
            let v = g.amend_constitution(
                &ConstitutionUpdate {
                    text: None,
                    summary: None,
                    adopted: Some(date),
                },
                today(),
            )?;
            report(out, v)?;
        }
    }
    Ok(())
}

/// Opens `text` in $VISUAL or $EDITOR (default `vi`) and returns the result.
fn edit_in_editor(dir: &DataDir, text: &str) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_owned());
    let path = dir.root().join("constitution.edit.txt");
    write_private_file(&path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        Ok(())
    })?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status();
    let result = match status {
        Ok(s) if s.success() => read_text(&path),
        Ok(s) => Err(anyhow!(
            "the editor ({editor}) exited with {s}; nothing changed"
        )),
        Err(e) => Err(anyhow!(
            "could not run the editor ({editor}): {e}; nothing changed"
        )),
    };
    let _ = std::fs::remove_file(&path);
    result
}

fn plan(g: &Group, cmd: PlanCmd, out: &mut Out) -> Result<()> {
    match cmd {
        PlanCmd::Show { json } => {
            let v = g.plan_view()?;
            if json.json {
                out.json(&v)?;
                return Ok(());
            }
            let vision = v.plan.vision.as_str().trim();
            out.line(format!(
                "Vision: {}",
                if vision.is_empty() {
                    "(not written yet: `groundwork plan vision --text ...`)"
                } else {
                    vision
                }
            ))?;
            out.line("")?;
            out.line("Goals:")?;
            if v.plan.goals.is_empty() {
                out.line("  (none)")?;
            }
            for goal in &v.plan.goals {
                out.line(format!("  {}  {}", goal.id, goal.text))?;
            }
            out.line("")?;
            out.line("Actions:")?;
            if v.plan.actions.is_empty() {
                out.line("  (none)")?;
            } else {
                let rows: Vec<Vec<String>> = v
                    .plan
                    .actions
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.status.to_string(),
                            a.due.map_or_else(|| "-".into(), |d| d.to_string()),
                            v.owners
                                .get(a.id.as_str())
                                .map_or_else(|| "-".into(), |(_, n)| n.clone()),
                            a.title.clone(),
                        ]
                    })
                    .collect();
                out.table(&["ID", "STATUS", "DUE", "OWNER", "TITLE"], &rows)?;
            }
            out.line("")?;
            let l = &v.plan.listening;
            let themes = if l.themes.is_empty() {
                String::new()
            } else {
                format!("; themes: {}", l.themes.join(", "))
            };
            out.line(format!(
                "Listening campaign: {} conversations held{themes}",
                l.conversations_held.value()
            ))?;
        }
        PlanCmd::Vision { text, file } => {
            let text = match (text, file) {
                (Some(t), _) => t,
                (None, Some(f)) => read_text(&f)?,
                (None, None) => bail!("give --text or --file"),
            };
            let changed = g.set_vision(text.trim())?;
            out.line(if changed {
                "vision updated"
            } else {
                "no changes"
            })?;
        }
        PlanCmd::Goal(GoalCmd::Add { text }) => {
            let id = g.add_goal(&text)?;
            out.line(format!("added goal {id}"))?;
        }
        PlanCmd::Action(ActionCmd::Add { title, owner, due }) => {
            let id = g.add_action(&title, owner.as_deref(), due)?;
            out.line(format!("added action {id}"))?;
        }
        PlanCmd::Action(ActionCmd::Done { id }) => {
            let changed = g.action_done(&id, today())?;
            out.line(if changed {
                format!("action {id} done")
            } else {
                format!("action {id} was already done")
            })?;
        }
        PlanCmd::Conversations(ConversationsCmd::Add { count, themes }) => {
            let total = g.add_conversations(count, &themes)?;
            out.line(format!(
                "recorded {count} conversation{}; {total} held in all",
                if count == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(())
}

fn meetup(g: &Group, cmd: MeetupCmd, out: &mut Out) -> Result<()> {
    match cmd {
        MeetupCmd::Add {
            date,
            place,
            agenda,
            attendance,
        } => {
            let id = g.add_meetup(&MeetupInput {
                date,
                place,
                agenda,
                attendance,
            })?;
            out.line(format!("added meet-up {id}"))?;
        }
        MeetupCmd::List { json } => {
            let ms = g.meetups()?;
            if json.json {
                out.json(&ms)?;
            } else if ms.is_empty() {
                out.line("no meet-ups yet (add one with `groundwork meetup add --date DATE --place PLACE`)")?;
            } else {
                let rows: Vec<Vec<String>> = ms
                    .iter()
                    .map(|m| {
                        vec![
                            m.id.to_string(),
                            m.date.to_string(),
                            m.attendance.to_string(),
                            m.notes.as_str().lines().count().to_string(),
                            m.place.clone(),
                        ]
                    })
                    .collect();
                out.table(&["ID", "DATE", "CAME", "NOTES", "PLACE"], &rows)?;
            }
        }
        MeetupCmd::Show { id, json } => {
            let m = g.meetup(&id)?;
            if json.json {
                out.json(&m)?;
            } else {
                show_meetup(&m, out)?;
            }
        }
        MeetupCmd::Note { id, append, file } => {
            match (append, file) {
                (Some(text), _) => g.append_meetup_note(&id, &text)?,
                (None, Some(f)) => g.set_meetup_notes(&id, &read_text(&f)?)?,
                (None, None) => bail!("give --append or --file"),
            }
            out.line(format!("notes of meet-up {id} saved"))?;
        }
        MeetupCmd::Attendance { id, count } => {
            g.set_attendance(&id, count)?;
            out.line(format!("meet-up {id}: {count} came"))?;
        }
    }
    Ok(())
}

fn show_meetup(m: &Meetup, out: &mut Out) -> Result<()> {
    out.line(format!("Meet-up {} on {} at {}", m.id, m.date, m.place))?;
    out.line(format!("{} came", m.attendance))?;
    out.line("")?;
    out.line("Agenda:")?;
    for l in m.agenda.as_str().lines() {
        out.line(format!("  {l}"))?;
    }
    out.line("")?;
    out.line("Notes:")?;
    for l in m.notes.as_str().lines() {
        out.line(format!("  {l}"))?;
    }
    if !m.actions.is_empty() {
        out.line("")?;
        out.line("Actions:")?;
        for a in &m.actions {
            out.line(format!("  - {a}"))?;
        }
    }
    Ok(())
}

/// One row of `device list`.
#[derive(Debug, serde::Serialize)]
struct DeviceRow {
    id: String,
    #[serde(flatten)]
    entry: groundwork_protocol::schema::DeviceEntry,
    this_device: bool,
}

fn device_list(g: &Group, json: bool, out: &mut Out) -> Result<()> {
    let devices: groundwork_protocol::schema::Devices = g.read()?;
    let me = g.device_id().to_string();
    let rows: Vec<DeviceRow> = devices
        .devices
        .into_iter()
        .map(|(id, entry)| DeviceRow {
            this_device: id == me,
            id,
            entry,
        })
        .collect();
    if json {
        out.json(&rows)?;
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.chars().take(10).collect(),
                r.entry.role.to_string(),
                r.entry.added.to_string(),
                r.entry
                    .revoked
                    .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                format!(
                    "{}{}",
                    r.entry.label,
                    if r.this_device { " (this device)" } else { "" }
                ),
            ]
        })
        .collect();
    out.table(&["DEVICE", "ROLE", "ADDED", "REVOKED", "LABEL"], &table)?;
    Ok(())
}
