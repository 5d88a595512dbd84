//! The actor's loop: commands in batches, one fsync per batch for the
//! changes peers sent, nothing about them let out before it, and
//! housekeeping (the summary, flushing records, compaction) only while no
//! command waits.

use std::time::{Duration, Instant};

use super::*;

/// The most commands handled in one batch...
const MAX_BATCH: usize = 64;
/// ...and the longest a batch goes on taking more, so the first message's
/// answer is not held back long.
const MAX_BATCH_TIME: Duration = Duration::from_millis(10);

/// The summary is counted at most once in this long: a burst of edits (an
/// organiser adding a meeting's sign-ups one by one) publishes once, at
/// its start and again once it is over.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(2);

/// What a batch holds back until the changes it stored are durable: the
/// messages for peers (which may tell them this node has the changes) and
/// the events (which tell local watchers).
#[derive(Default)]
pub(super) struct Held {
    sends: Vec<(u64, Message)>,
    events: Vec<NodeEvent>,
}

/// Recounting this group's membership summary, off the actor thread.
#[derive(Debug, Default)]
pub(super) struct SummaryWork {
    /// The figures may have changed since the last count started.
    pub(super) due: bool,
    /// A count is running on a helper thread.
    pub(super) running: bool,
    /// When the last count started.
    pub(super) last: Option<Instant>,
}

impl SummaryWork {
    /// Whether a count may start now.
    pub(super) fn due_now(&self, now: Instant) -> bool {
        self.wait(now) == Some(Duration::ZERO)
    }

    /// How long until a count may start (`None`: none is wanted).
    fn wait(&self, now: Instant) -> Option<Duration> {
        if !self.due || self.running {
            return None;
        }
        Some(self.last.map_or(Duration::ZERO, |t| {
            (t + SUMMARY_EVERY).saturating_duration_since(now)
        }))
    }
}

impl Actor {
    /// Runs the actor until it is told to stop or every sender has gone.
    pub fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!("could not start the node's timer: {e}");
                return;
            }
        };
        loop {
            let wait = self.summary.wait(self.group.clock().instant());
            // `None`: the timer fired; `Some(None)`: every sender has gone.
            let next = rt.block_on(async {
                match wait {
                    Some(d) => tokio::time::timeout(d, rx.recv()).await.ok(),
                    None => Some(rx.recv().await),
                }
            });
            let keep = match next {
                Some(None) => false,
                Some(Some(cmd)) => self.batch(cmd, &mut rx),
                // The timer fired.
                None => true,
            };
            if !keep {
                break;
            }
            while rx.is_empty() && self.has_idle_work() {
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.idle_work();
                }));
                if done.is_err() {
                    tracing::error!("the node hit an internal error in its housekeeping");
                }
            }
        }
    }

    /// Handles `first` and whatever else is already waiting (within
    /// [`MAX_BATCH`] and [`MAX_BATCH_TIME`]), then makes what they stored
    /// durable with one fsync and lets their messages and events out.
    /// Returns false to stop.
    fn batch(&mut self, first: Cmd, rx: &mut mpsc::Receiver<Cmd>) -> bool {
        self.held = Some(Held::default());
        let started = self.group.clock().instant();
        let mut keep = self.handle_guarded(first);
        let mut n = 1;
        while keep && n < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
            let Ok(cmd) = rx.try_recv() else {
                break;
            };
            keep = self.handle_guarded(cmd);
            n += 1;
        }
        self.end_batch();
        keep
    }

    /// [`Actor::handle`], with a panic logged as an internal error rather
    /// than stopping the node.
    fn handle_guarded(&mut self, cmd: Cmd) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(cmd))).unwrap_or_else(
            |_| {
                tracing::error!("the node hit an internal error handling a request");
                // It may have stored changes before it failed.
                self.changes_unflushed = true;
                true
            },
        )
    }

    /// Makes the changes this batch stored durable now (before an answer
    /// that could describe them leaves on its own channel: a session's
    /// opening digest, a status, a query).
    pub(super) fn make_durable(&mut self) {
        if !std::mem::take(&mut self.changes_unflushed) {
            return;
        }
        match self.group.store().flush() {
            // Records and cards kept without an fsync are durable too.
            Ok(()) => self.unflushed = false,
            Err(e) => {
                // Tried again at the end of the batch, and the next.
                self.changes_unflushed = true;
                tracing::error!("could not make received changes durable: {e}");
            }
        }
    }

    /// Ends a batch: one fsync for the changes stored without one, then
    /// the messages and events held back go out.
    pub(super) fn end_batch(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        self.make_durable();
        for (session, msg) in held.sends {
            self.send(session, msg);
        }
        for e in held.events {
            let _ = self.events.send(e);
        }
    }

    /// Queues a message for a session, or holds it until the batch ends.
    pub(super) fn hold_or_send(&mut self, session: u64, msg: Message) -> Option<Message> {
        match &mut self.held {
            Some(h) => {
                h.sends.push((session, msg));
                None
            }
            None => Some(msg),
        }
    }

    /// Raises an event now, or once the batch's changes are durable.
    pub(super) fn emit(&mut self, e: NodeEvent) {
        match &mut self.held {
            Some(h) => h.events.push(e),
            None => {
                let _ = self.events.send(e);
            }
        }
    }

    /// Starts counting the summary on a helper thread, if one is due and
    /// this is a steward device of a local group.
    pub(super) fn start_summary(&mut self) {
        self.summary.due = false;
        if self.group.profile().kind == crate::group::GroupKind::National {
            return;
        }
        // Not a steward device, or the documents have not arrived yet.
        let Ok(inputs) = self.group.summary_inputs() else {
            return;
        };
        self.summary.last = Some(self.group.clock().instant());
        let day = self.group.clock().today();
        let Some(tx) = self.to_self.clone() else {
            self.summary_counted(inputs.count(day));
            return;
        };
        self.summary.running = true;
        let spawned = std::thread::Builder::new()
            .name("groundwork-summary".into())
            .spawn(move || {
                // Always answers, so a count that fails does not stop the
                // next one.
                let counted =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inputs.count(day)))
                        .unwrap_or_else(|_| {
                            Err(crate::group::GroupError::Internal(
                                "counting the summary failed".into(),
                            ))
                        });
                let _ = tx.blocking_send(Cmd::SummaryCounted(Box::new(counted)));
            });
        if let Err(e) = spawned {
            self.summary.running = false;
            tracing::warn!("could not start counting the summary: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_counted_at_once_then_at_most_every_two_seconds() {
        let t0 = Instant::now();
        let mut w = SummaryWork::default();
        assert_eq!(w.wait(t0), None, "nothing due");
        w.due = true;
        assert_eq!(
            w.wait(t0),
            Some(Duration::ZERO),
            "the first count starts at once"
        );
        w.last = Some(t0);
        assert_eq!(w.wait(t0), Some(SUMMARY_EVERY));
        assert_eq!(
            w.wait(t0 + Duration::from_millis(500)),
            Some(SUMMARY_EVERY - Duration::from_millis(500))
        );
        assert_eq!(w.wait(t0 + SUMMARY_EVERY * 3), Some(Duration::ZERO));
        w.running = true;
        assert_eq!(w.wait(t0 + SUMMARY_EVERY * 3), None, "one count at a time");
    }
}
