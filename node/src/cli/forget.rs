//! `member forget`: an erasure request, confirmed.

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
        Response::MemberForgotten { id, member, epochs } => {
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
        }
        other => return Err(unexpected(&other)),
    }
    Ok(())
}
