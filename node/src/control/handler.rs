//! A [`ControlHandler`] for a group opened in this process.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use groundwork_protocol::GroupId;
use groundwork_protocol::control::{Event, Request, Response};
use tokio::sync::broadcast;

use super::{ControlHandler, execute};
use crate::group::Group;

/// How many events a slow subscriber may fall behind before it gets
/// `Lagged`.
pub const EVENT_CAPACITY: usize = 256;

/// Answers control requests with [`execute`] on a group this process holds.
///
/// Requests run one at a time on a blocking thread (an edit does disk I/O
/// and CPU-bound document work), each followed by the store's housekeeping
/// as after a command run directly. After each successful edit it sends
/// [`Event::DocChanged`] for the documents the request may have changed.
/// `Status` is refused, as by [`execute`]: a node answers it with what only
/// the node knows.
#[derive(Debug, Clone)]
pub struct GroupHandler {
    group: Arc<Mutex<Group>>,
    id: GroupId,
    events: broadcast::Sender<Event>,
}

impl GroupHandler {
    /// Serves `group`, with a fresh event channel of [`EVENT_CAPACITY`].
    pub fn new(group: Group) -> Self {
        Self::with_events(group, broadcast::channel(EVENT_CAPACITY).0)
    }

    /// Serves `group`, sending events on `events` (which the node also
    /// sends its own events on).
    pub fn with_events(group: Group, events: broadcast::Sender<Event>) -> Self {
        GroupHandler {
            id: group.profile().id,
            group: Arc::new(Mutex::new(group)),
            events,
        }
    }

    /// The event channel subscribers receive from.
    pub fn events(&self) -> &broadcast::Sender<Event> {
        &self.events
    }

    /// The group being served.
    pub fn group(&self) -> &Arc<Mutex<Group>> {
        &self.group
    }

    /// Runs one request on the group; blocking.
    fn answer(&self, req: Request) -> Response {
        let mut group = self.group.lock().unwrap_or_else(PoisonError::into_inner);
        let writes = req.writes();
        let response = execute(&group, req);
        if !writes.is_empty() && !matches!(response, Response::Error { .. }) {
            group.maintain();
            for kind in writes {
                // No subscribers is not an error.
                let _ = self.events.send(Event::DocChanged {
                    group: self.id,
                    kind: *kind,
                });
            }
        }
        response
    }
}

impl ControlHandler for GroupHandler {
    fn request(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.answer(req))
                .await
                .unwrap_or_else(|e| {
                    Response::error(
                        groundwork_protocol::control::ErrorCode::Internal,
                        format!("internal error (a bug in groundwork): {e}"),
                    )
                })
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}
