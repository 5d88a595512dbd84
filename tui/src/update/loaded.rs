//! Storing the node's answers in the model.

use super::*;

fn loaded<T>(result: Result<T, NodeError>) -> Loaded<T> {
    match result {
        Ok(t) => Loaded::Ready(t),
        Err(e) => Loaded::Failed(e.to_string()),
    }
}

/// Stores a node's answer, except that a node that cannot be reached does
/// not wipe what is shown: the last answer stays (and the user's place in
/// it), and the status line says the node is unreachable.
fn store<T>(slot: &mut Loaded<T>, result: Result<T, NodeError>) {
    if result.as_ref().is_err_and(NodeError::is_unavailable) && slot.ready().is_some() {
        return;
    }
    *slot = loaded(result);
}

/// Keeps the plan's selection inside the plan shown (this group's or
/// another's).
pub(super) fn clamp_actions(model: &mut Model) {
    let n = plan_actions(model).len();
    let page = plan_page(model);
    model.action_pos.keep_visible(n, page);
}

pub(super) fn on_loaded(model: &mut Model, data: Data, result: Result<Payload, NodeError>) {
    if let Err(e) = &result
        && e.is_unavailable()
    {
        model.node_error = Some(e.message().to_owned());
    } else if data == Data::Status {
        model.node_error = None;
    }
    // An answer of the wrong shape cannot happen with the runtime; drop it.
    match (data, result) {
        (Data::Status, r) => {
            if let Err(e) = &r
                && model.status.ready().is_some()
            {
                // Keep showing the last status; the status line says why.
                model.node_error = Some(e.message().to_owned());
                return;
            }
            model.status = loaded(r.and_then(|p| match p {
                Payload::Status(s) => Ok(*s),
                _ => Err(mismatch()),
            }));
            if !model.tabs().contains(&model.tab) {
                model.tab = Tab::Constitution;
                model.filtering = false;
            }
            if model.sort.0 == SortKey::Link {
                // Connections changed the order.
                model.refilter();
            }
            let n = model.peers().len();
            let page = model.page(Screen::Sync) / 2;
            model.peer_pos.keep_visible(n, page);
            let n = model.status.ready().map_or(0, |s| s.documents.len());
            model.doc_pos.keep_visible(n, page);
        }
        (Data::Directory, r) => {
            let (group, member) = (model.selected_group(), model.selected_member());
            store(
                &mut model.directory,
                r.and_then(|p| match p {
                    Payload::Directory(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            model.refilter_keeping(group, member);
        }
        (Data::Report, r) => {
            store(
                &mut model.report,
                r.and_then(|p| match p {
                    Payload::Report(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
        }
        (Data::Constitution, r) => {
            store(
                &mut model.constitution,
                r.and_then(|p| match p {
                    Payload::Constitution(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
        }
        (Data::Plan, r) => {
            store(
                &mut model.plan,
                r.and_then(|p| match p {
                    Payload::Plan(d) => Ok(*d),
                    _ => Err(mismatch()),
                }),
            );
            clamp_actions(model);
        }
        (Data::Meetups, r) => {
            let keep = model
                .meetups
                .ready()
                .and_then(|m| m.get(model.meetup_pos.selected))
                .map(|m| m.id.clone());
            store(
                &mut model.meetups,
                r.and_then(|p| match p {
                    Payload::Meetups(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            if let (Some(id), Some(list)) = (keep, model.meetups.ready())
                && let Some(i) = list.iter().position(|m| m.id == id)
            {
                model.meetup_pos.selected = i;
            }
            let n = model.meetups.ready().map_or(0, Vec::len);
            let page = model.page(Screen::Group);
            model.meetup_pos.keep_visible(n, page);
        }
        (Data::Members, r) => {
            let (group, member) = (model.selected_group(), model.selected_member());
            store(
                &mut model.members,
                r.and_then(|p| match p {
                    Payload::Members(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            model.refilter_keeping(group, member);
        }
        (Data::LinkRequests, r) => {
            store(
                &mut model.link_requests,
                r.and_then(|p| match p {
                    Payload::LinkRequests(d) => Ok(d),
                    _ => Err(mismatch()),
                }),
            );
            let n = model.requests().len();
            model.request_pos.keep_visible(n, REQUESTS_SHOWN);
            if n == 0 && model.sync_pane == SyncPane::Requests {
                model.sync_pane = SyncPane::Peers;
            }
        }
        (Data::Shared(g), r) => {
            if model.target == Target::Other(g) {
                store(
                    &mut model.shared,
                    r.and_then(|p| match p {
                        Payload::Shared(d) => Ok(*d),
                        _ => Err(mismatch()),
                    }),
                );
                clamp_actions(model);
            }
        }
    }
}

fn mismatch() -> NodeError {
    NodeError::Unreachable("the node answered with something else".into())
}
