//! Key handling and live updates, without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use groundwork_protocol::control::{ErrorCode, Event};
use groundwork_protocol::schema::Role;
use groundwork_protocol::{DocKind, ShortId};

use super::*;
use crate::fake::{self, FakeNode, Sample};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

use crate::fake::run;

struct Ui {
    m: Model,
    node: FakeNode,
}

impl Ui {
    fn new(sample: Sample) -> Ui {
        let (m, node) = fake::loaded(&sample, (80, 24));
        Ui { m, node }
    }

    fn steward() -> Ui {
        Ui::new(Sample::new(12, 40, Role::Steward))
    }

    /// Sends one message; returns the commands before running them.
    fn send(&mut self, msg: Msg) -> Vec<Cmd> {
        update(&mut self.m, msg)
    }

    /// Types `keys` (`\n` Enter, `\t` Tab, `\x1b` Esc) and runs what they ask.
    fn keys(&mut self, keys: &str) -> Vec<Edit> {
        let mut edits = Vec::new();
        for c in keys.chars() {
            let code = match c {
                '\n' => KeyCode::Enter,
                '\t' => KeyCode::Tab,
                '\x1b' => KeyCode::Esc,
                c => KeyCode::Char(c),
            };
            let cmds = self.send(key(code));
            edits.extend(run(&mut self.m, &self.node, cmds));
        }
        edits
    }

    fn selected_group(&self) -> String {
        self.m
            .network_entry(self.m.network_pos.selected)
            .map(|e| e.name.clone())
            .unwrap_or_default()
    }
}

#[test]
fn number_keys_switch_screens_and_q_goes_back_then_quits() {
    let mut ui = Ui::steward();
    assert_eq!(ui.m.screen, Screen::Network);
    for (k, s) in [
        ('3', Screen::Dashboard),
        ('4', Screen::Sync),
        ('2', Screen::Group),
    ] {
        ui.keys(&k.to_string());
        assert_eq!(ui.m.screen, s);
    }
    ui.keys("q");
    assert_eq!(ui.m.screen, Screen::Network);
    assert!(!ui.m.quit);
    ui.keys("\x1b");
    assert!(ui.m.quit, "Esc on the network screen quits");
    let mut ui = Ui::steward();
    ui.send(ctrl('c'));
    assert!(ui.m.quit, "Ctrl-C quits from anywhere");
}

#[test]
fn vim_and_arrow_keys_move_within_bounds() {
    let mut ui = Ui::steward();
    let n = ui.m.network_rows.len();
    assert_eq!(n, 12);
    ui.keys("k");
    assert_eq!(ui.m.network_pos.selected, 0, "not above the top");
    ui.keys("jj");
    ui.send(key(KeyCode::Down));
    assert_eq!(ui.m.network_pos.selected, 3);
    ui.send(key(KeyCode::Up));
    assert_eq!(ui.m.network_pos.selected, 2);
    ui.keys("G");
    assert_eq!(ui.m.network_pos.selected, n - 1);
    ui.keys("j");
    assert_eq!(ui.m.network_pos.selected, n - 1, "not below the bottom");
    ui.keys("g");
    assert_eq!(ui.m.network_pos.selected, 0);
    ui.send(key(KeyCode::PageDown));
    assert_eq!(
        ui.m.network_pos.selected,
        n - 1,
        "a page is longer than 12 rows"
    );
}

#[test]
fn a_long_list_scrolls_to_keep_the_selection_visible() {
    let mut ui = Ui::new(Sample::new(100, 5, Role::Steward));
    let page = ui.m.page(Screen::Network);
    ui.keys(&"j".repeat(page + 5));
    let pos = ui.m.network_pos;
    assert_eq!(pos.selected, page + 5);
    assert_eq!(pos.offset, 6, "scrolled the least that shows the selection");
    ui.keys("k");
    assert_eq!(
        ui.m.network_pos.offset, 6,
        "moving up inside the view does not scroll"
    );
}

#[test]
fn mouse_wheel_moves_the_selection() {
    let mut ui = Ui::steward();
    let wheel = |kind| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 10,
            row: 5,
            modifiers: KeyModifiers::NONE,
        })
    };
    ui.send(wheel(MouseEventKind::ScrollDown));
    assert_eq!(ui.m.network_pos.selected, 3);
    ui.send(wheel(MouseEventKind::ScrollUp));
    assert_eq!(ui.m.network_pos.selected, 0);
}

#[test]
fn slash_filters_the_directory_and_esc_clears_it() {
    let mut ui = Ui::steward();
    ui.keys("/bris");
    assert!(ui.m.filtering);
    assert_eq!(ui.m.network_rows.len(), 2);
    ui.keys("\n");
    assert!(
        !ui.m.filtering,
        "Enter keeps the filter and leaves the input"
    );
    assert_eq!(ui.m.network_rows.len(), 2);
    // Keys are commands again: j moves rather than typing.
    ui.keys("j");
    assert_eq!(ui.m.network_filter, "bris");
    assert_eq!(ui.m.network_pos.selected, 1);
    ui.keys("q");
    assert!(!ui.m.quit, "q clears the filter first");
    assert_eq!(ui.m.network_rows.len(), 12);
    ui.keys("/zzz");
    assert!(ui.m.network_rows.is_empty());
    ui.keys("\x1b");
    assert_eq!(ui.m.network_rows.len(), 12);
}

#[test]
fn sorting_keeps_the_selected_group_selected() {
    let mut ui = Ui::steward();
    ui.keys("jjj");
    let before = ui.selected_group();
    ui.keys("sss");
    assert_eq!(ui.m.sort, (SortKey::Members, false));
    assert_eq!(ui.selected_group(), before);
    ui.keys("S");
    assert_eq!(ui.m.sort, (SortKey::Members, true));
    assert_eq!(ui.selected_group(), before);
    // Descending by members: the first row has the most.
    let count = |c: Option<u64>| c.unwrap_or(0);
    let first = count(ui.m.network_entry(0).and_then(|e| e.members));
    let dir = ui.m.directory.ready().expect("loaded");
    assert!(dir.iter().all(|e| count(e.members) <= first));
    assert!(first > 0);
}

#[test]
fn enter_opens_another_group_with_only_what_it_shares() {
    let mut ui = Ui::steward();
    assert_eq!(ui.selected_group(), "ACORN Bristol");
    let cmds = ui.send(key(KeyCode::Enter));
    let bristol = fake::key(1);
    assert_eq!(cmds, vec![Cmd::Load(Data::Shared(bristol))]);
    run(&mut ui.m, &ui.node, cmds);
    assert_eq!(ui.m.target, Target::Other(bristol));
    assert_eq!(ui.m.tabs(), vec![Tab::Constitution, Tab::Plan]);
    assert!(ui.m.shared.ready().is_some_and(|s| s.plan.is_some()));
    // Editing another group's plan is refused here, with a message.
    ui.keys("la");
    assert!(ui.m.overlay.is_none());
    assert!(matches!(&ui.m.flash, Some((Level::Error, t)) if t.contains("ACORN Bristol")));
    ui.keys("q");
    assert_eq!((ui.m.screen, ui.m.target), (Screen::Network, Target::Own));
    // Its own group opens as its own.
    ui.keys("jjj\n");
    assert_eq!(ui.m.target, Target::Own);
    assert_eq!(ui.m.tabs().len(), 4);
}

#[test]
fn tab_and_h_l_cycle_the_group_tabs() {
    let mut ui = Ui::steward();
    ui.keys("2");
    let mut seen = vec![ui.m.tab];
    for _ in 0..4 {
        ui.keys("\t");
        seen.push(ui.m.tab);
    }
    assert_eq!(
        seen,
        vec![
            Tab::Constitution,
            Tab::Plan,
            Tab::Meetups,
            Tab::Members,
            Tab::Constitution
        ]
    );
    ui.keys("h");
    assert_eq!(ui.m.tab, Tab::Members);
    ui.send(key(KeyCode::BackTab));
    assert_eq!(ui.m.tab, Tab::Meetups);
}

#[test]
fn adding_a_plan_action_validates_then_saves() {
    let mut ui = Ui::steward();
    ui.keys("2la");
    assert!(matches!(
        ui.m.overlay,
        Some(Overlay::Form(FormKind::Action, _))
    ));
    // No title: refused in the form, nothing sent.
    assert!(ui.keys("\n").is_empty());
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the form stays open")
    };
    assert_eq!(f.error.as_deref(), Some("an action needs a title"));
    // A bad date is named.
    assert!(ui.keys("Fix the gate\t\tnext week\n").is_empty());
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the form stays open")
    };
    assert!(f.error.as_deref().is_some_and(|e| e.contains("next week")));
    // Clear the date field and save.
    ui.send(ctrl('u'));
    let edits = ui.keys("2026-04-01\n");
    assert_eq!(
        edits,
        vec![Edit::AddAction {
            title: "Fix the gate".into(),
            owner: None,
            due: "2026-04-01".parse().ok(),
        }]
    );
    assert!(ui.m.overlay.is_none(), "closed once stored");
    let actions = plan_actions(&ui.m);
    assert!(
        actions.iter().any(|a| a.title == "Fix the gate"),
        "reloaded"
    );
}

#[test]
fn marking_an_action_done() {
    let mut ui = Ui::steward();
    ui.keys("2l");
    // The first action is already done: nothing is sent.
    assert!(ui.keys("d").is_empty());
    assert!(matches!(&ui.m.flash, Some((Level::Info, t)) if t.contains("already done")));
    let edits = ui.keys("jx");
    let id = plan_actions(&ui.m)[1].id.clone();
    assert_eq!(edits, vec![Edit::ActionDone(id)]);
    assert_eq!(plan_actions(&ui.m)[1].status, ActionStatus::Done);
    assert_eq!(ui.m.action_pos.selected, 1, "selection kept after reload");
}

#[test]
fn o_reopens_a_done_action_and_leaves_an_open_one_alone() {
    let mut ui = Ui::steward();
    ui.keys("2l");
    // Mark the second action done by mistake, then undo it with o.
    let edits = ui.keys("jd");
    let id = plan_actions(&ui.m)[1].id.clone();
    assert_eq!(edits, vec![Edit::ActionDone(id.clone())]);
    assert!(
        matches!(&ui.m.flash, Some((_, t)) if t.contains("o reopens")),
        "{:?}",
        ui.m.flash
    );
    let edits = ui.keys("o");
    assert_eq!(edits, vec![Edit::ActionReopen(id)]);
    let a = &plan_actions(&ui.m)[1];
    assert_eq!((a.status, a.done_on), (ActionStatus::Open, None));
    // On an open action, o sends nothing and says why.
    assert!(ui.keys("o").is_empty());
    assert!(matches!(&ui.m.flash, Some((Level::Info, t)) if t.contains("still open")));
}

#[test]
fn a_member_device_cannot_reopen_an_action() {
    let mut ui = Ui::new(Sample::new(12, 40, Role::Member));
    ui.keys("2l");
    // The first action is done; a member device may not change the plan.
    assert_eq!(plan_actions(&ui.m)[0].status, ActionStatus::Done);
    ui.keys("o");
    // The node refuses it, and the status line says so.
    assert!(
        ui.m.flash.as_ref().is_some_and(|(l, _)| *l == Level::Error),
        "{:?}",
        ui.m.flash
    );
    assert_eq!(
        plan_actions(&ui.m)[0].status,
        ActionStatus::Done,
        "nothing changed"
    );
}

#[test]
fn a_member_device_is_refused_and_nothing_changes() {
    let mut ui = Ui::new(Sample::new(12, 40, Role::Member));
    let before = plan_actions(&ui.m).to_vec();
    ui.keys("2laNew thing\n");
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the form stays open with the reason")
    };
    assert!(!f.saving);
    assert_eq!(
        f.error.as_deref(),
        Some("refused: this device is a member; a member device may not edit the plan")
    );
    assert!(matches!(&ui.m.flash, Some((Level::Error, _))));
    assert_eq!(plan_actions(&ui.m), before.as_slice());
    assert_eq!(ui.node.edits.lock().map(|e| e.len()).unwrap_or(99), 0);
    // Esc closes it.
    ui.keys("\x1b");
    assert!(ui.m.overlay.is_none());
}

#[test]
fn adding_a_meetup_and_editing_its_notes_with_undo() {
    let mut ui = Ui::steward();
    ui.keys("2lla");
    let edits = ui.keys("\tCommunity centre\tFirst steps\n");
    assert_eq!(edits.len(), 1);
    let Edit::AddMeetup(input) = &edits[0] else {
        panic!("a meet-up: {edits:?}")
    };
    assert_eq!(input.date, fake::today(), "the date defaults to today");
    assert_eq!(input.agenda.as_deref(), Some("First steps"));
    let list = ui.m.meetups.ready().expect("reloaded");
    assert_eq!(list.len(), 4);

    // Select the new meet-up (today: second newest) and edit its notes.
    let i = list
        .iter()
        .position(|m| m.place == "Community centre")
        .expect("listed");
    ui.keys(&"j".repeat(i));
    ui.keys("e");
    assert!(matches!(ui.m.overlay, Some(Overlay::Notes(_))));
    ui.keys("Twelve came.");
    ui.send(key(KeyCode::Enter));
    ui.keys("Agreed the plan");
    // Ctrl-Z undoes the last word typed.
    ui.send(ctrl('z'));
    let Some(Overlay::Notes(n)) = &ui.m.overlay else {
        panic!("still editing")
    };
    assert_eq!(n.area.text(), "Twelve came.\nAgreed the ");
    let cmds = ui.send(ctrl('s'));
    let id = ui.m.meetups.ready().expect("list")[i].id.clone();
    assert_eq!(
        cmds,
        vec![Cmd::Edit(Edit::SetNotes {
            id: id.clone(),
            base: String::new(),
            text: "Twelve came.\nAgreed the ".into()
        })]
    );
    run(&mut ui.m, &ui.node, cmds);
    assert!(ui.m.overlay.is_none());
    let m = &ui.m.meetups.ready().expect("list")[i];
    assert_eq!(
        (m.id.clone(), m.notes.as_str()),
        (id, "Twelve came.\nAgreed the ")
    );
}

#[test]
fn esc_in_the_notes_editor_asks_before_discarding() {
    let mut ui = Ui::steward();
    ui.keys("2lle");
    // Unchanged: Esc just closes.
    ui.keys("\x1b");
    assert!(ui.m.overlay.is_none());
    ui.keys("eabc\x1b");
    let Some(Overlay::Notes(n)) = &ui.m.overlay else {
        panic!("asks first")
    };
    assert!(n.confirm_discard);
    // Any key but y goes back to editing, text kept.
    ui.keys("n");
    let Some(Overlay::Notes(n)) = &ui.m.overlay else {
        panic!("still editing")
    };
    assert!(!n.confirm_discard);
    assert!(n.area.text().ends_with("abc"));
    ui.keys("\x1by");
    assert!(ui.m.overlay.is_none());
    assert!(ui.node.edits.lock().map(|e| e.is_empty()).unwrap_or(false));
}

#[test]
fn capital_e_opens_the_notes_in_the_editor() {
    let mut ui = Ui::steward();
    ui.keys("2llj");
    let m = ui.m.meetups.ready().expect("list")[1].clone();
    let cmds = ui.send(key(KeyCode::Char('E')));
    assert_eq!(
        cmds,
        vec![Cmd::OpenEditor {
            id: m.id.clone(),
            text: m.notes.as_str().to_string()
        }]
    );
    // What the editor gives back is saved; an unchanged file is not.
    let base = m.notes.as_str().to_string();
    let cmds = ui.send(Msg::EditorClosed {
        id: m.id.clone(),
        base: base.clone(),
        result: Ok(Some("new".into())),
    });
    assert_eq!(
        cmds,
        vec![Cmd::Edit(Edit::SetNotes {
            id: m.id.clone(),
            base: base.clone(),
            text: "new".into()
        })]
    );
    assert!(
        ui.send(Msg::EditorClosed {
            id: m.id.clone(),
            base: base.clone(),
            result: Ok(None)
        })
        .is_empty()
    );
    // A save that fails does not lose what was written in the editor: it
    // opens here with the reason, unsaved, for Ctrl-S to try again.
    let edit = Edit::SetNotes {
        id: m.id.clone(),
        base: base.clone(),
        text: "written in vim".into(),
    };
    ui.send(Msg::Edited(
        edit,
        Err(NodeError::Unreachable("connection refused".into())),
    ));
    let Some(Overlay::Notes(n)) = &ui.m.overlay else {
        panic!("reopened: {:?}", ui.m.overlay)
    };
    assert_eq!(n.area.text(), "written in vim");
    assert_eq!(n.base, base);
    assert!(n.unsaved());
    assert!(
        n.error
            .as_deref()
            .is_some_and(|e| e.contains("connection refused"))
    );
}

#[test]
fn adding_a_member_chooses_the_kind_from_a_list() {
    let mut ui = Ui::steward();
    ui.keys("2llla");
    ui.keys("Grace Hopper\t");
    // The kind cannot be typed as free text: "pilot" moves through the
    // letters that start a kind (p, then o) and lands on observer.
    ui.send(ctrl('u'));
    assert!(ui.keys("pilot").is_empty());
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("still open")
    };
    assert_eq!(f.value("Kind"), "observer");
    ui.send(key(KeyCode::Left));
    ui.send(key(KeyCode::Right));
    // Consent is a list too: y picks yes.
    let edits = ui.keys("\tgrace@example.org\t\ty\n");
    let [Edit::AddMember(input)] = edits.as_slice() else {
        panic!("one member: {edits:?}")
    };
    assert_eq!(input.name.as_deref(), Some("Grace Hopper"));
    assert_eq!(input.kind, Some(MemberKind::Observer));
    assert_eq!(input.email.as_deref(), Some("grace@example.org"));
    assert_eq!(input.consent_to_contact, Some(true));
    assert!(
        ui.m.members
            .ready()
            .expect("list")
            .iter()
            .any(|m| m.member.name == "Grace Hopper")
    );
}

#[test]
fn a_change_from_a_peer_reloads_and_keeps_the_place() {
    let mut ui = Ui::steward();
    ui.keys("2lll");
    ui.keys(&"j".repeat(20));
    let chosen = ui.m.member(20).map(|m| m.id.clone()).expect("member 20");
    let offset = ui.m.member_pos.offset;
    // A peer adds a member who sorts first.
    ui.node.from_peer(DocKind::Roster, |s| {
        let mut first = s.members[0].clone();
        first.id = ShortId::from_entropy(424_242);
        first.member.name = "Aaron Aardvark".into();
        s.members.insert(0, first);
    });
    let own = fake::key(0);
    let cmds = ui.send(Msg::Node(Event::DocChanged {
        group: own,
        kind: DocKind::Roster,
    }));
    assert!(cmds.contains(&Cmd::Load(Data::Members)));
    run(&mut ui.m, &ui.node, cmds);
    assert_eq!(ui.m.members.ready().map(Vec::len), Some(41));
    assert_eq!(
        ui.m.member(ui.m.member_pos.selected).map(|m| m.id.clone()),
        Some(chosen),
        "the same member is still selected"
    );
    assert_eq!(ui.m.member_pos.selected, 21);
    assert_eq!(
        ui.m.member_pos.offset,
        offset.max(21 + 1 - ui.m.page(Screen::Group))
    );
    assert_eq!(ui.m.tab, Tab::Members, "still on the same tab");
}

#[test]
fn events_ask_for_what_they_change() {
    let mut ui = Ui::steward();
    let own = fake::key(0);
    let other = fake::key(5);
    let loads = |cmds: Vec<Cmd>| -> Vec<Data> {
        cmds.into_iter()
            .filter_map(|c| match c {
                Cmd::Load(d) => Some(d),
                _ => None,
            })
            .collect()
    };
    let got = loads(ui.send(Msg::Node(Event::DocChanged {
        group: own,
        kind: DocKind::Meetups,
    })));
    assert_eq!(got, vec![Data::Status, Data::Meetups]);
    // Another group's document matters only while its screen is open.
    let got = loads(ui.send(Msg::Node(Event::DocChanged {
        group: other,
        kind: DocKind::Plan,
    })));
    assert_eq!(got, vec![Data::Status]);
    let got = loads(ui.send(Msg::Node(Event::RecordReceived {
        group: other,
        what: "summary".into(),
    })));
    assert_eq!(got, vec![Data::Status, Data::Directory, Data::Report]);
    let got = loads(ui.send(Msg::Node(Event::Lagged { missed: 3 })));
    assert_eq!(got.len(), 8, "everything again");
    let got = loads(ui.send(Msg::Node(Event::RecordReceived {
        group: other,
        what: "link request".into(),
    })));
    assert!(got.contains(&Data::LinkRequests), "{got:?}");
    let got = loads(ui.send(Msg::Tick {
        today: fake::today(),
        now: fake::now() + 1,
    }));
    assert_eq!(got, vec![Data::Status]);
    assert_eq!(ui.m.now, fake::now() + 1);
}

#[test]
fn an_unreachable_node_keeps_the_last_status_and_says_so() {
    let mut ui = Ui::steward();
    ui.send(Msg::Loaded(
        Data::Status,
        Err(NodeError::Unreachable("connection refused".into())),
    ));
    assert!(ui.m.status.ready().is_some(), "last status kept");
    assert_eq!(ui.m.node_error.as_deref(), Some("connection refused"));
    let cmds = ui.send(Msg::Tick {
        today: fake::today(),
        now: fake::now(),
    });
    run(&mut ui.m, &ui.node, cmds);
    assert_eq!(ui.m.node_error, None, "cleared when it answers again");
}

#[test]
fn help_lists_the_keys_of_the_current_screen() {
    let mut ui = Ui::steward();
    ui.keys("?");
    assert_eq!(ui.m.overlay, Some(Overlay::Help));
    assert!(help(&ui.m).iter().any(|(k, _)| *k == "/"));
    ui.keys("?");
    assert!(ui.m.overlay.is_none());
    ui.keys("2ll");
    let keys: Vec<&str> = help(&ui.m).into_iter().map(|(k, _)| k).collect();
    for k in ["a", "e Enter", "E", "J K"] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    // Keys under an overlay do nothing else: q closes help, not the screen.
    ui.keys("?q");
    assert_eq!(ui.m.screen, Screen::Group);
}

#[test]
fn resize_changes_the_page() {
    let mut ui = Ui::steward();
    let small = ui.m.page(Screen::Network);
    ui.send(Msg::Resize(160, 48));
    assert_eq!(ui.m.page(Screen::Network), small + 24);
}

#[test]
fn saving_notes_keeps_a_peers_change_made_meanwhile() {
    let mut ui = Ui::steward();
    ui.keys("2llj");
    let id = ui.m.meetups.ready().expect("list")[1].id.clone();
    ui.keys("e");
    // A peer adds a line while the editor is open.
    ui.node.from_peer(DocKind::Meetups, |s| {
        if let Some(m) = s.meetups.iter_mut().find(|m| m.id == id) {
            let with = format!("{}\nFrom the other laptop.", m.notes.as_str());
            m.notes = autosurgeon::Text::with_value(with);
        }
    });
    let cmds = ui.send(Msg::Node(Event::DocChanged {
        group: fake::key(0),
        kind: DocKind::Meetups,
    }));
    run(&mut ui.m, &ui.node, cmds);
    assert!(
        matches!(ui.m.overlay, Some(Overlay::Notes(_))),
        "the reload leaves the editor open"
    );
    ui.send(Msg::Key(KeyEvent::new(
        KeyCode::Home,
        KeyModifiers::CONTROL,
    )));
    ui.keys("Edited: ");
    let cmds = ui.send(ctrl('s'));
    run(&mut ui.m, &ui.node, cmds);
    let notes = ui.m.meetups.ready().expect("list")[1]
        .notes
        .as_str()
        .to_string();
    assert!(notes.starts_with("Edited: Twelve came."), "{notes}");
    assert!(
        notes.ends_with("From the other laptop."),
        "the peer's line is kept: {notes}"
    );
}

#[test]
fn an_edits_answer_does_not_close_a_form_opened_since() {
    let mut ui = Ui::steward();
    ui.keys("2lj");
    // `d` sends an edit; before its answer the user opens a new form.
    let cmds = ui.send(key(KeyCode::Char('d')));
    let [Cmd::Edit(done)] = cmds.as_slice() else {
        panic!("one edit: {cmds:?}")
    };
    let done = done.clone();
    ui.keys("aHalf typed");
    ui.send(Msg::Edited(done.clone(), Ok("action done".into())));
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the new form is still open")
    };
    assert_eq!(f.value("Title"), "Half typed");
    // A refusal of the earlier edit is not shown as the new form's error.
    ui.send(Msg::Edited(
        done,
        Err(NodeError::refused(ErrorCode::Forbidden, "no")),
    ));
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("still open")
    };
    assert_eq!((f.error.as_ref(), f.saving), (None, false));
}

#[test]
fn an_unreachable_node_keeps_what_is_shown_and_where_the_user_is() {
    let mut ui = Ui::steward();
    ui.keys("jjj");
    let chosen = ui.selected_group();
    for d in [
        Data::Directory,
        Data::Members,
        Data::Plan,
        Data::Meetups,
        Data::Report,
    ] {
        ui.send(Msg::Loaded(d, Err(NodeError::Unreachable("gone".into()))));
    }
    assert_eq!(ui.selected_group(), chosen);
    assert!(ui.m.members.ready().is_some() && ui.m.plan.ready().is_some());
    assert_eq!(ui.m.node_error.as_deref(), Some("gone"));
    // A refusal is shown as such (the node answered).
    ui.send(Msg::Loaded(
        Data::Members,
        Err(NodeError::refused(ErrorCode::Forbidden, "no roster")),
    ));
    assert!(matches!(ui.m.members, Loaded::Failed(_)));
}

#[test]
fn ctrl_c_asks_before_losing_unsaved_notes() {
    let mut ui = Ui::steward();
    ui.keys("2llea");
    ui.send(ctrl('c'));
    assert!(!ui.m.quit);
    let Some(Overlay::Notes(n)) = &ui.m.overlay else {
        panic!("still editing")
    };
    assert!(n.confirm_discard);
    ui.keys("y");
    assert!(ui.m.quit);
}

#[test]
fn the_plan_selection_stays_inside_the_plan_shown() {
    let mut ui = Ui::steward();
    ui.keys("2lG");
    assert_eq!(
        ui.m.action_pos.selected, 3,
        "the last of this group's four actions"
    );
    // Another group's plan has one action: the selection follows it.
    ui.keys("1g\n");
    assert_eq!(plan_actions(&ui.m).len(), 1);
    assert_eq!(ui.m.action_pos.selected, 0);
    ui.keys("q2");
    assert_eq!(ui.m.target, Target::Own);
    assert_eq!(ui.m.action_pos.selected, 0);
}

#[test]
fn a_status_change_re_sorts_by_link_and_ends_a_filter_on_a_closed_tab() {
    let mut ui = Ui::steward();
    // Sort by link: this group first, then connected groups.
    ui.keys("ssssss");
    assert_eq!(ui.m.sort.0, SortKey::Link);
    let first_linked = |m: &Model| m.network_entry(1).map(|e| e.name.clone());
    assert_eq!(first_linked(&ui.m).as_deref(), Some("ACORN Bristol"));
    // Bristol's device disconnects and the Latin American Parents'
    // connects: they change places.
    let mut status = ui.m.status.ready().expect("status").clone();
    for p in &mut status.peers {
        p.connected = p.group == Some(fake::key(2));
    }
    ui.send(Msg::Loaded(
        Data::Status,
        Ok(Payload::Status(Box::new(status.clone()))),
    ));
    assert_eq!(
        first_linked(&ui.m).as_deref(),
        Some("Latin American Parents Association")
    );
    // Typing a roster filter when the device loses its role: the tab
    // closes and keys are commands again.
    ui.keys("2lll/ab");
    assert!(ui.m.filtering);
    status.role = None;
    ui.send(Msg::Loaded(
        Data::Status,
        Ok(Payload::Status(Box::new(status))),
    ));
    assert_eq!(ui.m.tab, Tab::Constitution);
    assert!(!ui.m.filtering);
}

fn with_requests(role: Role) -> Sample {
    use groundwork_protocol::control::LinkRequestView;
    let mut s = Sample::new(12, 40, role);
    let key = |n: u8| groundwork_protocol::SecretKey::from_seed(&[n; 32]).public();
    s.requests = vec![
        LinkRequestView {
            group: key(70),
            name: "Rotherfed".into(),
            area: Some("Rotherham".into()),
            kind: groundwork_protocol::card::GroupKind::SocialActionHub,
            device: key(71),
            at: fake::now() - 2 * 3600,
        },
        LinkRequestView {
            group: key(72),
            name: "Grapevine".into(),
            area: None,
            kind: groundwork_protocol::card::GroupKind::LocalOrganisingGroup,
            device: key(73),
            at: fake::now() - 3600,
        },
    ];
    s
}

#[test]
fn a_steward_accepts_and_refuses_requests_to_link_on_the_sync_screen() {
    let mut ui = Ui::new(with_requests(Role::Steward));
    ui.keys("4");
    assert_eq!(
        ui.m.sync_panes(),
        vec![SyncPane::Requests, SyncPane::Peers, SyncPane::Documents]
    );
    // Tab cycles through the three panes (peers, documents, requests).
    ui.keys("\t\t");
    assert_eq!(ui.m.sync_pane, SyncPane::Requests);
    ui.keys("\t");
    assert_eq!(ui.m.sync_pane, SyncPane::Peers);
    ui.keys("\t\t");
    // `a` accepts the selected (first) request; `x` refuses the next.
    let edits = ui.keys("a");
    assert!(
        matches!(edits.as_slice(), [Edit::AcceptLink(_)]),
        "{edits:?}"
    );
    assert_eq!(ui.m.requests().len(), 1, "reloaded after the edit");
    assert_eq!(ui.m.requests()[0].name, "Grapevine");
    let edits = ui.keys("x");
    assert!(
        matches!(edits.as_slice(), [Edit::RefuseLink(_)]),
        "{edits:?}"
    );
    assert!(ui.m.requests().is_empty());
    assert_eq!(
        ui.m.sync_pane,
        SyncPane::Peers,
        "the pane went with the last request"
    );
    assert_eq!(
        ui.node.edits.lock().expect("edits").len(),
        2,
        "two answers made"
    );
    // The keys are listed in help while requests wait.
    let ui2 = Ui::new(with_requests(Role::Steward));
    let mut m = ui2.m;
    m.screen = Screen::Sync;
    assert!(help(&m).iter().any(|(k, _)| *k == "a"));
}

#[test]
fn a_member_device_cannot_accept_a_request_and_nothing_changes() {
    let mut ui = Ui::new(with_requests(Role::Member));
    ui.keys("4\t\t");
    assert_eq!(ui.m.sync_pane, SyncPane::Requests);
    ui.keys("a");
    assert_eq!(ui.m.requests().len(), 2);
    let flash = ui.m.flash.clone().expect("a message");
    assert!(flash.1.contains("may not"), "{flash:?}");
}

#[test]
fn a_refused_edit_is_handled_by_its_code() {
    let mut ui = Ui::steward();
    ui.keys("2lj");
    let cmds = ui.send(key(KeyCode::Char('d')));
    let [Cmd::Edit(done)] = cmds.as_slice() else {
        panic!("one edit: {cmds:?}")
    };
    let done = done.clone();
    // Forbidden: told, nothing reloaded (what is shown is still true).
    let after = ui.send(Msg::Edited(
        done.clone(),
        Err(NodeError::refused(ErrorCode::Forbidden, "no")),
    ));
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(
        ui.m.flash.as_ref().map(|(_, m)| m.as_str()),
        Some("refused: no")
    );
    // Not found: the action is gone (another device removed it), so what
    // is shown is loaded again.
    let after = ui.send(Msg::Edited(
        done.clone(),
        Err(NodeError::refused(ErrorCode::NotFound, "no action")),
    ));
    assert!(
        after.iter().any(|c| matches!(c, Cmd::Load(Data::Plan))),
        "{after:?}"
    );
    // Unavailable: said as such, not as a refusal.
    ui.send(Msg::Edited(
        done,
        Err(NodeError::refused(ErrorCode::Unavailable, "stopping")),
    ));
    assert_eq!(
        ui.m.flash.as_ref().map(|(_, m)| m.as_str()),
        Some("node unavailable: stopping")
    );
}

#[test]
fn a_node_that_cannot_serve_now_keeps_what_is_shown() {
    let mut ui = Ui::steward();
    assert!(ui.m.members.ready().is_some());
    ui.send(Msg::Loaded(
        Data::Members,
        Err(NodeError::refused(
            ErrorCode::Unavailable,
            "the node is stopping",
        )),
    ));
    assert!(ui.m.members.ready().is_some(), "kept");
    assert_eq!(ui.m.node_error.as_deref(), Some("the node is stopping"));
}

fn selected_member(ui: &Ui) -> MemberView {
    ui.m.member(ui.m.member_pos.selected)
        .expect("a member")
        .clone()
}

#[test]
fn the_member_record_edits_removes_and_forgets_after_asking() {
    let mut ui = Ui::steward();
    ui.keys("2lllj");
    let m = selected_member(&ui);
    ui.keys("\n");
    assert_eq!(ui.m.overlay, Some(Overlay::Member(m.id.clone())));

    // e: a form filled with the record; the changed name is sent.
    ui.keys("e");
    let Some(Overlay::Form(FormKind::EditMember(id), f)) = &ui.m.overlay else {
        panic!("the edit form: {:?}", ui.m.overlay)
    };
    assert_eq!(id, &m.id);
    assert_eq!(f.value("Name"), m.member.name);
    assert_eq!(f.value("Kind"), m.member.kind.name());
    ui.send(ctrl('u'));
    let edits = ui.keys("Renamed Person\n");
    let [Edit::EditMember { id, patch }] = edits.as_slice() else {
        panic!("one edit: {edits:?}")
    };
    assert_eq!((id, patch.name.as_deref()), (&m.id, Some("Renamed Person")));
    assert!(ui.m.overlay.is_none(), "closed once stored");
    let names = |ui: &Ui| -> Vec<String> {
        ui.m.members
            .ready()
            .expect("list")
            .iter()
            .map(|m| m.member.name.clone())
            .collect()
    };
    assert!(names(&ui).contains(&"Renamed Person".to_owned()));

    // r asks first; n changes nothing.
    let before = names(&ui);
    ui.keys("\nr");
    assert!(matches!(
        &ui.m.overlay,
        Some(Overlay::Confirm {
            edit: Edit::RemoveMember(_),
            ..
        })
    ));
    assert!(ui.keys("n").is_empty());
    assert_eq!(names(&ui), before);
    assert!(ui.m.overlay.is_none());

    // r then y removes the member shown.
    let shown = selected_member(&ui);
    let edits = ui.keys("\nry");
    assert_eq!(edits, vec![Edit::RemoveMember(shown.id.clone())]);
    assert!(
        !ui.m
            .members
            .ready()
            .expect("list")
            .iter()
            .any(|m| m.id == shown.id)
    );

    // f then y forgets the next one.
    let next = selected_member(&ui);
    let edits = ui.keys("\nfy");
    assert_eq!(edits, vec![Edit::ForgetMember(next.id.clone())]);
    assert!(
        !ui.m
            .members
            .ready()
            .expect("list")
            .iter()
            .any(|m| m.id == next.id)
    );
}

#[test]
fn a_member_device_sees_the_record_but_its_edit_is_refused() {
    let mut ui = Ui::new(Sample::new(12, 40, Role::Member));
    assert!(
        ui.m.tabs().contains(&Tab::Members),
        "a member device sees the roster"
    );
    ui.keys("2lll");
    let m = selected_member(&ui);
    ui.keys("\ne");
    ui.send(ctrl('u'));
    ui.keys("Someone Else\n");
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the form stays open with the reason: {:?}", ui.m.overlay)
    };
    assert!(f.error.is_some(), "{f:?}");
    let still =
        ui.m.members
            .ready()
            .expect("list")
            .iter()
            .find(|x| x.id == m.id)
            .cloned();
    assert_eq!(still.map(|x| x.member.name), Some(m.member.name));
}

#[test]
fn an_action_is_changed_in_a_filled_form_and_removed_after_asking() {
    let mut ui = Ui::steward();
    ui.keys("2lj");
    let a = plan_actions(&ui.m)[1].clone();
    ui.keys("e");
    let Some(Overlay::Form(FormKind::EditAction(id), f)) = &ui.m.overlay else {
        panic!("the edit form: {:?}", ui.m.overlay)
    };
    assert_eq!(id, &a.id);
    assert_eq!(f.value("Title"), a.title);
    // A new title, and the due date cleared.
    ui.send(ctrl('u'));
    ui.keys("Ring the council");
    ui.keys("\t\t");
    ui.send(ctrl('u'));
    let edits = ui.keys("\n");
    let [Edit::EditAction { id, patch }] = edits.as_slice() else {
        panic!("one edit: {edits:?}")
    };
    assert_eq!(id, &a.id);
    assert_eq!(patch.title.as_deref(), Some("Ring the council"));
    assert!(patch.clear_due && patch.due.is_none(), "{patch:?}");
    let now = plan_actions(&ui.m)
        .iter()
        .find(|x| x.id == a.id)
        .cloned()
        .expect("still there");
    assert_eq!((now.title.as_str(), now.due), ("Ring the council", None));

    // r asks; n keeps it; r then y removes it.
    ui.keys("r");
    assert!(matches!(
        &ui.m.overlay,
        Some(Overlay::Confirm {
            edit: Edit::RemoveAction(_),
            ..
        })
    ));
    assert!(ui.keys("n").is_empty());
    assert!(plan_actions(&ui.m).iter().any(|x| x.id == a.id));
    let edits = ui.keys("ry");
    assert_eq!(edits, vec![Edit::RemoveAction(a.id.clone())]);
    assert!(!plan_actions(&ui.m).iter().any(|x| x.id == a.id));

    // A bad date in the form is refused there, and nothing is sent.
    ui.keys("e\t\t");
    ui.send(ctrl('u'));
    assert!(ui.keys("31/31/2026\n").is_empty());
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("still open")
    };
    assert!(
        f.error.as_deref().is_some_and(|e| e.contains("due date")),
        "{f:?}"
    );
}

#[test]
fn a_meetup_is_changed_in_a_filled_form_and_removed_after_asking() {
    let mut ui = Ui::steward();
    ui.keys("2ll");
    assert_eq!(ui.m.tab, Tab::Meetups);
    let list = ui.m.meetups.ready().expect("meet-ups").clone();
    let m = list[0].clone();
    ui.keys("c");
    let Some(Overlay::Form(FormKind::EditMeetup(id), f)) = &ui.m.overlay else {
        panic!("the change form: {:?}", ui.m.overlay)
    };
    assert_eq!(id, &m.id);
    assert_eq!(
        (f.value("Date"), f.value("Place"), f.value("Came")),
        (m.date.to_string().as_str(), m.place.as_str(), "0")
    );
    assert_eq!(f.value("Agenda"), m.agenda.as_str(), "a one-line agenda");
    // A new place and how many came.
    ui.keys("\t");
    ui.send(ctrl('u'));
    ui.keys("The big hall\t");
    ui.send(ctrl('u'));
    let edits = ui.keys("31\n");
    let [Edit::EditMeetup { id, patch }] = edits.as_slice() else {
        panic!("one edit: {edits:?}")
    };
    assert_eq!(id, &m.id);
    assert_eq!(
        (patch.place.as_deref(), patch.attendance),
        (Some("The big hall"), Some(31))
    );
    assert_eq!(patch.agenda.as_deref(), Some(m.agenda.as_str()));
    assert!(ui.m.overlay.is_none(), "closed once stored");
    let now = ui.m.meetups.ready().expect("meet-ups")[0].clone();
    assert_eq!((now.place.as_str(), now.attendance), ("The big hall", 31));

    // A word where a number belongs is refused in the form; nothing is sent.
    ui.keys("c\t\t");
    ui.send(ctrl('u'));
    assert!(ui.keys("lots\n").is_empty());
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("still open")
    };
    assert!(
        f.error
            .as_deref()
            .is_some_and(|e| e.contains("how many came")),
        "{f:?}"
    );
    ui.keys("\x1b");

    // An agenda of several lines is not in the form (one line would join
    // its lines), and the change leaves it as it is.
    ui.keys("j");
    let multi = ui.m.meetups.ready().expect("meet-ups")[1].clone();
    assert!(multi.agenda.as_str().contains('\n'), "the sample's second");
    ui.keys("c");
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the change form")
    };
    assert!(!f.fields.iter().any(|f| f.label == "Agenda"), "{f:?}");
    let edits = ui.keys("\n");
    let [Edit::EditMeetup { patch, .. }] = edits.as_slice() else {
        panic!("one edit: {edits:?}")
    };
    assert_eq!(patch.agenda, None);

    // r asks; n keeps it; r then y removes it.
    ui.keys("r");
    assert!(matches!(
        &ui.m.overlay,
        Some(Overlay::Confirm {
            edit: Edit::RemoveMeetup(_),
            ..
        })
    ));
    assert!(ui.keys("n").is_empty());
    assert_eq!(ui.m.meetups.ready().map(Vec::len), Some(list.len()));
    let edits = ui.keys("ry");
    assert_eq!(edits, vec![Edit::RemoveMeetup(multi.id.clone())]);
    let left = ui.m.meetups.ready().expect("meet-ups");
    assert_eq!(left.len(), list.len() - 1);
    assert!(!left.iter().any(|x| x.id == multi.id));
}

#[test]
fn goals_are_added_changed_and_removed_from_the_plan_and_not_on_another_groups() {
    let mut ui = Ui::steward();
    ui.keys("2l");
    assert_eq!(ui.m.tab, Tab::Plan);
    let goals = plan_goals(&ui.m).to_vec();
    assert!(goals.len() >= 2, "the sample has goals: {goals:?}");
    ui.keys("v");
    assert_eq!(ui.m.overlay, Some(Overlay::Goals(0)));
    // Moving stops at the last goal.
    ui.keys("jjjjjjjj");
    assert_eq!(ui.m.overlay, Some(Overlay::Goals(goals.len() - 1)));
    ui.keys("gj");
    ui.keys("e");
    let Some(Overlay::Form(FormKind::EditGoal(id), f)) = &ui.m.overlay else {
        panic!("the change form: {:?}", ui.m.overlay)
    };
    assert_eq!(
        (id, f.value("Goal")),
        (&goals[1].id, goals[1].text.as_str())
    );
    ui.send(ctrl('u'));
    let edits = ui.keys("Win the 437 bus route back\n");
    assert_eq!(
        edits,
        vec![Edit::EditGoal {
            id: goals[1].id.clone(),
            text: "Win the 437 bus route back".into()
        }]
    );
    assert_eq!(plan_goals(&ui.m)[1].text, "Win the 437 bus route back");
    // An empty goal is refused in the form.
    ui.keys("va");
    assert!(ui.keys("\n").is_empty());
    let Some(Overlay::Form(FormKind::Goal, f)) = &ui.m.overlay else {
        panic!("the new-goal form: {:?}", ui.m.overlay)
    };
    assert!(f.error.is_some(), "{f:?}");
    let edits = ui.keys("Open a youth group\n");
    assert_eq!(edits, vec![Edit::AddGoal("Open a youth group".into())]);
    assert_eq!(plan_goals(&ui.m).len(), goals.len() + 1);
    // r asks; Esc keeps it; r then y removes it.
    ui.keys("vr");
    assert!(matches!(
        &ui.m.overlay,
        Some(Overlay::Confirm {
            edit: Edit::RemoveGoal(_),
            ..
        })
    ));
    assert!(ui.keys("\x1b").is_empty());
    assert_eq!(plan_goals(&ui.m).len(), goals.len() + 1);
    let edits = ui.keys("vry");
    assert_eq!(edits, vec![Edit::RemoveGoal(goals[0].id.clone())]);
    assert!(!plan_goals(&ui.m).iter().any(|g| g.id == goals[0].id));

    // Another group's goals are shown, not changed.
    ui.keys("1");
    let cmds = ui.send(key(KeyCode::Enter));
    run(&mut ui.m, &ui.node, cmds);
    assert!(matches!(ui.m.target, Target::Other(_)));
    while ui.m.tab != Tab::Plan {
        ui.keys("l");
    }
    ui.keys("v");
    assert_eq!(ui.m.overlay, Some(Overlay::Goals(0)));
    let before = ui.node.edits.lock().expect("edits").len();
    assert!(ui.keys("e").is_empty());
    assert!(ui.m.overlay.is_none());
    assert!(
        ui.m.flash
            .as_ref()
            .is_some_and(|(l, t)| *l == Level::Error && t.contains("own devices")),
        "{:?}",
        ui.m.flash
    );
    assert_eq!(ui.node.edits.lock().expect("edits").len(), before);
}

#[test]
fn an_actions_owner_is_picked_by_part_of_a_name() {
    let mut ui = Ui::steward();
    ui.keys("2laPaint the hall\tbello");
    let Some(Overlay::Form(_, f)) = &ui.m.overlay else {
        panic!("the action form is open")
    };
    let listed: Vec<String> = f.fields[1].matches().iter().map(|m| m.0.clone()).collect();
    assert!(listed.len() > 1, "{listed:?}");
    assert!(listed.iter().all(|n| n.contains("Bello")), "{listed:?}");
    // Ctrl-N marks the second; Tab fills it in; Enter saves it as owner.
    ui.send(ctrl('n'));
    let edits = ui.keys("\t\n");
    assert_eq!(
        edits,
        vec![Edit::AddAction {
            title: "Paint the hall".into(),
            owner: Some(listed[1].clone()),
            due: None,
        }]
    );
    // The change form offers the same picker, and a name that matches no
    // one is said in the form before anything is sent.
    let actions = plan_actions(&ui.m);
    let at = actions
        .iter()
        .position(|a| a.title == "Paint the hall")
        .expect("added");
    ui.m.action_pos.selected = at;
    ui.keys("e\t");
    ui.send(ctrl('u'));
    ui.keys("zzq");
    let Some(Overlay::Form(FormKind::EditAction(_), f)) = &ui.m.overlay else {
        panic!("the change form is open")
    };
    assert!(f.fields[1].matches_none());
    assert!(!f.fields[1].suggestions.is_empty());
}
