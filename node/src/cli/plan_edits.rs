//! `plan goal edit|remove` and `plan action edit|remove`, with `--erase`:
//! a new epoch of the plan, so the old text is in no history.

use anyhow::Result;
use groundwork_protocol::DocKind;
use groundwork_protocol::control::{ActionPatch, Request, Response};

use super::output::Out;
use super::target::{Target, unexpected};
use super::{ActionCmd, GoalCmd};

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
        erase_plan(t, out)?;
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
        erase_plan(t, out)?;
    }
    Ok(())
}

/// Starts a new epoch of the plan and says who switches.
fn erase_plan(t: &mut Target, out: &mut Out) -> Result<()> {
    match t.send(Request::EpochStart {
        kind: DocKind::Plan,
    })? {
        Response::EpochStarted { epoch, .. } => {
            out.line(format!(
                "started plan epoch {epoch}: the old text is gone from this device's history, \
                 and from the group's other devices, linked groups and the national node as \
                 each syncs"
            ))?;
            super::epochs::switching(t, &[DocKind::Plan], out)
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
