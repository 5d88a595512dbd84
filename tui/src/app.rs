//! The runtime: the terminal, the threads that feed `update`, and the
//! commands it returns.
//!
//! Three threads send [`Msg`]s to the loop that owns the model: terminal
//! input, the node's event stream, and a worker that makes node calls (so a
//! slow answer never freezes the keyboard). The loop applies every message
//! waiting, draws one frame, and waits for the next message or the
//! one-second tick.

use std::collections::BTreeSet;
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use groundwork_protocol::Date;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::model::Model;
use crate::node::{Node, NodeError};
use crate::update::{Cmd, Data, Edit, Msg, Payload, load_all, update};

/// Why the terminal UI stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal could not be set up or drawn on.
    #[error("the terminal: {0}")]
    Terminal(#[from] io::Error),
    /// The thread that calls the node stopped (a bug).
    #[error("internal error: the thread talking to the node stopped")]
    Worker,
}

/// Today and now from the system clock.
pub fn clock() -> (Date, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (Date::from_unix_days((now / 86_400) as i64), now)
}

/// Whether `NO_COLOR` asks for no colour (set and not empty).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Puts the terminal back: raw mode off, main screen, mouse released.
fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Owns the terminal while the UI runs; dropping it restores the terminal,
/// on an error return too.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restores the terminal before a panic message is printed, so the message
/// is readable and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    let ui = thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        // A panic elsewhere ends that thread, and the UI then stops and
        // restores the terminal itself (see `TuiError::Worker`, `QuitOnExit`).
        if thread::current().id() == ui {
            restore();
        }
        previous(info);
    }));
}

/// How the UI is run.
#[derive(Debug, Default)]
pub struct Options {
    /// A message for the status line at first.
    pub greeting: Option<String>,
    /// Where `$EDITOR`'s temporary files go: a private directory is made
    /// in it for each edit and removed after, editor side files included.
    /// The group's data directory, so notes never land outside it. `None`:
    /// the system's temporary directory.
    pub scratch: Option<std::path::PathBuf>,
    /// Set (by a signal handler) to make the UI quit within a second.
    pub stop: Option<Arc<AtomicBool>>,
}

/// Runs the terminal UI on `node` until the user quits (or `options.stop`
/// is set).
pub fn run(node: Arc<dyn Node>, options: Options) -> Result<(), TuiError> {
    install_panic_hook();
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let result = event_loop(&mut terminal, node, options);
    // ratatui's `Terminal` shows the cursor when dropped, and prints to
    // stderr if it cannot, which panics once the terminal has gone (a closed
    // window). The guard's restore shows the cursor anyway, ignoring errors.
    std::mem::forget(terminal);
    drop(guard);
    result
}

/// The input thread's switch: paused while `$EDITOR` owns the terminal.
#[derive(Default)]
struct Input {
    paused: AtomicBool,
    stop: AtomicBool,
    /// Held by the input thread while it polls, so pausing can wait out a
    /// poll in progress.
    polling: Mutex<()>,
}

/// Quits the UI when the input thread ends for any reason but a stop (a
/// terminal that can no longer be read, or a bug): a UI that cannot read
/// keys could not be quit.
struct QuitOnExit(Sender<Msg>, Arc<Input>);

impl Drop for QuitOnExit {
    fn drop(&mut self) {
        if !self.1.stop.load(Ordering::Relaxed) {
            let ctrl_c = crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('c'),
                crossterm::event::KeyModifiers::CONTROL,
            );
            let _ = self.0.send(Msg::Key(ctrl_c));
        }
    }
}

fn spawn_input(tx: Sender<Msg>, input: Arc<Input>) {
    thread::spawn(move || {
        let _quit = QuitOnExit(tx.clone(), input.clone());
        while !input.stop.load(Ordering::Relaxed) {
            if input.paused.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            let lock = input
                .polling
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if input.paused.load(Ordering::Relaxed) {
                continue;
            }
            let msg = match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(TermEvent::Key(k)) => Some(Msg::Key(k)),
                    Ok(TermEvent::Mouse(m)) => Some(Msg::Mouse(m)),
                    Ok(TermEvent::Resize(w, h)) => Some(Msg::Resize(w, h)),
                    Ok(TermEvent::Paste(p)) => Some(Msg::Paste(p)),
                    Ok(_) => None,
                    Err(_) => break,
                },
                Ok(false) => None,
                Err(_) => break,
            };
            drop(lock);
            if let Some(msg) = msg
                && tx.send(msg).is_err()
            {
                break;
            }
        }
    });
}

fn spawn_events(tx: Sender<Msg>, node: Arc<dyn Node>) {
    thread::spawn(move || {
        loop {
            let result = node.watch(&mut |e| tx.send(Msg::Node(e)).is_ok());
            let why = match result {
                Ok(()) => return,
                Err(e) => e.to_string(),
            };
            if tx.send(Msg::NodeGone(why)).is_err() {
                return;
            }
            // Try again: a node restarted under the UI comes back, and its
            // first event (`Lagged`) reloads everything.
            thread::sleep(Duration::from_secs(2));
        }
    });
}

/// Runs one node call.
pub fn load(node: &dyn Node, data: Data) -> Result<Payload, NodeError> {
    Ok(match data {
        Data::Status => Payload::Status(Box::new(node.status()?)),
        Data::Directory => Payload::Directory(node.directory()?),
        Data::Report => Payload::Report(Box::new(node.report()?)),
        Data::Constitution => Payload::Constitution(Box::new(node.constitution()?)),
        Data::Plan => Payload::Plan(Box::new(node.plan()?)),
        Data::Meetups => Payload::Meetups(node.meetups()?),
        Data::Members => Payload::Members(node.members()?),
        Data::Shared(g) => Payload::Shared(Box::new(node.shared(g)?)),
        Data::LinkRequests => Payload::LinkRequests(node.link_requests()?),
    })
}

/// Makes one edit; the text says what was done.
pub fn edit(node: &dyn Node, edit: &Edit) -> Result<String, NodeError> {
    Ok(match edit.clone() {
        Edit::AddMeetup(input) => {
            let id = node.add_meetup(input)?;
            format!("meet-up {id} added")
        }
        Edit::SetNotes { id, base, text } => {
            node.set_meetup_notes(id.clone(), base, text)?;
            format!("notes of {id} saved")
        }
        Edit::AddAction { title, owner, due } => {
            let id = node.add_action(title, owner, due)?;
            format!("action {id} added")
        }
        Edit::ActionDone(id) => {
            if node.action_done(id.clone())? {
                format!("action {id} done (o reopens it)")
            } else {
                format!("action {id} was already done")
            }
        }
        Edit::EditAction { id, patch } => {
            if node.edit_action(id.clone(), patch)? {
                format!("action {id} changed")
            } else {
                format!("action {id} unchanged")
            }
        }
        Edit::RemoveAction(id) => {
            node.remove_action(id.clone())?;
            format!("action {id} removed")
        }
        Edit::EditMeetup { id, patch } => {
            if node.edit_meetup(id.clone(), patch)? {
                format!("meet-up {id} changed")
            } else {
                format!("meet-up {id} unchanged")
            }
        }
        Edit::RemoveMeetup(id) => {
            node.remove_meetup(id.clone())?;
            format!("meet-up {id} removed")
        }
        Edit::AddGoal(text) => {
            let id = node.add_goal(text)?;
            format!("goal {id} added")
        }
        Edit::EditGoal { id, text } => {
            if node.edit_goal(id.clone(), text)? {
                format!("goal {id} changed")
            } else {
                format!("goal {id} already says that")
            }
        }
        Edit::RemoveGoal(id) => {
            node.remove_goal(id.clone())?;
            format!("goal {id} removed")
        }
        Edit::ActionReopen(id) => {
            if node.action_reopen(id.clone())? {
                format!("action {id} is open again")
            } else {
                format!("action {id} was not done")
            }
        }
        Edit::EditMember { id, patch } => {
            node.edit_member(id.clone(), patch)?;
            format!("member {id} changed")
        }
        Edit::RemoveMember(id) => {
            node.remove_member(id.clone())?;
            format!("member {id} removed")
        }
        Edit::ForgetMember(id) => {
            node.forget_member(id.clone())?;
            format!("member {id} forgotten: every device drops them as it switches")
        }
        Edit::AddMember(input) => {
            let id = node.add_member(input)?;
            format!("member {id} added")
        }
        Edit::AcceptLink(g) => {
            node.accept_link(g)?;
            format!("linked with group {}", g.fmt_short())
        }
        Edit::RefuseLink(g) => {
            node.refuse_link(g)?;
            format!("refused the request of group {}", g.fmt_short())
        }
    })
}

enum Work {
    Load(Data),
    Edit(Edit),
}

fn spawn_worker(tx: Sender<Msg>, node: Arc<dyn Node>) -> Sender<Work> {
    let (wtx, wrx) = mpsc::channel::<Work>();
    thread::spawn(move || {
        while let Ok(first) = wrx.recv() {
            // Take everything queued: edits in order, each load once.
            let mut batch = vec![first];
            batch.extend(wrx.try_iter());
            let mut loads = BTreeSet::new();
            for w in batch {
                match w {
                    Work::Edit(e) => {
                        let result = edit(node.as_ref(), &e);
                        if tx.send(Msg::Edited(e, result)).is_err() {
                            return;
                        }
                    }
                    Work::Load(d) => {
                        loads.insert(d);
                    }
                }
            }
            for d in loads {
                let result = load(node.as_ref(), d);
                if tx.send(Msg::Loaded(d, result)).is_err() {
                    return;
                }
            }
        }
    });
    wtx
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    node: Arc<dyn Node>,
    options: Options,
) -> Result<(), TuiError> {
    let Options {
        greeting,
        scratch,
        stop,
    } = options;
    let size = terminal.size()?;
    let (today, now) = clock();
    let mut model = Model::new((size.width, size.height), today, now, !no_color());
    model.flash = greeting.map(|g| (crate::model::Level::Info, g));
    let (tx, rx) = mpsc::channel::<Msg>();
    let input = Arc::new(Input::default());
    spawn_input(tx.clone(), input.clone());
    spawn_events(tx.clone(), node.clone());
    let work = spawn_worker(tx.clone(), node);
    let mut pending = load_all(&model);
    let tick = Duration::from_secs(1);
    let mut next_tick = Instant::now() + tick;
    let outcome = loop {
        let mut worker_gone = false;
        for cmd in pending.drain(..) {
            let sent = match cmd {
                Cmd::Load(d) => work.send(Work::Load(d)).is_ok(),
                Cmd::Edit(e) => work.send(Work::Edit(e)).is_ok(),
                Cmd::OpenEditor { id, text } => {
                    let result = with_editor(terminal, &input, scratch.as_deref(), &text);
                    let _ = tx.send(Msg::EditorClosed {
                        id,
                        base: text,
                        result,
                    });
                    true
                }
            };
            worker_gone |= !sent;
        }
        if worker_gone {
            // Only a bug (a panic in a node call) stops the worker; stop
            // rather than show a screen that never updates.
            break Err(TuiError::Worker);
        }
        if model.quit || stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
            break Ok(());
        }
        if let Err(e) = terminal.draw(|f| crate::view::view(&model, f)) {
            break Err(e.into());
        }
        let wait = next_tick.saturating_duration_since(Instant::now());
        let first = match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        };
        let mut msgs: Vec<Msg> = first.into_iter().collect();
        msgs.extend(rx.try_iter());
        if Instant::now() >= next_tick {
            next_tick = Instant::now() + tick;
            let (today, now) = clock();
            msgs.push(Msg::Tick { today, now });
        }
        for m in msgs {
            pending.extend(update(&mut model, m));
        }
    };
    input.stop.store(true, Ordering::Relaxed);
    outcome
}

/// Suspends the UI, edits `text` in the user's editor ([`crate::editor`])
/// in `scratch`, and restores the UI. `Ok(None)`: unchanged.
fn with_editor(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    input: &Input,
    scratch: Option<&std::path::Path>,
    text: &str,
) -> Result<Option<String>, String> {
    input.paused.store(true, Ordering::Relaxed);
    let lock = input
        .polling
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    restore();
    let edited = crate::editor::edit(scratch, text);
    let back = enable_raw_mode().and_then(|()| {
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )
    });
    let _ = terminal.clear();
    drop(lock);
    input.paused.store(false, Ordering::Relaxed);
    back.map_err(|e| format!("cannot restore the terminal: {e}"))?;
    let new = edited?;
    // Editors add a final newline; the notes keep what the user typed.
    let new = new.strip_suffix('\n').unwrap_or(&new).to_string();
    Ok((new != text).then_some(new))
}
