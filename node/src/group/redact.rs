//! Redacting a name from meet-ups: every place, agenda, notes and action
//! line of every meet-up, then a new epoch of the meet-ups document so the
//! old text is in no history (`member forget` offers it when the forgotten
//! member's name appears there).

use groundwork_protocol::control::ErrorCode;
use groundwork_protocol::schema::{Meetup, Meetups};
use groundwork_protocol::text::Field;
use groundwork_protocol::{DocKind, ShortId};

use super::{Group, GroupError};

/// What a redaction leaves where the text was.
pub const REDACTED: &str = "[redacted]";

/// `hay` with every case-insensitive occurrence of `needle` as a whole
/// word (no letter or digit either side: "Dan" is not found in "Dancing")
/// replaced by [`REDACTED`], or `None` if there is none. Matching is done
/// character by character, case folded.
fn redacted(hay: &str, needle: &[char]) -> Option<String> {
    if needle.is_empty() {
        return None;
    }
    let chars: Vec<char> = hay.chars().collect();
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut out = String::with_capacity(hay.len());
    let mut i = 0;
    let mut found = false;
    while i < chars.len() {
        let end = i + needle.len();
        let hit = end <= chars.len()
            && needle.iter().zip(&chars[i..]).all(|(n, c)| same(*n, *c))
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && chars.get(end).is_none_or(|c| !c.is_alphanumeric());
        if hit {
            out.push_str(REDACTED);
            i += needle.len();
            found = true;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    found.then_some(out)
}

/// Whether any of `m`'s text holds `needle` (any case).
fn mentions(m: &Meetup, needle: &[char]) -> bool {
    [m.place.as_str(), m.agenda.as_str(), m.notes.as_str()]
        .into_iter()
        .chain(m.actions.iter().map(String::as_str))
        .any(|t| redacted(t, needle).is_some())
}

impl Group {
    /// The meet-ups whose place, agenda, notes or actions hold `text` (any
    /// case). Text under 3 characters matches nothing.
    pub fn meetup_mentions(&self, text: &str) -> Result<Vec<ShortId>, GroupError> {
        let needle: Vec<char> = text.trim().chars().collect();
        if needle.len() < 3 {
            return Ok(Vec::new());
        }
        let ms: Meetups = self.read()?;
        Ok(ms
            .meetups
            .iter()
            .filter(|m| mentions(m, &needle))
            .map(|m| m.id.clone())
            .collect())
    }

    /// Replaces `text` (any case, at least 3 characters) with
    /// [`REDACTED`] in every meet-up, then starts a new epoch of the
    /// meet-ups so the text is in no history here, nor on any device once it
    /// switches. Returns the meet-ups changed and the epoch (none if the
    /// text was nowhere).
    pub fn redact_meetups(&self, text: &str) -> Result<(Vec<ShortId>, Option<u64>), GroupError> {
        let needle: Vec<char> = text.trim().chars().collect();
        if needle.len() < 3 {
            return Err(GroupError::Invalid {
                code: ErrorCode::Usage,
                field: "text",
                why: "give at least 3 characters to redact".into(),
            });
        }
        // A name, an email, a phone number: one line, as long as a name.
        super::checked(Field::MemberName, text.trim()).map_err(|_| GroupError::Invalid {
            code: ErrorCode::Usage,
            field: "text",
            why: format!(
                "give one line of at most {} characters to redact",
                Field::MemberName.max_chars()
            ),
        })?;
        let role = self.role()?;
        if !role.may_write(DocKind::Roster) {
            // Starting the epoch that erases it takes a steward or organiser.
            return Err(GroupError::Forbidden {
                role,
                kind: DocKind::Meetups,
                verb: "redact",
            });
        }
        let ids = self.meetup_mentions(text)?;
        if ids.is_empty() {
            return Ok((ids, None));
        }
        self.edit(&[DocKind::Meetups], |ed| {
            groundwork_protocol::edit::update(ed.doc(DocKind::Meetups)?, |ms: &mut Meetups| {
                for m in &mut ms.meetups {
                    if let Some(t) = redacted(&m.place, &needle) {
                        m.place = t;
                    }
                    if let Some(t) = redacted(m.agenda.as_str(), &needle) {
                        m.agenda.update(t);
                    }
                    if let Some(t) = redacted(m.notes.as_str(), &needle) {
                        m.notes.update(t);
                    }
                    for a in &mut m.actions {
                        if let Some(t) = redacted(a, &needle) {
                            *a = t;
                        }
                    }
                }
            })?;
            Ok(())
        })?;
        let epoch = self.start_epoch(DocKind::Meetups)?;
        Ok((ids, Some(epoch)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn every_whole_word_occurrence_in_any_case_is_redacted_and_nothing_else() {
        assert_eq!(
            redacted(
                "Bob Smith spoke; bob smith agreed. BOB SMITHS",
                &chars("Bob Smith")
            )
            .as_deref(),
            Some("[redacted] spoke; [redacted] agreed. BOB SMITHS")
        );
        // Whole words only: a redaction cannot be undone.
        assert_eq!(
            redacted("Dan came dancing; Dan's abundance", &chars("Dan")).as_deref(),
            Some("[redacted] came dancing; [redacted]'s abundance")
        );
        assert_eq!(redacted("Nothing here", &chars("Bob Smith")), None);
        assert_eq!(
            redacted("Zoë Ørsted came", &chars("zoë ørsted")).as_deref(),
            Some("[redacted] came")
        );
        assert_eq!(redacted("abc", &[]), None);
    }
}
