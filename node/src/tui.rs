//! The terminal UI's view of a node: [`groundwork_tui::Node`] over the
//! control API, either through the socket of a node running elsewhere or
//! straight to a node running in this process.

use std::sync::{Arc, Mutex};

use groundwork_protocol::control::{
    DirectoryEntry, Event, MeetupInput, MeetupPatch, MemberInput, MemberView, NodeStatus, PlanView,
    Request, Response, SharedDocs,
};
use groundwork_protocol::report::NetworkReport;
use groundwork_protocol::schema::{Constitution, Meetup};
use groundwork_protocol::{Date, GroupId, ShortId};
use groundwork_tui::{Node, NodeError, NodeResult};
use tokio::sync::broadcast;

use crate::control::{Client, ControlHandler, error_line, variant_name};
use crate::datadir::DataDir;

/// How requests reach the node.
enum Link {
    /// The control socket of a node running in another process; the
    /// connection is made again if it breaks.
    Socket {
        dir: DataDir,
        client: Mutex<Option<Client>>,
    },
    /// A node in this process.
    InProcess {
        handler: Arc<dyn ControlHandler>,
        runtime: tokio::runtime::Handle,
    },
}

/// A node as the terminal UI sees it.
pub struct ControlNode {
    link: Link,
}

impl std::fmt::Debug for ControlNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.link {
            Link::Socket { dir, .. } => {
                write!(f, "ControlNode(socket in {})", dir.root().display())
            }
            Link::InProcess { .. } => f.write_str("ControlNode(in process)"),
        }
    }
}

fn unexpected(r: &Response) -> NodeError {
    match r {
        Response::Error { code, message } => NodeError::refused(*code, message.clone()),
        other => NodeError::Unreachable(format!("the node answered with {}", variant_name(other))),
    }
}

impl ControlNode {
    /// The node running on `dir`, through its control socket.
    pub fn attached(dir: DataDir, client: Client) -> ControlNode {
        ControlNode {
            link: Link::Socket {
                dir,
                client: Mutex::new(Some(client)),
            },
        }
    }

    /// A node running in this process; calls block on `runtime`, so they
    /// must come from threads outside it.
    pub fn in_process(handler: Arc<dyn ControlHandler>, runtime: tokio::runtime::Handle) -> Self {
        ControlNode {
            link: Link::InProcess { handler, runtime },
        }
    }

    /// Makes an edit answered by [`Response::Changed`]: whether it changed
    /// anything.
    fn changed(&self, req: Request) -> NodeResult<bool> {
        match self.call(req)? {
            Response::Changed { changed } => Ok(changed),
            r => Err(unexpected(&r)),
        }
    }

    fn call(&self, req: Request) -> NodeResult<Response> {
        let response = match &self.link {
            Link::InProcess { handler, runtime } => runtime.block_on(handler.request(req)),
            Link::Socket { dir, client } => {
                let mut guard = client
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if guard.is_none() {
                    *guard = crate::control::connect(dir)
                        .map_err(|e| NodeError::Unreachable(error_line(&e)))?;
                }
                let Some(c) = guard.as_mut() else {
                    return Err(NodeError::Unreachable(format!(
                        "no node is running on {}",
                        dir.root().display()
                    )));
                };
                match c.request(req) {
                    Ok(r) => r,
                    Err(e) => {
                        // Connect again next time.
                        *guard = None;
                        return Err(NodeError::Unreachable(error_line(&e)));
                    }
                }
            }
        };
        match response {
            Response::Error { code, message } => Err(NodeError::refused(code, message)),
            r => Ok(r),
        }
    }
}

impl Node for ControlNode {
    fn status(&self) -> NodeResult<NodeStatus> {
        match self.call(Request::Status)? {
            Response::Status(s) => Ok(s),
            r => Err(unexpected(&r)),
        }
    }

    fn directory(&self) -> NodeResult<Vec<DirectoryEntry>> {
        match self.call(Request::Network)? {
            Response::Directory(d) => Ok(d),
            r => Err(unexpected(&r)),
        }
    }

    fn report(&self) -> NodeResult<NetworkReport> {
        match self.call(Request::Report)? {
            Response::Report(r) => Ok(*r),
            r => Err(unexpected(&r)),
        }
    }

    fn constitution(&self) -> NodeResult<Constitution> {
        match self.call(Request::ConstitutionShow)? {
            Response::Constitution(c) => Ok(c),
            r => Err(unexpected(&r)),
        }
    }

    fn plan(&self) -> NodeResult<PlanView> {
        match self.call(Request::PlanShow)? {
            Response::Plan(p) => Ok(p),
            r => Err(unexpected(&r)),
        }
    }

    fn meetups(&self) -> NodeResult<Vec<Meetup>> {
        match self.call(Request::MeetupList)? {
            Response::Meetups(m) => Ok(m),
            r => Err(unexpected(&r)),
        }
    }

    fn members(&self) -> NodeResult<Vec<MemberView>> {
        match self.call(Request::MemberList {
            kind: None,
            with_contacts: true,
        })? {
            Response::Members(m) => Ok(m),
            r => Err(unexpected(&r)),
        }
    }

    fn shared(&self, group: GroupId) -> NodeResult<SharedDocs> {
        match self.call(Request::Shared { group })? {
            Response::Shared(s) => Ok(s),
            r => Err(unexpected(&r)),
        }
    }

    fn add_meetup(&self, input: MeetupInput) -> NodeResult<ShortId> {
        match self.call(Request::MeetupAdd { input })? {
            Response::Created { id } => Ok(id),
            r => Err(unexpected(&r)),
        }
    }

    fn set_meetup_notes(&self, id: ShortId, base: String, text: String) -> NodeResult<()> {
        match self.call(Request::MeetupNoteSet {
            id,
            text,
            base: Some(base),
        })? {
            Response::Saved => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn add_action(
        &self,
        title: String,
        owner: Option<String>,
        due: Option<Date>,
    ) -> NodeResult<ShortId> {
        match self.call(Request::PlanActionAdd { title, owner, due })? {
            Response::Created { id } => Ok(id),
            r => Err(unexpected(&r)),
        }
    }

    fn action_done(&self, id: ShortId) -> NodeResult<bool> {
        match self.call(Request::PlanActionDone { id })? {
            Response::Changed { changed } => Ok(changed),
            r => Err(unexpected(&r)),
        }
    }

    fn edit_action(
        &self,
        id: ShortId,
        patch: groundwork_protocol::control::ActionPatch,
    ) -> NodeResult<bool> {
        self.changed(Request::PlanActionEdit { id, patch })
    }

    fn remove_action(&self, id: ShortId) -> NodeResult<()> {
        self.changed(Request::PlanActionRemove { id }).map(drop)
    }

    fn action_reopen(&self, id: ShortId) -> NodeResult<bool> {
        self.changed(Request::PlanActionReopen { id })
    }

    fn edit_meetup(&self, id: ShortId, patch: MeetupPatch) -> NodeResult<bool> {
        self.changed(Request::MeetupEdit { id, patch })
    }

    fn remove_meetup(&self, id: ShortId) -> NodeResult<()> {
        self.changed(Request::MeetupRemove { id }).map(drop)
    }

    fn add_goal(&self, text: String) -> NodeResult<ShortId> {
        match self.call(Request::PlanGoalAdd { text })? {
            Response::Created { id } => Ok(id),
            r => Err(unexpected(&r)),
        }
    }

    fn edit_goal(&self, id: ShortId, text: String) -> NodeResult<bool> {
        self.changed(Request::PlanGoalEdit { id, text })
    }

    fn remove_goal(&self, id: ShortId) -> NodeResult<()> {
        self.changed(Request::PlanGoalRemove { id }).map(drop)
    }

    fn link_requests(&self) -> NodeResult<Vec<groundwork_protocol::control::LinkRequestView>> {
        match self.call(Request::LinkRequests)? {
            Response::LinkRequests(r) => Ok(r),
            r => Err(unexpected(&r)),
        }
    }

    fn accept_link(&self, group: GroupId) -> NodeResult<()> {
        match self.call(Request::PeerAccept {
            id: group.to_string(),
        })? {
            Response::Peers(_) => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn refuse_link(&self, group: GroupId) -> NodeResult<()> {
        match self.call(Request::PeerRefuse {
            id: group.to_string(),
        })? {
            Response::LinkRequests(_) => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn add_member(&self, input: MemberInput) -> NodeResult<ShortId> {
        match self.call(Request::MemberAdd { input })? {
            Response::MemberAdded { id, .. } => Ok(id),
            r => Err(unexpected(&r)),
        }
    }

    fn edit_member(&self, id: ShortId, patch: MemberInput) -> NodeResult<()> {
        match self.call(Request::MemberEdit { id, patch })? {
            Response::Member(_) => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn remove_member(&self, id: ShortId) -> NodeResult<()> {
        match self.call(Request::MemberRemove { id })? {
            Response::MemberRemoved { .. } => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn forget_member(&self, id: ShortId) -> NodeResult<()> {
        match self.call(Request::MemberForget { id })? {
            Response::MemberForgotten { .. } => Ok(()),
            r => Err(unexpected(&r)),
        }
    }

    fn watch(&self, sink: &mut dyn FnMut(Event) -> bool) -> NodeResult<()> {
        match &self.link {
            Link::InProcess { handler, .. } => {
                let mut rx = handler.subscribe();
                if !sink(Event::Lagged { missed: 0 }) {
                    return Ok(());
                }
                loop {
                    let event = match rx.blocking_recv() {
                        Ok(e) => e,
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            Event::Lagged { missed }
                        }
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(NodeError::Unreachable("the node stopped".into()));
                        }
                    };
                    if !sink(event) {
                        return Ok(());
                    }
                }
            }
            Link::Socket { dir, .. } => {
                let unreachable =
                    |e: crate::control::ControlError| NodeError::Unreachable(error_line(&e));
                let mut client = crate::control::connect(dir)
                    .map_err(unreachable)?
                    .ok_or_else(|| {
                        NodeError::Unreachable(format!(
                            "no node is running on {}",
                            dir.root().display()
                        ))
                    })?;
                match client.request(Request::Subscribe).map_err(unreachable)? {
                    Response::Subscribed => {}
                    r => return Err(unexpected(&r)),
                }
                // Subscribed: nothing from now on is missed; re-read what
                // changed before.
                if !sink(Event::Lagged { missed: 0 }) {
                    return Ok(());
                }
                for event in client.events() {
                    let event = event.map_err(unreachable)?;
                    if !sink(event) {
                        return Ok(());
                    }
                }
                Err(NodeError::Unreachable(
                    "the node closed the event stream".into(),
                ))
            }
        }
    }
}
