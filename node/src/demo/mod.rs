//! `groundwork demo`: a sample network on this machine.
//!
//! Today it founds the sample groups, each in its own data directory, with
//! generated rosters, a constitution, a plan and meet-ups, and prints what
//! each holds. Linking them over iroh and reporting network-wide figures
//! come with the sync and network work.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use groundwork_protocol::schema::{MemberKind, Roster};

use crate::datadir::DataDir;
use crate::group::{Group, MeetupInput, today};

pub mod sample;

/// What the demo built for one group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoGroup {
    /// The group's name.
    pub name: String,
    /// Its area.
    pub area: String,
    /// Local organising group or social action hub.
    pub kind: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Members on the roster.
    pub members: usize,
    /// Members of each kind: professional, activist, observer.
    pub by_kind: [usize; 3],
    /// Whether it has 21 or more members.
    pub established: bool,
    /// Meet-ups held.
    pub meetups: usize,
    /// Members who attended at least one course.
    pub trained: usize,
}

/// Founds `groups` sample groups under `root`, calling `progress` after each.
pub fn build(
    root: &Path,
    groups: usize,
    mut progress: impl FnMut(&DemoGroup),
) -> Result<Vec<DemoGroup>> {
    let mut out = Vec::new();
    for (i, (name, area, kind)) in sample::SAMPLE_GROUPS
        .iter()
        .cycle()
        .take(groups)
        .enumerate()
    {
        let suffix = if i < sample::SAMPLE_GROUPS.len() {
            String::new()
        } else {
            format!(" {}", i / sample::SAMPLE_GROUPS.len() + 1)
        };
        let name = format!("{name}{suffix}");
        let slug: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = DataDir::new(root.join(slug));
        let seed = i as u64 + 1;
        let g = Group::found(&dir, &name, Some(area), *kind, today())
            .with_context(|| format!("founding {name}"))?;
        let rows = sample::members(seed, sample::roster_size(seed));
        g.import_members(&rows, today(), |_| {})?;
        let (vision, goals, actions) = sample::plan(area);
        g.set_vision(&vision)?;
        for goal in &goals {
            g.add_goal(goal)?;
        }
        for (title, due) in &actions {
            g.add_action(title, None, Some(*due))?;
        }
        g.add_conversations(
            10 + (seed as u32 * 7) % 40,
            &["buses".to_owned(), "housing".to_owned()],
        )?;
        for (date, place, agenda, notes, attendance) in sample::meetups(seed, area) {
            let id = g.add_meetup(&MeetupInput {
                date,
                place,
                agenda: Some(agenda),
                attendance: Some(attendance),
            })?;
            g.append_meetup_note(&id, &notes)?;
        }
        let roster: Roster = g.read()?;
        let count = |k: MemberKind| roster.members.values().filter(|m| m.kind == k).count();
        let summary = DemoGroup {
            name,
            area: (*area).to_owned(),
            kind: kind.to_string(),
            data_dir: dir.root().to_owned(),
            members: roster.members.len(),
            by_kind: [
                count(MemberKind::Professional),
                count(MemberKind::Activist),
                count(MemberKind::Observer),
            ],
            established: roster.members.len() >= 21,
            meetups: g.meetups()?.len(),
            trained: roster
                .members
                .values()
                .filter(|m| !m.courses.is_empty())
                .count(),
        };
        progress(&summary);
        out.push(summary);
    }
    Ok(out)
}
