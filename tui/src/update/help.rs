//! The help overlay's list of keys.

use super::*;

/// Every key of the current screen, for the help overlay: (keys, what they
/// do).
pub fn help(model: &Model) -> Vec<(&'static str, &'static str)> {
    let mut keys = vec![
        ("1 2 3 4", "Network, Group, Dashboard, Sync screens"),
        ("?", "this help (any of ? q Esc Enter closes it)"),
        ("q Esc", "back; quit from the network screen"),
        ("Ctrl-C", "quit (asks first about unsaved notes)"),
    ];
    let moves = (
        "↑↓ j k",
        "move; PgUp PgDn Ctrl-U Ctrl-D Home End g G, mouse wheel",
    );
    let own = model.target == Target::Own;
    match model.screen {
        Screen::Network => keys.extend([
            moves,
            (
                "/",
                "filter by name, area or kind (Enter keeps it, Esc clears it)",
            ),
            ("s", "sort by the next column"),
            ("S", "reverse the sort"),
            ("Enter → l", "open the group"),
        ]),
        Screen::Group => {
            keys.push(("Tab ← → h l", "previous or next tab"));
            match model.tab {
                Tab::Constitution => keys.push(("↑↓ j k PgUp PgDn", "scroll; mouse wheel")),
                Tab::Plan if own => keys.extend([
                    moves,
                    ("a", "add an action"),
                    ("d x Enter", "mark the selected action done"),
                    ("o", "open a done action again (undoes d)"),
                    ("e", "change the action: title, owner, due date"),
                    (
                        "Owner field",
                        "type part of a name; Ctrl-N/P mark one, Tab takes it",
                    ),
                    ("r", "remove the action (asks first)"),
                    ("v", "the goals: a add, e change, r remove (asks first)"),
                ]),
                Tab::Plan => keys.extend([moves, ("v", "the goals")]),
                Tab::Meetups => keys.extend([
                    ("↑↓ j k", "move; PgUp PgDn Ctrl-U Ctrl-D Home End g G"),
                    ("J K", "scroll the agenda and notes; mouse wheel"),
                    ("a", "add a meet-up"),
                    (
                        "e Enter",
                        "edit its notes here (Ctrl-S saves, Ctrl-Z undoes)",
                    ),
                    ("E", "edit its notes in $EDITOR"),
                    (
                        "c",
                        "change its date, place, how many came, a one-line agenda",
                    ),
                    ("r", "remove it with its agenda and notes (asks first)"),
                ]),
                Tab::Members => keys.extend([
                    moves,
                    ("/", "filter by name, kind or email"),
                    ("a", "add a member"),
                    (
                        "Enter → l",
                        "the member's record: e edit, r remove, f forget",
                    ),
                ]),
            }
        }
        Screen::Dashboard => keys.push(("↑↓ j k", "scroll the table by area")),
        Screen::Sync => {
            keys.extend([
                moves,
                ("Tab", "switch between requests, peers and documents"),
            ]);
            if !model.requests().is_empty() {
                keys.extend([
                    (
                        "a",
                        "accept the selected request to link (a steward device)",
                    ),
                    ("x", "refuse the selected request to link"),
                ]);
            }
        }
    }
    keys
}
