//! `plan show`, and `plan goal edit|remove`, `plan action edit|remove` and
//! `meetup edit|remove`, with `--erase`: a new epoch of the document, so the
//! old text is in no history.

use anyhow::Result;
use groundwork_protocol::DocKind;
use groundwork_protocol::control::{ActionPatch, MeetupPatch, Request, Response};

use super::output::Out;
use super::target::{Target, unexpected};
use super::{ActionCmd, GoalCmd, MeetupCmd};

/// `plan goal edit|remove`.
pub(super) fn goal(t: &mut Target, cmd: GoalCmd, out: &mut Out) -> Result<()> {
    let (req, id, erase, verb) = match cmd {
        GoalCmd::Edit { id, text, erase } => (
            Request::PlanGoalEdit {
                id: id.clone(),
                text,
            },
            id,
            erase,
            "changed",
        ),
        GoalCmd::Remove { id, erase } => (
            Request::PlanGoalRemove { id: id.clone() },
            id,
            erase,
            "removed",
        ),
        GoalCmd::Add { .. } => anyhow::bail!("plan goal add is not an edit"),
    };
    let changed = changed(t.send(req)?)?;
    out.line(if changed {
        format!("goal {id} {verb}")
    } else {
        format!("goal {id} already says that")
    })?;
    if erase {
        new_epoch(t, DocKind::Plan, out)?;
    }
    Ok(())
}

/// `plan action edit|remove`.
pub(super) fn action(t: &mut Target, cmd: ActionCmd, out: &mut Out) -> Result<()> {
    let (req, id, erase, verb) = match cmd {
        ActionCmd::Edit {
            id,
            title,
            due,
            no_due,
            owner,
            no_owner,
            erase,
        } => (
            Request::PlanActionEdit {
                id: id.clone(),
                patch: ActionPatch {
                    title,
                    due,
                    clear_due: no_due,
                    owner,
                    clear_owner: no_owner,
                },
            },
            id,
            erase,
            "changed",
        ),
        ActionCmd::Remove { id, erase } => (
            Request::PlanActionRemove { id: id.clone() },
            id,
            erase,
            "removed",
        ),
        ActionCmd::Add { .. } | ActionCmd::Done { .. } | ActionCmd::Reopen { .. } => {
            anyhow::bail!("plan action add, done and reopen are not edits")
        }
    };
    let changed = changed(t.send(req)?)?;
    out.line(if changed {
        format!("action {id} {verb}")
    } else {
        format!("action {id} unchanged")
    })?;
    if erase {
        new_epoch(t, DocKind::Plan, out)?;
    }
    Ok(())
}

/// `meetup edit|remove`.
pub(super) fn meetup(t: &mut Target, cmd: MeetupCmd, out: &mut Out) -> Result<()> {
    let (req, id, erase_after) = match cmd {
        MeetupCmd::Edit {
            id,
            date,
            place,
            agenda,
            attendance,
            erase,
        } => {
            let patch = MeetupPatch {
                date,
                place,
                agenda,
                attendance,
            };
            if patch.is_empty() {
                return Err(super::target::Answered {
                    code: groundwork_protocol::control::ErrorCode::Usage,
                    message: "nothing to change: give --date, --place, --agenda or --attendance"
                        .into(),
                }
                .into());
            }
            (
                Request::MeetupEdit {
                    id: id.clone(),
                    patch,
                },
                id,
                erase,
            )
        }
        MeetupCmd::Remove { id, erase } => (Request::MeetupRemove { id: id.clone() }, id, erase),
        _ => anyhow::bail!("only meetup edit and remove are edits"),
    };
    let removing = matches!(req, Request::MeetupRemove { .. });
    let changed = changed(t.send(req)?)?;
    out.line(match (removing, changed) {
        (true, _) => format!("meet-up {id} removed"),
        (false, true) => format!("meet-up {id} changed"),
        (false, false) => format!("meet-up {id} unchanged"),
    })?;
    if erase_after {
        new_epoch(t, DocKind::Meetups, out)?;
    }
    Ok(())
}

/// Starts a new epoch of `kind` and says who switches.
fn new_epoch(t: &mut Target, kind: DocKind, out: &mut Out) -> Result<()> {
    match t.send(Request::EpochStart { kind })? {
        Response::EpochStarted { epoch, .. } => {
            let (what, who) = match kind {
                DocKind::Meetups => ("meet-ups", "the group's other devices"),
                _ => (
                    "plan",
                    "the group's other devices, linked groups and the national node",
                ),
            };
            out.line(format!(
                "started {what} epoch {epoch}: the old text is gone from this device's history, \
                 and from {who} as each syncs"
            ))?;
            super::epochs::switching(t, &[kind], out)
        }
        other => Err(unexpected(&other)),
    }
}

fn changed(r: Response) -> Result<bool> {
    match r {
        Response::Changed { changed } => Ok(changed),
        other => Err(unexpected(&other)),
    }
}

/// `plan show`: the vision, goals, actions (open ones past due flagged)
/// and the listening campaign.
pub(super) fn show(t: &mut Target, json: bool, out: &mut Out) -> Result<()> {
    let v = match t.send(Request::PlanShow)? {
        Response::Plan(v) => v,
        other => return Err(unexpected(&other)),
    };
    if json {
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
        let today = crate::group::today();
        let overdue = |a: &groundwork_protocol::schema::Action| {
            a.status == groundwork_protocol::schema::ActionStatus::Open
                && a.due.is_some_and(|d| d < today)
        };
        let rows: Vec<Vec<String>> = v
            .plan
            .actions
            .iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    if overdue(a) {
                        "OVERDUE".to_owned()
                    } else {
                        a.status.to_string()
                    },
                    a.due.map_or_else(|| "-".into(), |d| d.to_string()),
                    v.owners
                        .get(a.id.as_str())
                        .map_or_else(|| "-".into(), |o| o.name.clone()),
                    a.title.clone(),
                ]
            })
            .collect();
        out.table(&["ID", "STATUS", "DUE", "OWNER", "TITLE"], &rows)?;
        let late = v.plan.actions.iter().filter(|a| overdue(a)).count();
        if late > 0 {
            out.line(format!(
                "{} past {} due date (when done: `groundwork plan action done ID`)",
                super::output::count(late, "open action"),
                if late == 1 { "its" } else { "their" }
            ))?;
        }
    }
    out.line("")?;
    let l = &v.plan.listening;
    let themes = if l.themes.is_empty() {
        String::new()
    } else {
        let shown: Vec<String> = l
            .themes
            .iter()
            .map(|t| match l.theme_conversations.get(&t.to_lowercase()) {
                Some(c) if c.value() > 0 => format!("{t} ({})", c.value()),
                _ => t.clone(),
            })
            .collect();
        format!("; themes: {}", shown.join(", "))
    };
    out.line(format!(
        "Listening campaign: {} conversations held{themes}",
        l.conversations_held.value()
    ))?;
    Ok(())
}
