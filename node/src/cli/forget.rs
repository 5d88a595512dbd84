//! `member forget`: an erasure request, confirmed; and `meetup redact`,
//! which it offers when the member's name is in meet-ups.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use groundwork_protocol::control::{Request, Response};

use super::output::Out;
use super::target::{Target, unexpected};

/// `member forget`: confirms on a terminal (or takes `--yes`), then
/// forgets the member and says what happens next.
pub(super) fn forget(
    t: &mut Target,
    id: groundwork_protocol::ShortId,
    yes: bool,
    redact_notes: bool,
    out: &mut Out,
) -> Result<()> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("member forget erases for good: run it on a terminal to confirm, or add --yes");
        }
        let who = match t.answer(Request::MemberShow { id: id.clone() }, |_| {})? {
            Response::Member(m) => format!(
                "{} ({id})",
                groundwork_protocol::text::safe_line(&m.member.name)
            ),
            _ => format!("member {id} (already removed)"),
        };
        eprint!(
            "Forget {who} for good? Their name, email, phone and consent are erased from \
             every device's history as it syncs. Type 'forget' to confirm: "
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "forget" {
            bail!("nothing was forgotten (the answer was not 'forget')");
        }
    }
    match t.send(Request::MemberForget { id })? {
        Response::MemberForgotten {
            id,
            member,
            epochs,
            mentions,
        } => {
            let name = member.as_ref().map(|m| m.name.clone());
            let who = member.map_or_else(|| "a member removed earlier".to_owned(), |m| m.name);
            let started: Vec<String> = epochs
                .iter()
                .map(|(kind, n)| format!("{kind} epoch {n}"))
                .collect();
            out.line(format!("forgot member {id}: {who}"))?;
            out.line(format!(
                "erased from this device's history ({}); each other device erases it when it \
                 next syncs (`groundwork status` names those still on the old epoch)",
                started.join(", ")
            ))?;
            let kinds: Vec<_> = epochs.iter().map(|(k, _)| *k).collect();
            super::epochs::switching(t, &kinds, out)?;
            if let Some(name) = name
                && !mentions.is_empty()
            {
                offer_redaction(t, &name, &mentions, yes, redact_notes, out)?;
            }
        }
        other => return Err(unexpected(&other)),
    }
    Ok(())
}

/// The forgotten member's name is in meet-ups: redact it there too with
/// `--redact-notes`, or when the steward agrees on a terminal; otherwise
/// say how.
fn offer_redaction(
    t: &mut Target,
    name: &str,
    mentions: &[groundwork_protocol::ShortId],
    yes: bool,
    redact_notes: bool,
    out: &mut Out,
) -> Result<()> {
    let ids: Vec<String> = mentions.iter().map(ToString::to_string).collect();
    let shown = groundwork_protocol::text::safe_line(name);
    let redact = redact_notes
        || (!yes && std::io::stdin().is_terminal() && {
            eprint!(
                "{shown} is also named in {} ({}). Redact the name there too? A new \
                 epoch of the meet-ups erases the old text. Type 'redact' to confirm: ",
                super::output::count(ids.len(), "meet-up"),
                ids.join(", ")
            );
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            answer.trim() == "redact"
        });
    if redact {
        redact_text(t, name, out)
    } else {
        out.line(format!(
            "{shown} is also named in {} ({}): left as they are; \
             `groundwork meetup redact \"{shown}\"` takes the name out",
            super::output::count(ids.len(), "meet-up"),
            ids.join(", ")
        ))?;
        Ok(())
    }
}

/// `meetup redact TEXT`, and the redaction `member forget` offers.
pub(super) fn redact_text(t: &mut Target, text: &str, out: &mut Out) -> Result<()> {
    match t.send(Request::MeetupRedact {
        text: text.to_owned(),
    })? {
        Response::Redacted {
            meetups,
            epoch: Some(epoch),
        } => {
            let ids: Vec<String> = meetups.iter().map(ToString::to_string).collect();
            out.line(format!(
                "redacted it from {} ({}) and started meetups epoch {epoch}: the old \
                 text is gone from this device, and from each other device as it syncs",
                super::output::count(ids.len(), "meet-up"),
                ids.join(", ")
            ))?;
            super::epochs::switching(t, &[groundwork_protocol::DocKind::Meetups], out)
        }
        Response::Redacted { epoch: None, .. } => {
            out.line("no meet-up holds that text: nothing changed")?;
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
