//! Every group operation, from a [`Request`] to a [`Response`].

use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::control::{DeviceView, Request, Response};
use groundwork_protocol::schema::{Constitution, Devices};

use crate::group::{Group, GroupError};

/// The most listening conversations one request records (as the command
/// line allows).
const MAX_CONVERSATIONS: u32 = 100_000;

/// Runs `req` on `group`. A failure is a [`Response::Error`] whose message
/// is the line the command line prints after `error: `. `Status` and
/// `Subscribe` need a running node and are refused here.
pub fn execute(group: &Group, req: Request) -> Response {
    execute_with_progress(group, req, |_| {})
}

/// [`execute`], reporting an import's progress (rows done) to `progress`.
pub fn execute_with_progress(group: &Group, req: Request, progress: impl FnMut(u64)) -> Response {
    match run(group, req, progress) {
        Ok(response) => response,
        // The same text as the command line's `error: …`: the error and
        // its sources, joined by ": ".
        Err(e) => super::refusal(&e),
    }
}

fn run(g: &Group, req: Request, progress: impl FnMut(u64)) -> Result<Response, GroupError> {
    Ok(match req {
        Request::MemberAdd { input } => {
            let (id, member) = g.add_member(&input, g.clock().today())?;
            Response::MemberAdded { id, member }
        }
        Request::MemberList {
            kind,
            with_contacts,
        } => Response::Members(
            g.members(with_contacts)?
                .into_iter()
                .filter(|m| kind.is_none_or(|k| m.member.kind == k))
                .collect(),
        ),
        Request::MemberShow { id } => Response::Member(g.member(&id)?),
        Request::MemberEdit { id, mut patch } => {
            patch.id = None;
            Response::Member(g.edit_member(&id, &patch)?)
        }
        Request::MemberRemove { id } => {
            let member = g.remove_member(&id)?;
            Response::MemberRemoved { id, member }
        }
        Request::MemberForget { id } => {
            let f = g.forget_member(&id)?;
            Response::MemberForgotten {
                id,
                member: f.member,
                epochs: f.epochs,
                mentions: f.mentions,
            }
        }
        Request::MemberImport { rows, update } => {
            Response::Imported(g.import_members(&rows, update, g.clock().today(), progress)?)
        }
        Request::ConstitutionShow => Response::Constitution(g.read::<Constitution>()?),
        Request::ConstitutionAmend { update } => {
            if update.text.as_deref().is_some_and(|t| t.trim().is_empty()) {
                return Err(GroupError::Invalid {
                    code: ErrorCode::Usage,
                    field: "text",
                    why: "a constitution needs text".into(),
                });
            }
            Response::Amended {
                version: g.amend_constitution(&update, g.clock().today())?,
            }
        }
        Request::PlanShow => Response::Plan(g.plan_view()?),
        Request::PlanVision { text } => Response::Changed {
            changed: g.set_vision(text.trim())?,
        },
        Request::PlanGoalAdd { text } => Response::Created {
            id: g.add_goal(&text)?,
        },
        Request::PlanActionAdd { title, owner, due } => Response::Created {
            id: g.add_action(&title, owner.as_deref(), due)?,
        },
        Request::PlanActionDone { id } => Response::Changed {
            changed: g.action_done(&id, g.clock().today())?,
        },
        Request::PlanActionReopen { id } => Response::Changed {
            changed: g.action_reopen(&id)?,
        },
        Request::PlanConversationsAdd { count, themes } => {
            if !(1..=MAX_CONVERSATIONS).contains(&count) {
                return Err(GroupError::Invalid {
                    code: ErrorCode::Usage,
                    field: "count",
                    why: format!("must be from 1 to {MAX_CONVERSATIONS}, not {count}"),
                });
            }
            Response::Conversations {
                total: g.add_conversations(count, &themes)?,
            }
        }
        Request::MeetupAdd { input } => Response::Created {
            id: g.add_meetup(&input)?,
        },
        Request::MeetupList => Response::Meetups(g.meetups()?),
        Request::MeetupShow { id } => Response::Meetup(g.meetup(&id)?),
        Request::MeetupNoteAppend { id, text } => {
            g.append_meetup_note(&id, &text)?;
            Response::Saved
        }
        Request::MeetupNoteSet { id, text, base } => {
            g.set_meetup_notes(&id, &text, base.as_deref())?;
            Response::Saved
        }
        Request::MeetupEdit { id, patch } => Response::Changed {
            changed: g.change_meetup(&id, &patch)?,
        },
        Request::MeetupRemove { id } => {
            g.remove_meetup(&id)?;
            Response::Changed { changed: true }
        }
        Request::MeetupAttendance { id, count } => {
            g.set_attendance(&id, count)?;
            Response::Saved
        }
        Request::DeviceList => Response::Devices(devices(g)?),
        Request::Status => {
            super::unavailable("status needs a running node (start one with `groundwork up`)")
        }
        Request::Subscribe => {
            super::unavailable("events need a running node (start one with `groundwork up`)")
        }
        Request::Invite { role, ttl_secs } => {
            // No node runs: the invite names the addresses of the last `up`.
            let ticket: Option<String> = g.meta(crate::group::TICKET_KEY)?;
            let Some(addrs) = ticket.and_then(|t| crate::net::parse_ticket(&t).ok()) else {
                return Ok(super::unavailable(
                    "run `groundwork up` once first, so the invite can say where to find this device",
                ));
            };
            let invite = g.create_invite(role, g.clock().secs(), ttl_secs, addrs.1)?;
            Response::Invite {
                text: invite.to_text(),
            }
        }
        Request::PlanGoalEdit { id, text } => Response::Changed {
            changed: g.edit_goal(&id, &text)?,
        },
        Request::PlanGoalRemove { id } => {
            g.remove_goal(&id)?;
            Response::Changed { changed: true }
        }
        Request::PlanActionEdit { id, patch } => Response::Changed {
            changed: g.edit_action(&id, &patch)?,
        },
        Request::PlanActionRemove { id } => {
            g.remove_action(&id)?;
            Response::Changed { changed: true }
        }
        Request::MeetupRedact { text } => {
            let (meetups, epoch) = g.redact_meetups(&text)?;
            Response::Redacted { meetups, epoch }
        }
        Request::Ticket => match g.meta::<String>(crate::group::TICKET_KEY)? {
            Some(text) => Response::Ticket { text },
            None => {
                return Ok(super::unavailable(
                    "no ticket yet: run `groundwork up` once to get one",
                ));
            }
        },
        Request::Backup { file } => {
            let w = crate::backup::write(g, std::path::Path::new(&file), None).map_err(
                |e| match e {
                    crate::backup::BackupError::Group(e) => e,
                    other => GroupError::Invalid {
                        code: match other {
                            crate::backup::BackupError::NoPassphrase => ErrorCode::Usage,
                            _ => ErrorCode::Internal,
                        },
                        field: "backup",
                        why: other.to_string(),
                    },
                },
            )?;
            Response::BackedUp {
                bytes: w.bytes,
                group_key: w.group_key,
            }
        }
        Request::EpochStart { kind } => Response::EpochStarted {
            kind,
            epoch: g.start_epoch(kind)?,
        },
        Request::DeviceRevoke { id } => {
            let (device, epochs) = g.revoke_device(&id, g.clock().today())?;
            Response::Revoked { device, epochs }
        }
        Request::PeerList => {
            Response::Peers(crate::runtime::peer_statuses(g, &Default::default())?)
        }
        Request::Network => Response::Directory(crate::runtime::directory(g)?),
        Request::Report => Response::Report(Box::new(crate::runtime::report(g)?)),
        Request::Shared { group } => Response::Shared(g.shared(&group)?),
        Request::Affiliate { .. } => super::unavailable(
            "affiliating goes through the running national node (start it with `groundwork up`)",
        ),
        Request::PeerAdd { .. } => super::unavailable(
            "linking goes through the running node here (start one with `groundwork up`)",
        ),
        Request::LinkCode { ttl_secs } => {
            // No node runs: the ticket names the addresses of the last `up`.
            let ticket: Option<String> = g.meta(crate::group::TICKET_KEY)?;
            let Some(addrs) = ticket.and_then(|t| crate::net::parse_ticket(&t).ok()) else {
                return Ok(super::unavailable(
                    "run `groundwork up` once first, so the link ticket can say where to find this device",
                ));
            };
            let t = g.create_link_code(g.clock().secs(), ttl_secs, addrs.1)?;
            Response::LinkCode {
                text: t.to_text(),
                expires: t.expires,
            }
        }
        Request::LinkRequests => Response::LinkRequests(g.link_requests(g.clock().secs())?),
        Request::PeerAccept { id } => {
            // No node runs: the link is recorded, and the next `up` dials it.
            g.require_steward()?;
            let (group, request, card) = g.find_request(&id, g.clock().secs())?;
            g.store().put_card(group.as_bytes(), card.bytes())?;
            let rec = crate::runtime::remember_linked(g, request.device, group, request.addrs)?;
            g.drop_request(&group)?;
            Response::Peers(vec![groundwork_protocol::control::PeerStatus {
                device: rec.device,
                group: rec.group,
                name: Some(card.card().name.clone()),
                connected: false,
                last_seen: Some(rec.last_seen),
                last_error: None,
                in_sync: None,
                requested: false,
            }])
        }
        Request::PeerRefuse { id } => {
            g.require_steward()?;
            let (group, _, _) = g.find_request(&id, g.clock().secs())?;
            g.drop_request(&group)?;
            Response::LinkRequests(g.link_requests(g.clock().secs())?)
        }
    })
}

/// The group's devices, marking this one.
fn devices(g: &Group) -> Result<Vec<DeviceView>, GroupError> {
    let devices: Devices = g.read()?;
    let me = g.device_id().to_string();
    Ok(devices
        .devices
        .into_iter()
        .map(|(id, entry)| DeviceView {
            this_device: id == me,
            id,
            entry,
        })
        .collect())
}
