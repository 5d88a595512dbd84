//! The `groundwork` command line: arguments (clap derive; the doc comments
//! are the help text), dispatch, and output.
//!
//! Errors: a usage error (unknown flag, malformed value) exits 2; any other
//! failure exits 1. Either way the user sees one line naming the problem.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::group::GroupKind;
use groundwork_protocol::schema::{Course, LawfulBasis, MemberKind, MemberStatus};
use groundwork_protocol::{Date, ShortId};

mod backup;
mod commands;
mod demo;
mod epochs;
mod files;
mod forget;
mod members;
mod network;
pub(crate) mod output;
mod passphrase;
mod plan_args;
mod plan_edits;
mod target;
mod tui;

pub use commands::run;
pub use plan_args::{ActionCmd, ConstitutionCmd, ConversationsCmd, GoalCmd, MeetupCmd, PlanCmd};

/// The exit status for a failed command: 2 for a usage mistake (a value
/// the group refuses, as clap's own are; a damaged ticket or invite; text
/// no field takes), else 1.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    use groundwork_protocol::control::ErrorCode;
    let usage = e.chain().any(|c| {
        c.downcast_ref::<crate::group::GroupError>()
            .is_some_and(|g| g.code() == ErrorCode::Usage)
            || c.downcast_ref::<target::Answered>()
                .is_some_and(|a| a.code == ErrorCode::Usage)
            // A damaged ticket, link ticket or invite is a usage mistake.
            || c.downcast_ref::<crate::net::NetError>()
                .is_some_and(|n| n.code() == ErrorCode::Usage)
            || c.downcast_ref::<groundwork_protocol::invite::InviteParseError>()
                .is_some()
            // Text the user gave (a device label) that no field takes.
            || c.downcast_ref::<groundwork_protocol::text::TextRejected>()
                .is_some()
    });
    if usage { 2 } else { 1 }
}

/// Groundwork: a peer-to-peer member network for community organising.
///
/// Each Local Organising Group keeps its constitution, organising plan,
/// meet-up notes and roster on its own devices.
#[derive(Debug, Parser)]
#[command(name = "groundwork", version, max_term_width = 100)]
pub struct Cli {
    /// The data directory [default: the platform's data directory, e.g. ~/.local/share/groundwork]
    #[arg(long, global = true, env = "GROUNDWORK_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Turn off relays and public address lookup (loopback and LAN only)
    #[arg(
        long,
        global = true,
        env = "GROUNDWORK_OFFLINE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub offline: bool,
    /// Read the data directory's passphrase from this file (mode 0600)
    /// instead of asking on the terminal; for `init`, `join`, `national
    /// init` and `passphrase set`, the new passphrase [default: the systemd
    /// credential `groundwork-passphrase` if $CREDENTIALS_DIRECTORY has it]
    #[arg(
        long,
        global = true,
        env = "GROUNDWORK_PASSPHRASE_FILE",
        value_name = "FILE"
    )]
    pub passphrase_file: Option<PathBuf>,
    /// What to do
    #[command(subcommand)]
    pub command: Command,
    /// Whether `--data-dir` was on the command line, not only in
    /// $GROUNDWORK_DIR: the demo keeps to a temporary directory unless it was.
    #[arg(skip)]
    pub data_dir_on_command_line: bool,
}

impl Cli {
    /// Parses the command line (`args` starts with the program's name).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::parser::ValueSource;
        use clap::{CommandFactory, FromArgMatches};
        let matches = Self::command().try_get_matches_from(args)?;
        let mut cli = Self::from_arg_matches(&matches)?;
        // A global flag may come after the subcommand: look at every level.
        let mut level = Some(&matches);
        while let Some(m) = level {
            if m.value_source("data_dir") == Some(ValueSource::CommandLine) {
                cli.data_dir_on_command_line = true;
            }
            level = m.subcommand().map(|(_, sub)| sub);
        }
        Ok(cli)
    }
}

/// What sort of group `init` founds (the national body is founded with
/// `national init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InitKind {
    /// A Local Organising Group.
    LocalOrganisingGroup,
    /// A Social Action Hub.
    SocialActionHub,
}

impl From<InitKind> for GroupKind {
    fn from(k: InitKind) -> GroupKind {
        match k {
            InitKind::LocalOrganisingGroup => GroupKind::LocalOrganisingGroup,
            InitKind::SocialActionHub => GroupKind::SocialActionHub,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Found a group on this device
    Init {
        /// The group's name
        #[arg(long)]
        name: String,
        /// The area it organises in
        #[arg(long)]
        area: Option<String>,
        /// What sort of group it is
        #[arg(long, value_enum, default_value_t = InitKind::LocalOrganisingGroup)]
        kind: InitKind,
    },
    /// The roster: add, list, show, edit, remove, import and export members
    #[command(subcommand)]
    Member(MemberCmd),
    /// The group's constitution
    #[command(subcommand)]
    Constitution(ConstitutionCmd),
    /// The Local Organising Plan
    #[command(subcommand)]
    Plan(PlanCmd),
    /// Meet-ups and their notes
    #[command(subcommand)]
    Meetup(MeetupCmd),
    /// The group's devices
    #[command(subcommand)]
    Device(DeviceCmd),
    /// A document's epochs (see `groundwork status`)
    #[command(subcommand)]
    Epoch(EpochCmd),
    /// Run the node in the foreground; prints `ticket: <TICKET>` when ready
    Up {
        /// Where to listen, e.g. 127.0.0.1:0 [default: 0.0.0.0:0]
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Print this node's ticket (the running node's, or the last `up`'s):
    /// bare when stdout is not a terminal, so `peer add "$(groundwork
    /// ticket)"` works
    Ticket {
        /// Print the ticket alone, even on a terminal
        #[arg(long)]
        bare: bool,
    },
    /// Protect this device's keys and the group's personal data with a
    /// passphrase (with the node stopped)
    #[command(subcommand)]
    Passphrase(PassphraseCmd),
    /// Write one encrypted backup of the group's documents and group key
    /// (never this device's key), with the node stopped
    Backup {
        /// The archive to write (mode 0600; replaced whole)
        file: PathBuf,
        /// Protect it with the passphrase in this file [default: this
        /// data directory's passphrase]
        #[arg(long, value_name = "FILE")]
        backup_passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into a new data directory, as a new device that
    /// must be admitted again (`join INVITE` there)
    Restore {
        /// The archive `groundwork backup` wrote
        file: PathBuf,
    },
    /// Print a one-time invite for a new device of this group
    Invite {
        /// The role the new device gets
        #[arg(long, default_value = "member")]
        role: groundwork_protocol::schema::Role,
        /// How long the invite lasts, in hours
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
        hours: u64,
    },
    /// Join a group with an invite (on a fresh data directory), then sync
    Join {
        /// The invite text from `groundwork invite`
        invite: String,
        /// A name for this device that other devices see
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Link with other groups' nodes
    #[command(subcommand)]
    Peer(PeerCmd),
    /// On a steward device: a one-time link code, printed as a link ticket
    /// to give another group's steward (their `peer add` then links at once)
    LinkCode {
        /// How long the code lasts, in hours
        #[arg(long, default_value_t = 24 * 7, value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
        hours: u64,
    },
    /// The national body
    #[command(subcommand)]
    National(NationalCmd),
    /// The directory of groups this node knows: name, area, members, established, affiliation
    Network {
        #[command(flatten)]
        json: Json,
    },
    /// The network's figures as the national body publishes them: members, trained by course, conversations, meet-ups, groups formed, themes, growth, areas
    Report {
        #[command(flatten)]
        json: Json,
        /// Output format (`--json` is `--format json`)
        #[arg(long, value_enum)]
        format: Option<crate::report_out::Format>,
        /// Write the report to this file instead of printing it
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// On the national node: affiliate the group behind a ticket
    Affiliate {
        /// The group node's ticket (from its `groundwork ticket`)
        ticket: String,
    },
    /// This node, its peers and the sync state of each document
    Status {
        #[command(flatten)]
        json: Json,
    },
    /// Run a sample network on this machine: the national node and N groups on loopback, affiliated, linked and syncing
    Demo {
        /// How many groups
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=500))]
        groups: u16,
        /// Print the national report once the network has converged, then stop and exit
        #[arg(long)]
        headless: bool,
    },
    /// Browse the network, this group's documents and the national dashboard in a terminal UI (starts this device's node if none is running)
    Tui,
    /// Print a shell's completion script, e.g. `groundwork completions bash
    /// > ~/.local/share/bash-completion/completions/groundwork`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `groundwork man | man -l -`; with
    /// --dir, write one page for each command into DIR
    Man {
        /// Write groundwork.1 and a page for each command here
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Print as JSON instead of text.
#[derive(Debug, Args, Clone, Copy)]
pub struct Json {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--quiet` on the commands that add something.
#[derive(Debug, Args, Clone, Copy)]
pub struct Quiet {
    /// Print only the new id, for scripts: ID=$(groundwork ... --quiet)
    #[arg(short, long)]
    pub quiet: bool,
}

/// Member fields, shared by `member add` and `member edit`.
#[derive(Debug, Args, Clone, Default)]
pub struct MemberFields {
    /// Email address (checked by the group, so an error never echoes it)
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number (checked by the group, so an error never echoes it)
    #[arg(long)]
    pub phone: Option<String>,
    /// professional, activist or observer [add's default: activist]
    #[arg(long)]
    pub kind: Option<MemberKind>,
    /// When they joined, YYYY-MM-DD or DD/MM/YYYY [add's default: today]
    #[arg(long)]
    pub joined: Option<Date>,
    /// active or lapsed
    #[arg(long)]
    pub status: Option<MemberStatus>,
    /// When they agreed to the Principles of Practice
    #[arg(long, value_name = "DATE")]
    pub principles: Option<Date>,
    /// A course attended, by title or slug (repeat for several)
    #[arg(long = "course", value_name = "COURSE", value_parser = parse_course)]
    pub courses: Vec<Course>,
    /// When they attended their first course [default: the day it is first recorded]
    #[arg(long, value_name = "DATE")]
    pub trained: Option<Date>,
    /// Whether they agreed to be contacted
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub consent: Option<bool>,
    /// consent, legitimate-interests or contract
    #[arg(long)]
    pub lawful_basis: Option<LawfulBasis>,
    /// When consent was given
    #[arg(long, value_name = "DATE")]
    pub consent_date: Option<Date>,
}

fn parse_course(s: &str) -> Result<Course, String> {
    Course::parse_known(s).ok_or_else(|| {
        format!(
            "not a known course; known: {}",
            Course::KNOWN
                .iter()
                .map(Course::slug)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(t.to_owned())
    }
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "yes" | "y" | "true" => Ok(true),
        "no" | "n" | "false" => Ok(false),
        _ => Err("expected yes or no".into()),
    }
}

/// `member ...`
#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add a member
    Add {
        /// Full name
        #[arg(long, value_parser = non_empty)]
        name: String,
        #[command(flatten)]
        fields: MemberFields,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// List members
    List {
        /// Only members of this kind
        #[arg(long)]
        kind: Option<MemberKind>,
        #[command(flatten)]
        json: Json,
    },
    /// Show one member, with contact details where this device may read them
    Show {
        /// The member's id
        id: ShortId,
        #[command(flatten)]
        json: Json,
    },
    /// Change a member's details (courses given are added)
    Edit {
        /// The member's id
        id: ShortId,
        /// Full name
        #[arg(long, value_parser = non_empty)]
        name: Option<String>,
        #[command(flatten)]
        fields: MemberFields,
    },
    /// Remove a member and their contact details
    Remove {
        /// The member's id
        id: ShortId,
    },
    /// Forget a member for good: remove them and erase them from the
    /// history of the roster and contacts, here and on every device as it
    /// syncs (an erasure request)
    Forget {
        /// The member's id (one removed earlier may be forgotten too)
        id: ShortId,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Also redact their name from meet-ups (a new epoch of the meet-ups)
        #[arg(long)]
        redact_notes: bool,
    },
    /// Import members from a CSV file (all or nothing)
    Import {
        /// The CSV file
        file: PathBuf,
        /// Import the valid rows and list the invalid ones
        #[arg(long)]
        skip_invalid: bool,
        /// Also apply rows that match a member already on the roster but
        /// give other data (a phone, a joined date, a course), as `member
        /// edit` would; without it they are listed and left alone
        #[arg(long, conflicts_with = "template")]
        update: bool,
        /// Write FILE as a spreadsheet to fill in instead: the header row
        /// and two example rows (it refuses to overwrite a file)
        #[arg(long, conflicts_with = "skip_invalid")]
        template: bool,
    },
    /// Export the roster as CSV, to FILE or standard output
    Export {
        /// Where to write (mode 0600: it holds personal data)
        file: Option<PathBuf>,
    },
}

/// `device ...`
#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// List the group's devices, their roles and whether they are revoked
    List {
        #[command(flatten)]
        json: Json,
    },
    /// Revoke a device: every device that learns of it refuses it from then on
    Revoke {
        /// The device id (or enough of its start to be unambiguous)
        id: String,
    },
    /// On a restored backup holding the group key, when the group's only
    /// steward device is lost: make this device a steward by the group
    /// key, and show the group's devices its card (with the node stopped)
    Recover {
        /// A name for this device that other devices see
        #[arg(long, default_value = "")]
        label: String,
    },
}

/// `epoch ...`
#[derive(Debug, Subcommand)]
pub enum EpochCmd {
    /// Start a document again from its current state: its earlier history
    /// is dropped on every device as it syncs. It trims a long history, and
    /// heals a document forked by a device that signed two histories
    Start {
        /// constitution, plan, meetups, roster, contacts or devices
        #[arg(value_parser = doc_kind)]
        document: groundwork_protocol::DocKind,
    },
}

fn doc_kind(s: &str) -> Result<groundwork_protocol::DocKind, String> {
    groundwork_protocol::DocKind::ALL
        .into_iter()
        .find(|k| k.name() == s.trim().to_lowercase())
        .ok_or_else(|| {
            format!(
                "no document called {s}: constitution, plan, meetups, roster, contacts or devices"
            )
        })
}

/// `national ...`
#[derive(Debug, Subcommand)]
pub enum NationalCmd {
    /// Found the national body on this device (the network id is its key)
    Init {
        /// The national body's name
        #[arg(long, value_parser = non_empty)]
        name: String,
    },
}

/// `passphrase ...`
#[derive(Debug, Subcommand)]
pub enum PassphraseCmd {
    /// Give this data directory a passphrase (the new one from
    /// --passphrase-file, or typed twice); run it again to finish one cut off
    Set,
    /// Change the passphrase (the old one from --passphrase-file or typed)
    Change {
        /// Read the new passphrase from this file (mode 0600) instead of asking
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Take the passphrase away: keys and data in the clear again
    Remove,
}

/// `peer ...`
#[derive(Debug, Subcommand)]
pub enum PeerCmd {
    /// Link with another group's node (or the national node): with a link
    /// ticket its steward gave you (`groundwork link-code`) the groups are
    /// linked at once; with its plain ticket, its steward is asked to accept
    Add {
        /// A link ticket (gwlink…), or the other node's ticket (`groundwork ticket`)
        ticket: String,
    },
    /// The peers this node knows: the group's devices, linked groups, and
    /// groups asked to link
    List {
        #[command(flatten)]
        json: Json,
    },
    /// Requests to link waiting for this group's steward
    Requests {
        #[command(flatten)]
        json: Json,
    },
    /// Accept a waiting request: the groups are linked
    Accept {
        /// The requesting group's id or device id (or a start of either), from `peer requests`
        id: String,
    },
    /// Refuse a waiting request
    Refuse {
        /// The requesting group's id or device id (or a start of either), from `peer requests`
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Cli;

    #[test]
    fn data_dir_counts_as_given_only_when_it_is_on_the_command_line() {
        for args in [
            &["groundwork", "--data-dir", "/tmp/x", "demo"][..],
            &["groundwork", "demo", "--data-dir", "/tmp/x", "--headless"][..],
        ] {
            let cli = Cli::try_parse_args(args).expect("parses");
            assert!(cli.data_dir_on_command_line, "{args:?}");
            assert_eq!(
                cli.data_dir.as_deref(),
                Some(std::path::Path::new("/tmp/x"))
            );
        }
        // Whatever $GROUNDWORK_DIR holds, it is not the command line.
        let cli = Cli::try_parse_args(["groundwork", "demo"]).expect("parses");
        assert!(!cli.data_dir_on_command_line);
    }
}
