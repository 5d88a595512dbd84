//! Text limits, and text made safe for a terminal.
//!
//! Three layers:
//!
//! - **From a user** (the command line, the control socket, the terminal
//!   UI): every field has a maximum length, and names, areas, titles,
//!   places and the like refuse control characters and bidirectional
//!   overrides ([`check`]). Multi-line fields (notes, agenda, the
//!   constitution) allow line feeds and tabs only.
//! - **From a peer** (cards and document changes): the same maximum
//!   lengths ([`within_limit`], [`scalar_limit`]); what it contains is made
//!   safe on output.
//! - **To a terminal**: any text that came from a peer passes [`safe`]
//!   (or [`safe_line`] for one line) before it is printed or drawn:
//!   control characters become their visible Unicode pictures (ESC shows
//!   as `␛`), and bidirectional controls become `�`.

use std::borrow::Cow;

/// A text field, with its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// A group's name.
    GroupName,
    /// Where a group organises.
    Area,
    /// A member's name.
    MemberName,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// Where a meet-up is held.
    Place,
    /// A plan action's title.
    ActionTitle,
    /// A plan goal.
    Goal,
    /// The plan's vision.
    Vision,
    /// A listening conversation's theme.
    Theme,
    /// A device's label.
    DeviceLabel,
    /// A meet-up's agenda.
    Agenda,
    /// A meet-up's notes.
    Notes,
    /// The constitution's text.
    Constitution,
    /// An amendment's summary.
    AmendmentSummary,
    /// An action's owner, as typed (a member id or name).
    Owner,
}

impl Field {
    /// The most characters the field holds.
    pub const fn max_chars(self) -> usize {
        match self {
            Field::GroupName | Field::Area => 120,
            Field::MemberName | Field::Place | Field::Owner => 200,
            Field::Email => 254,
            Field::Phone => 40,
            Field::ActionTitle => 300,
            Field::Goal | Field::AmendmentSummary => 1000,
            Field::Vision => 5000,
            Field::Theme | Field::DeviceLabel => 100,
            Field::Agenda => 20_000,
            Field::Notes => 100_000,
            Field::Constitution => 200_000,
        }
    }

    /// Whether the field may hold line feeds and tabs.
    pub fn multiline(self) -> bool {
        matches!(
            self,
            Field::Agenda | Field::Notes | Field::Constitution | Field::Vision
        )
    }

    /// What the field is called in an error.
    pub fn name(self) -> &'static str {
        match self {
            Field::GroupName => "name",
            Field::Area => "area",
            Field::MemberName => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Place => "place",
            Field::ActionTitle => "title",
            Field::Goal => "goal",
            Field::Vision => "vision",
            Field::Theme => "theme",
            Field::DeviceLabel => "label",
            Field::Agenda => "agenda",
            Field::Notes => "notes",
            Field::Constitution => "constitution",
            Field::AmendmentSummary => "summary",
            Field::Owner => "owner",
        }
    }
}

/// Why a user's text was refused.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextRejected {
    /// Longer than the field holds.
    #[error("{field} is {chars} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A character that could take over a terminal or reorder text.
    #[error("{field} holds {what} (U+{code:04X}), which is not allowed")]
    Forbidden {
        /// The field.
        field: &'static str,
        /// What sort of character.
        what: &'static str,
        /// Its code point.
        code: u32,
    },
}

/// The bidirectional formatting characters: embeddings, overrides and
/// isolates, the marks, and the Arabic letter mark.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Control characters: C0 (and DEL), C1, and the line and paragraph separators.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Checks a user's text for `field`: its length, and no control character
/// (but line feeds and tabs in a multi-line field) and no bidirectional
/// control.
pub fn check(field: Field, value: &str) -> Result<(), TextRejected> {
    within_limit(field, value)?;
    for c in value.chars() {
        let allowed = field.multiline() && matches!(c, '\n' | '\t');
        let what = if is_bidi(c) {
            "a bidirectional control character"
        } else if is_control(c) && !allowed {
            "a control character"
        } else {
            continue;
        };
        return Err(TextRejected::Forbidden {
            field: field.name(),
            what,
            code: u32::from(c),
        });
    }
    Ok(())
}

/// Checks only the length of `value` for `field` (text from a peer).
pub fn within_limit(field: Field, value: &str) -> Result<(), TextRejected> {
    let max = field.max_chars();
    // Cheap first: a string no longer in bytes than the limit is within it.
    if value.len() <= max {
        return Ok(());
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(TextRejected::TooLong {
            field: field.name(),
            chars,
            max,
        });
    }
    Ok(())
}

/// The most characters a single string value in a document may hold
/// under map key `key` (the schema's field names): the field's limit, or
/// the largest single-value limit for a key the schema does not name.
/// Collaborative text (notes, agenda, constitution, vision) is stored a
/// character per operation, so it is bounded by the operation caps of
/// [`crate::wire::chunks`] instead.
pub fn scalar_limit(key: Option<&str>) -> usize {
    let field = match key {
        Some("name") => Field::MemberName,
        Some("area") => Field::Area,
        Some("email") => Field::Email,
        Some("phone") => Field::Phone,
        Some("place") => Field::Place,
        Some("title") => Field::ActionTitle,
        Some("text") => Field::Goal,
        Some("label") => Field::DeviceLabel,
        Some("summary") => Field::AmendmentSummary,
        _ => Field::Vision,
    };
    field.max_chars()
}

/// The longest map key a document may use (the schema's are field names
/// and short ids; devices are keyed by 64 hex digits).
pub const MAX_KEY_BYTES: usize = 128;

/// `s` made safe for a terminal, keeping line feeds and tabs.
pub fn safe(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

/// `s` made safe for one line of a terminal: line feeds and tabs too
/// become visible pictures.
pub fn safe_line(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

fn clean(s: &str, keep_lines: bool) -> Cow<'_, str> {
    let bad = |c: char| is_bidi(c) || (is_control(c) && !(keep_lines && matches!(c, '\n' | '\t')));
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if !bad(c) {
                    c
                } else if is_bidi(c) || !c.is_ascii() {
                    '\u{FFFD}'
                } else if c == '\u{7f}' {
                    '\u{2421}'
                } else {
                    // U+2400 CONTROL PICTURE FOR NULL onwards: ␀ ␁ … ␛ … ␟.
                    char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{FFFD}')
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn each_rule() {
        assert_eq!(check(Field::GroupName, "Moorlands Climate Action"), Ok(()));
        assert!(matches!(
            check(Field::GroupName, "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}Group"),
            Err(TextRejected::Forbidden { code: 0x1b, .. })
        ));
        assert!(matches!(
            check(Field::MemberName, "Ada\u{202E}ibO"),
            Err(TextRejected::Forbidden { code: 0x202e, .. })
        ));
        assert!(matches!(
            check(Field::Place, "Leek\nlibrary"),
            Err(TextRejected::Forbidden { code: 0x0a, .. })
        ));
        assert_eq!(check(Field::Notes, "Twelve came.\n\tBuses."), Ok(()));
        assert!(check(Field::Notes, "bell\u{7}").is_err());
        assert_eq!(
            check(Field::Phone, &"7".repeat(41)),
            Err(TextRejected::TooLong {
                field: "phone",
                chars: 41,
                max: 40
            })
        );
        // The limit counts characters, not bytes.
        assert_eq!(check(Field::Phone, &"é".repeat(40)), Ok(()));
        let err = check(Field::MemberName, &"x".repeat(60 << 20)).expect_err("60 MiB");
        assert_eq!(
            err.to_string(),
            "name is 62914560 characters long; at most 200 are allowed"
        );
    }

    #[test]
    fn text_is_made_safe_and_shows_what_was_there() {
        assert_eq!(safe_line("Evil\u{1b}[2J\u{7}Group"), "Evil␛[2J␇Group");
        assert_eq!(safe_line("Ada\u{202E}ibO"), "Ada\u{FFFD}ibO");
        assert_eq!(safe_line("a\nb\tc\u{7f}"), "a␊b␉c␡");
        assert_eq!(safe("a\nb\tc\u{9b}"), "a\nb\tc\u{FFFD}");
        assert!(matches!(safe("plain text"), Cow::Borrowed(_)));
    }

    proptest! {
        /// Whatever goes in, nothing a terminal acts on comes out, and
        /// clean text passes unchanged.
        #[test]
        fn safe_output_holds_no_control(s in "\\PC*|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z ]{0,40}") {
            let out = safe_line(&s);
            prop_assert!(!out.chars().any(|c| is_control(c) || is_bidi(c)));
            if check(Field::GroupName, &s).is_ok() {
                prop_assert_eq!(out.as_ref(), s.as_str());
            }
        }
    }
}
