//! `groundwork demo`: a sample network on this machine.
//!
//! [`build`] founds the national body and the sample groups, each in its own
//! data directory, with generated rosters, a constitution, a plan and
//! meet-ups. [`network`] runs them all as nodes in one process, on loopback,
//! affiliated and linked over iroh.

use std::path::{Path, PathBuf};

pub use error::{DemoError, DemoResult};

use crate::datadir::DataDir;
use crate::group::{Group, MeetupInput, today};

mod error;
pub mod network;
pub mod sample;

/// The national body's directory under the demo root.
pub const NATIONAL_DIR: &str = "national";

/// The file under the demo root that lists its groups' directories, so a
/// demo given `--data-dir` can be run again on the same data.
pub const MANIFEST: &str = "demo.json";

/// Founds the national body under `root`.
pub fn found_national(root: &Path) -> DemoResult<DataDir> {
    let dir = DataDir::new(root.join(NATIONAL_DIR));
    Group::found(
        &dir,
        sample::NATIONAL_NAME,
        Some("England"),
        crate::group::GroupKind::National,
        today(),
    )
    .map_err(|source| DemoError::Group {
        doing: "founding the national body".into(),
        source,
    })?;
    Ok(dir)
}

/// Writes the manifest: the group directories, relative to `root`.
pub fn write_manifest(root: &Path, groups: &[DemoGroup]) -> DemoResult<()> {
    let dirs: Vec<String> = groups
        .iter()
        .filter_map(|g| g.data_dir.strip_prefix(root).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let path = root.join(MANIFEST);
    let bytes = serde_json::to_vec_pretty(&dirs).map_err(|source| DemoError::Manifest {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&path, bytes).map_err(|source| DemoError::Io {
        doing: format!("writing {}", path.display()),
        source,
    })
}

/// Reads the manifest of an earlier demo in `root`: `None` if there is none.
pub fn read_manifest(root: &Path) -> DemoResult<Option<Vec<DataDir>>> {
    let path = root.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(DemoError::Io {
                doing: format!("reading {}", path.display()),
                source,
            });
        }
    };
    let dirs: Vec<String> =
        serde_json::from_slice(&bytes).map_err(|source| DemoError::Manifest {
            path: path.clone(),
            source,
        })?;
    if dirs
        .iter()
        .any(|d| d.contains("..") || Path::new(d).is_absolute())
    {
        return Err(DemoError::Outside(path));
    }
    Ok(Some(
        dirs.iter().map(|d| DataDir::new(root.join(d))).collect(),
    ))
}

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
    /// Active members on the roster.
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
) -> DemoResult<Vec<DemoGroup>> {
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
        let g = Group::found(&dir, &name, Some(area), *kind, today()).map_err(|source| {
            DemoError::Group {
                doing: format!("founding {name}"),
                source,
            }
        })?;
        let rows = sample::members(seed, sample::roster_size(seed), today());
        g.import_members(&rows, false, today(), |_| {})?;
        let (vision, goals, actions) = sample::plan(area, today());
        g.set_vision(&vision)?;
        for goal in &goals {
            g.add_goal(goal)?;
        }
        for (title, due) in &actions {
            g.add_action(title, None, Some(*due))?;
        }
        g.amend_constitution(
            &groundwork_protocol::control::ConstitutionUpdate {
                adopted: Some(sample::adopted(seed, today())),
                ..Default::default()
            },
            today(),
        )?;
        for (count, themes) in sample::conversations(seed) {
            g.add_conversations(count, &themes)?;
        }
        for (date, place, agenda, notes, attendance) in sample::meetups(seed, area, today()) {
            let id = g.add_meetup(&MeetupInput {
                date,
                place,
                agenda: Some(agenda),
                attendance: Some(attendance),
            })?;
            g.append_meetup_note(&id, &notes)?;
        }
        // The same figures the group's node publishes.
        // Exact: the demo's own listing stays on this machine.
        let figures = crate::group::exact_figures(&g, today())?;
        let summary = DemoGroup {
            name,
            area: (*area).to_owned(),
            kind: kind.to_string(),
            data_dir: dir.root().to_owned(),
            members: figures.members as usize,
            by_kind: figures.by_kind.map(|n| n as usize),
            established: figures.established(),
            meetups: g.meetups()?.len(),
            trained: figures.trained as usize,
        };
        progress(&summary);
        out.push(summary);
    }
    Ok(out)
}
