//! The arguments of the group's own documents: `constitution`, `plan`
//! (its vision, goals, actions and listening figures) and `meetup`. The
//! doc comments are the help text; `plan_edits` turns them into edits.

use std::path::PathBuf;

use clap::Subcommand;
use groundwork_protocol::{Date, ShortId};

use super::{Json, Quiet};

/// `constitution ...`
#[derive(Debug, Subcommand)]
pub enum ConstitutionCmd {
    /// Show the constitution
    Show {
        #[command(flatten)]
        json: Json,
    },
    /// Replace the text with a file's contents
    Set {
        /// A UTF-8 text file
        #[arg(long)]
        file: PathBuf,
        /// One line for the amendment log
        #[arg(long)]
        summary: Option<String>,
    },
    /// Edit the text in $VISUAL or $EDITOR
    Edit {
        /// One line for the amendment log
        #[arg(long)]
        summary: Option<String>,
    },
    /// Record the date the group adopted the constitution
    Adopt {
        /// The date [default: today]
        #[arg(long)]
        date: Option<Date>,
    },
}

/// `plan ...`
#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Show the plan
    Show {
        #[command(flatten)]
        json: Json,
    },
    /// Set the plan's vision
    Vision {
        /// The vision
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        text: Option<String>,
        /// Read the vision from a file
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Goals
    #[command(subcommand)]
    Goal(GoalCmd),
    /// Actions
    #[command(subcommand)]
    Action(ActionCmd),
    /// The listening campaign
    #[command(subcommand)]
    Conversations(ConversationsCmd),
}

/// `plan goal ...`
#[derive(Debug, Subcommand)]
pub enum GoalCmd {
    /// Add a goal
    Add {
        /// The goal
        text: String,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// Replace a goal's text
    Edit {
        /// The goal's id
        id: ShortId,
        /// The new text
        #[arg(long)]
        text: String,
        /// Also start a new epoch of the plan, so the old text is in no
        /// history (here, on linked groups and on the national node)
        #[arg(long)]
        erase: bool,
    },
    /// Remove a goal
    Remove {
        /// The goal's id
        id: ShortId,
        /// Also start a new epoch of the plan (see `edit --erase`)
        #[arg(long)]
        erase: bool,
    },
}

/// `plan action ...`
#[derive(Debug, Subcommand)]
pub enum ActionCmd {
    /// Add an action
    Add {
        /// What is to be done
        #[arg(long)]
        title: String,
        /// Who will do it: a member id, a name, or part of one only one member's name holds
        #[arg(long)]
        owner: Option<String>,
        /// When it is due
        #[arg(long)]
        due: Option<Date>,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// Mark an action done
    Done {
        /// The action's id
        id: ShortId,
    },
    /// Open a done action again (undoes `done`)
    Reopen {
        /// The action's id
        id: ShortId,
    },
    /// Change an action's title, due date or owner
    Edit {
        /// The action's id
        id: ShortId,
        /// A new title
        #[arg(long)]
        title: Option<String>,
        /// A new due date
        #[arg(long, conflicts_with = "no_due")]
        due: Option<Date>,
        /// Clear the due date
        #[arg(long)]
        no_due: bool,
        /// A new owner: a member id, a name, or part of one only one member's name holds
        #[arg(long, conflicts_with = "no_owner")]
        owner: Option<String>,
        /// Clear the owner
        #[arg(long)]
        no_owner: bool,
        /// Also start a new epoch of the plan, so the old text is in no
        /// history (here, on linked groups and on the national node)
        #[arg(long)]
        erase: bool,
    },
    /// Remove an action
    Remove {
        /// The action's id
        id: ShortId,
        /// Also start a new epoch of the plan (see `edit --erase`)
        #[arg(long)]
        erase: bool,
    },
}

/// `plan conversations ...`
#[derive(Debug, Subcommand)]
pub enum ConversationsCmd {
    /// Record listening conversations (one-to-ones) held
    Add {
        /// How many
        #[arg(value_parser = clap::value_parser!(u32).range(1..=100_000))]
        count: u32,
        /// A theme they raised, such as "buses" (repeat for several). Themes
        /// and their counts go into the group's summary, which every node of
        /// the network holds: name an issue, never a person or a street address
        #[arg(long = "theme")]
        themes: Vec<String>,
    },
}

/// `meetup ...`
#[derive(Debug, Subcommand)]
pub enum MeetupCmd {
    /// Add a meet-up
    Add {
        /// When, YYYY-MM-DD or DD/MM/YYYY
        #[arg(long)]
        date: Date,
        /// Where
        #[arg(long)]
        place: String,
        /// The agenda
        #[arg(long)]
        agenda: Option<String>,
        /// How many came
        #[arg(long)]
        attendance: Option<u64>,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// List meet-ups, newest first
    List {
        #[command(flatten)]
        json: Json,
    },
    /// Show a meet-up with its agenda and notes
    Show {
        /// The meet-up's id
        id: ShortId,
        #[command(flatten)]
        json: Json,
    },
    /// Add to a meet-up's notes, or replace them from a file
    Note {
        /// The meet-up's id
        id: ShortId,
        /// Text to append as a new paragraph
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        append: Option<String>,
        /// Replace the notes with this file's contents
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Record how many came
    Attendance {
        /// The meet-up's id
        id: ShortId,
        /// How many came
        count: u64,
    },
    /// Change a meet-up's date, place, agenda or attendance
    Edit {
        /// The meet-up's id
        id: ShortId,
        /// A new date, YYYY-MM-DD or DD/MM/YYYY
        #[arg(long)]
        date: Option<Date>,
        /// A new place
        #[arg(long)]
        place: Option<String>,
        /// A new agenda ("" clears it)
        #[arg(long)]
        agenda: Option<String>,
        /// How many came
        #[arg(long)]
        attendance: Option<u64>,
        /// Also start a new epoch of the meet-ups, so the old text is in no
        /// history (on this group's devices; meet-ups go nowhere else)
        #[arg(long)]
        erase: bool,
    },
    /// Remove a meet-up with its agenda and notes
    Remove {
        /// The meet-up's id
        id: ShortId,
        /// Also start a new epoch of the meet-ups (see `edit --erase`)
        #[arg(long)]
        erase: bool,
    },
    /// Replace a text (a name) with [redacted] in every meet-up's place,
    /// agenda, notes and actions, then start a new epoch of the meet-ups
    /// so the old text is in no history (a steward or organiser)
    Redact {
        /// The text, at least 3 characters; any case matches
        text: String,
    },
}
