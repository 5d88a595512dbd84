//! Running each command against the group in the data directory.

use anyhow::{Context, Result, anyhow, bail};
use groundwork_protocol::control::{DeviceView, Request, Response};
use groundwork_protocol::schema::Meetup;

use super::files::read_text;
use super::output::Out;
use super::target::{Target, unexpected};
use super::{
    ActionCmd, Cli, Command, ConstitutionCmd, ConversationsCmd, DeviceCmd, EpochCmd, GoalCmd,
    MeetupCmd, NationalCmd, PeerCmd, PlanCmd,
};
use crate::datadir::DataDir;
use crate::group::{ConstitutionUpdate, Group, GroupKind, MeetupInput, today};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let mut out = Out::stdout();
    let source = crate::secrets::PassphraseSource::command_line(cli.passphrase_file.clone());
    let data_dir = || {
        match &cli.data_dir {
            Some(d) => Ok(DataDir::new(d)),
            None => DataDir::platform_default()
                .ok_or_else(|| anyhow!("no home directory to keep data in; pass --data-dir")),
        }
        .map(|d| d.with_passphrase(source.clone()))
    };
    match cli.command {
        Command::Up { listen } => super::network::up(data_dir()?, cli.offline, listen, &mut out)?,
        Command::Invite { role, hours } => with_target(data_dir()?, |t| {
            match t.send(Request::Invite {
                role,
                ttl_secs: hours * 3600,
            })? {
                Response::Invite { text } => {
                    out.line(text)?;
                    out.note(format!(
                        "the invite works once, within {hours} h, and only while this device runs `groundwork up`"
                    ))?;
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Backup {
            file,
            backup_passphrase_file,
        } => super::backup::backup(data_dir()?, &file, backup_passphrase_file, &mut out)?,
        Command::Restore { file } => super::backup::restore(data_dir()?, &file, &mut out)?,
        Command::Join { invite, label } => {
            super::network::join(data_dir()?, cli.offline, &invite, &label, &mut out)?
        }
        Command::Peer(PeerCmd::Add { ticket }) => {
            let dir = data_dir()?;
            let reaching = super::output::spinner("reaching the other node…".into());
            let peers = match crate::control::connect(&dir)? {
                Some(mut client) => match client.request(Request::PeerAdd { ticket })? {
                    Response::Peers(p) => p,
                    Response::Error { code, message } => {
                        return Err(super::target::dial_hint(
                            super::target::Answered { code, message }.into(),
                        ));
                    }
                    r => return Err(unexpected(&r)),
                },
                None => {
                    let offline = cli.offline;
                    let rec =
                        with_group_value(dir, |g| super::network::peer_add(g, offline, &ticket))
                            .map_err(super::target::dial_hint)?;
                    vec![groundwork_protocol::control::PeerStatus {
                        device: rec.device,
                        group: rec.group,
                        name: None,
                        connected: false,
                        last_seen: Some(rec.last_seen),
                        last_error: None,
                        in_sync: None,
                        requested: rec.requested,
                    }]
                }
            };
            reaching.finish_and_clear();
            for p in peers {
                super::network::print_link(&p, &mut out)?;
            }
        }
        Command::Peer(PeerCmd::Requests { json }) => with_target(data_dir()?, |t| {
            match t.send(Request::LinkRequests)? {
                Response::LinkRequests(r) => {
                    super::network::print_requests(&r, json.json, &mut out)?
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Peer(PeerCmd::Accept { id }) => with_target(data_dir()?, |t| {
            match t.send(Request::PeerAccept { id })? {
                Response::Peers(p) => {
                    for p in p {
                        super::network::print_link(&p, &mut out)?;
                    }
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Peer(PeerCmd::Refuse { id }) => with_target(data_dir()?, |t| {
            match t.send(Request::PeerRefuse { id })? {
                Response::LinkRequests(r) => out.line(format!(
                    "refused; {} request{} still waiting",
                    r.len(),
                    if r.len() == 1 { "" } else { "s" }
                ))?,
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::LinkCode { hours } => with_target(data_dir()?, |t| {
            match t.send(Request::LinkCode {
                ttl_secs: hours * 3600,
            })? {
                Response::LinkCode { text, .. } => out.line(text)?,
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::National(NationalCmd::Init { name }) => {
            let dir = data_dir()?;
            super::passphrase::offer(&dir)?;
            let g = Group::found(&dir, &name, None, GroupKind::National, today())?;
            out.line(format!(
                "founded the national body {} in {}",
                g.profile().name,
                dir.root().display()
            ))?;
            out.line(format!("network id: {}", g.profile().id))?;
            super::passphrase::at_rest_warning(&g, &mut out)?;
        }
        Command::Network { json } => with_target(data_dir()?, |t| {
            match t.send(Request::Network)? {
                Response::Directory(d) => {
                    let national = !json.json
                        && d.iter()
                            .all(|r| r.kind == groundwork_protocol::card::GroupKind::National)
                        && super::network::is_national(t)?;
                    super::network::print_directory(&d, json.json, national, &mut out)?
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Report {
            json,
            format,
            output,
        } => with_target(data_dir()?, |t| {
            let format = match (format, json.json) {
                (Some(f), _) => f,
                (None, true) => crate::report_out::Format::Json,
                (None, false) => crate::report_out::Format::Text,
            };
            match t.send(Request::Report)? {
                Response::Report(r) => {
                    let national = r.groups == 0
                        && format == crate::report_out::Format::Text
                        && super::network::is_national(t)?;
                    super::network::write_report(&r, format, output.as_deref(), national, &mut out)?
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        // A damaged ticket is said as such (exit 2) before the node is asked.
        Command::Affiliate { ticket } => with_target(
            {
                crate::net::parse_link_target(&ticket)?;
                data_dir()?
            },
            |t| {
                let reaching = super::output::spinner("reaching the group's node…".into());
                let answer = t.send(Request::Affiliate { ticket });
                reaching.finish_and_clear();
                let answer = answer.map_err(super::target::dial_hint)?;
                match answer {
                    Response::Affiliated {
                        group,
                        name,
                        pending: false,
                    } => out.line(format!("affiliated {name} (group {})", group.fmt_short()))?,
                    Response::Affiliated {
                        group,
                        name,
                        pending: true,
                    } => out.line(format!(
                        "asked {name} (group {}) to link; the affiliation follows once its steward \
                     accepts (`groundwork peer requests`, then `groundwork peer accept`), or \
                     affiliate with a link ticket its steward gives you (`groundwork link-code`)",
                        group.fmt_short()
                    ))?,
                    r => return Err(unexpected(&r)),
                }
                Ok(())
            },
        )?,
        Command::Peer(PeerCmd::List { json }) => with_target(data_dir()?, |t| {
            match t.send(Request::PeerList)? {
                Response::Peers(p) => {
                    let national = !json.json && p.is_empty() && super::network::is_national(t)?;
                    super::network::print_peers(&p, json.json, national, &mut out)?
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Device(DeviceCmd::Recover { label }) => {
            super::backup::recover(data_dir()?, cli.offline, &label, &mut out)?
        }
        Command::Device(DeviceCmd::Revoke { id }) => with_target(data_dir()?, |t| {
            match t.send(Request::DeviceRevoke { id })? {
                Response::Revoked { device, epochs } => {
                    out.line(format!(
                        "revoked device {}; devices that sync with this one refuse it from now on",
                        device.fmt_short()
                    ))?;
                    if !epochs.is_empty() {
                        let started: Vec<String> = epochs
                            .iter()
                            .map(|(k, n)| format!("{k} epoch {n}"))
                            .collect();
                        out.line(format!(
                            "started {}: whatever it sent after this device last heard from it \
                             is dropped on every device as it switches",
                            started.join(", ")
                        ))?;
                        let kinds: Vec<_> = epochs.iter().map(|(k, _)| *k).collect();
                        super::epochs::switching(t, &kinds, &mut out)?;
                    }
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Status { json } => with_target(data_dir()?, |t| {
            match t.send(Request::Status)? {
                Response::Status(s) => super::network::print_status(&s, json.json, &mut out)?,
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Ticket { bare } => with_target(data_dir()?, |t| {
            match t.send(Request::Ticket)? {
                Response::Ticket { text } => {
                    use std::io::IsTerminal as _;
                    if bare || !std::io::stdout().is_terminal() {
                        out.line(text)?;
                    } else {
                        out.line(format!("ticket: {text}"))?;
                    }
                }
                r => return Err(unexpected(&r)),
            }
            Ok(())
        })?,
        Command::Tui => super::tui::run(data_dir()?, cli.offline)?,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Into memory first: `generate` panics if its writer fails (a
            // closed pipe), where `out` makes that a quiet exit.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "groundwork", &mut script);
            std::io::Write::write_all(out.writer(), &script)?;
        }
        Command::Man { dir: None } => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(out.writer())?;
        }
        Command::Man { dir: Some(dir) } => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("writing the manual pages into {}", dir.display()))?;
            out.line(format!("wrote the manual pages into {}", dir.display()))?;
        }
        Command::Demo { groups, headless } => {
            // $GROUNDWORK_DIR names the steward's own group: the demo
            // never runs in it.
            let dir = cli
                .data_dir
                .as_deref()
                .filter(|_| cli.data_dir_on_command_line);
            super::demo::run(dir, groups.into(), headless, &mut out)?
        }
        Command::Init { name, area, kind } => {
            let dir = data_dir()?;
            super::passphrase::offer(&dir)?;
            let g = Group::found(&dir, &name, area.as_deref(), kind.into(), today())?;
            out.line(format!(
                "founded {} in {}",
                g.profile().name,
                dir.root().display()
            ))?;
            out.line(format!("group id: {}", g.profile().id))?;
            super::passphrase::at_rest_warning(&g, &mut out)?;
            out.warn(groundwork_protocol::control::ONE_STEWARD_WARNING)?;
        }
        Command::Passphrase(cmd) => super::passphrase::run(data_dir()?, cmd, &mut out)?,
        Command::Member(super::MemberCmd::Import {
            file,
            template: true,
            ..
        }) => super::members::template(&file, &mut out)?,
        Command::Member(cmd) => {
            with_target(data_dir()?, |t| super::members::member(t, cmd, &mut out))?
        }
        Command::Constitution(cmd) => with_target(data_dir()?, |t| constitution(t, cmd, &mut out))?,
        Command::Plan(cmd) => with_target(data_dir()?, |t| plan(t, cmd, &mut out))?,
        Command::Meetup(cmd) => with_target(data_dir()?, |t| meetup(t, cmd, &mut out))?,
        Command::Epoch(EpochCmd::Start { document }) => {
            with_target(data_dir()?, |t| super::epochs::start(t, document, &mut out))?
        }
        Command::Device(DeviceCmd::List { json }) => {
            with_target(data_dir()?, |t| device_list(t, json.json, &mut out))?
        }
    }
    out.flush()?;
    Ok(())
}

/// Opens the group, runs a command on it, then does the store's housekeeping.
fn with_group_value<R>(dir: DataDir, f: impl FnOnce(&Group) -> Result<R>) -> Result<R> {
    let mut g = Group::open(&dir)?;
    let r = f(&g)?;
    g.maintain();
    Ok(r)
}

/// Runs a group command through the node running on `dir`, or on the group
/// opened here when none runs (then does the store's housekeeping).
fn with_target(dir: DataDir, f: impl FnOnce(&mut Target) -> Result<()>) -> Result<()> {
    let mut t = Target::open(dir)?;
    f(&mut t)?;
    t.finish();
    Ok(())
}

fn constitution(t: &mut Target, cmd: ConstitutionCmd, out: &mut Out) -> Result<()> {
    match cmd {
        ConstitutionCmd::Show { json } => {
            let c = constitution_text(t)?;
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
            let update = ConstitutionUpdate {
                text: Some(text),
                summary,
                adopted: None,
            };
            amend(t, update, out)?;
        }
        ConstitutionCmd::Edit { summary } => {
            let c = constitution_text(t)?;
            let edited = edit_in_editor(t.dir(), c.body.as_str())?;
            if edited.trim().is_empty() {
                bail!("the edited constitution is empty; nothing changed");
            }
            let update = ConstitutionUpdate {
                text: Some(edited),
                summary,
                adopted: None,
            };
            amend(t, update, out)?;
        }
        ConstitutionCmd::Adopt { date } => {
            let update = ConstitutionUpdate {
                text: None,
                summary: None,
                adopted: Some(date.unwrap_or_else(today)),
            };
            amend(t, update, out)?;
        }
    }
    Ok(())
}

fn constitution_text(t: &mut Target) -> Result<groundwork_protocol::schema::Constitution> {
    match t.send(Request::ConstitutionShow)? {
        Response::Constitution(c) => Ok(c),
        other => Err(unexpected(&other)),
    }
}

/// Amends the constitution and says which version it is now.
fn amend(t: &mut Target, update: ConstitutionUpdate, out: &mut Out) -> Result<()> {
    match t.send(Request::ConstitutionAmend { update })? {
        Response::Amended { version: Some(v) } => {
            out.line(format!("constitution is now version {v}"))?;
        }
        Response::Amended { version: None } => out.line("no changes")?,
        other => return Err(unexpected(&other)),
    }
    Ok(())
}

/// Opens `text` in $VISUAL or $EDITOR (default `vi`) and returns the result.
/// The file is in a private directory in the data directory, removed after.
fn edit_in_editor(dir: &DataDir, text: &str) -> Result<String> {
    groundwork_tui::editor::edit(Some(dir.root()), text).map_err(|e| anyhow!(e))
}

fn plan(t: &mut Target, cmd: PlanCmd, out: &mut Out) -> Result<()> {
    match cmd {
        PlanCmd::Show { json } => super::plan_edits::show(t, json.json, out)?,
        PlanCmd::Vision { text, file } => {
            let text = match (text, file) {
                (Some(t), _) => t,
                (None, Some(f)) => read_text(&f)?,
                (None, None) => bail!("give --text or --file"),
            };
            let changed = changed(t.send(Request::PlanVision { text })?)?;
            out.line(if changed {
                "vision updated"
            } else {
                "no changes"
            })?;
        }
        PlanCmd::Goal(GoalCmd::Add { text, quiet }) => {
            let id = created(t.send(Request::PlanGoalAdd { text })?)?;
            out.added(quiet, "goal", &id, None)?;
        }
        PlanCmd::Action(ActionCmd::Add {
            title,
            owner,
            due,
            quiet,
        }) => {
            let id = created(t.send(Request::PlanActionAdd { title, owner, due })?)?;
            out.added(quiet, "action", &id, None)?;
        }
        PlanCmd::Goal(cmd @ (GoalCmd::Edit { .. } | GoalCmd::Remove { .. })) => {
            super::plan_edits::goal(t, cmd, out)?;
        }
        PlanCmd::Action(cmd @ (ActionCmd::Edit { .. } | ActionCmd::Remove { .. })) => {
            super::plan_edits::action(t, cmd, out)?;
        }
        PlanCmd::Action(ActionCmd::Reopen { id }) => {
            let changed = changed(t.send(Request::PlanActionReopen { id: id.clone() })?)?;
            out.line(if changed {
                format!("action {id} is open again")
            } else {
                format!("action {id} was not done")
            })?;
        }
        PlanCmd::Action(ActionCmd::Done { id }) => {
            let changed = changed(t.send(Request::PlanActionDone { id: id.clone() })?)?;
            out.line(if changed {
                format!("action {id} done")
            } else {
                format!("action {id} was already done")
            })?;
        }
        PlanCmd::Conversations(ConversationsCmd::Add { count, themes }) => {
            let total = match t.send(Request::PlanConversationsAdd { count, themes })? {
                Response::Conversations { total } => total,
                other => return Err(unexpected(&other)),
            };
            out.line(format!(
                "recorded {count} conversation{}; {total} held in all",
                if count == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(())
}

/// The id in a `Created` answer.
fn created(r: Response) -> Result<groundwork_protocol::ShortId> {
    match r {
        Response::Created { id } => Ok(id),
        other => Err(unexpected(&other)),
    }
}

/// Whether a `Changed` answer says something changed.
fn changed(r: Response) -> Result<bool> {
    match r {
        Response::Changed { changed } => Ok(changed),
        other => Err(unexpected(&other)),
    }
}

/// Checks the answer is `Saved`.
fn saved(r: Response) -> Result<()> {
    match r {
        Response::Saved => Ok(()),
        other => Err(unexpected(&other)),
    }
}

fn meetup(t: &mut Target, cmd: MeetupCmd, out: &mut Out) -> Result<()> {
    match cmd {
        MeetupCmd::Add {
            date,
            place,
            agenda,
            attendance,
            quiet,
        } => {
            let input = MeetupInput {
                date,
                place,
                agenda,
                attendance,
            };
            let id = created(t.send(Request::MeetupAdd { input })?)?;
            out.added(quiet, "meet-up", &id, None)?;
        }
        MeetupCmd::List { json } => {
            let ms = match t.send(Request::MeetupList)? {
                Response::Meetups(ms) => ms,
                other => return Err(unexpected(&other)),
            };
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
            let m = match t.send(Request::MeetupShow { id })? {
                Response::Meetup(m) => m,
                other => return Err(unexpected(&other)),
            };
            if json.json {
                out.json(&m)?;
            } else {
                show_meetup(&m, out)?;
            }
        }
        MeetupCmd::Note { id, append, file } => {
            let req = match (append, file) {
                (Some(text), _) => Request::MeetupNoteAppend {
                    id: id.clone(),
                    text,
                },
                (None, Some(f)) => Request::MeetupNoteSet {
                    id: id.clone(),
                    text: read_text(&f)?,
                    base: None,
                },
                (None, None) => bail!("give --append or --file"),
            };
            saved(t.send(req)?)?;
            out.line(format!("notes of meet-up {id} saved"))?;
        }
        MeetupCmd::Attendance { id, count } => {
            saved(t.send(Request::MeetupAttendance {
                id: id.clone(),
                count,
            })?)?;
            out.line(format!("meet-up {id}: {count} came"))?;
        }
        MeetupCmd::Redact { text } => super::forget::redact_text(t, &text, out)?,
        cmd @ (MeetupCmd::Edit { .. } | MeetupCmd::Remove { .. }) => {
            super::plan_edits::meetup(t, cmd, out)?
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

fn device_list(t: &mut Target, json: bool, out: &mut Out) -> Result<()> {
    let rows: Vec<DeviceView> = match t.send(Request::DeviceList)? {
        Response::Devices(rows) => rows,
        other => return Err(unexpected(&other)),
    };
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
