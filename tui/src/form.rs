//! A small form of one-line fields, for a new meet-up, action or member.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One field of a [`Form`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its label.
    pub label: &'static str,
    /// What was typed.
    pub value: String,
    /// The cursor, in chars.
    pub cursor: usize,
    /// A hint shown while it is empty.
    pub hint: &'static str,
    /// For a field chosen from a list (a member's kind), the list: ← → and
    /// Space move through it, a letter picks the first that starts with it,
    /// and nothing else can be typed.
    pub choices: &'static [&'static str],
    /// For a field that names one of many (an action's owner), what it may
    /// name, as (shown, filled in): typing narrows them to those whose name
    /// holds the text, Ctrl-N and Ctrl-P move through those, and Tab fills
    /// in the one marked.
    pub suggestions: Vec<(String, String)>,
    /// The marked suggestion, among [`Field::matches`].
    pub pick: usize,
}

/// How many of a field's matching suggestions a form lists.
pub const MATCHES_SHOWN: usize = 5;

impl Field {
    /// The suggestions whose name holds what was typed, ignoring case:
    /// those that start with it first, then the rest, each in the order
    /// given. None while nothing is typed (Tab then moves on, leaving an
    /// optional field empty), and none when what is typed is already one
    /// of them exactly.
    pub fn matches(&self) -> Vec<&(String, String)> {
        let typed = self.value.trim().to_lowercase();
        if typed.is_empty()
            || self.suggestions.iter().any(|(shown, filled)| {
                *filled == self.value.trim() || shown.to_lowercase() == typed
            })
        {
            return Vec::new();
        }
        let (mut first, mut then) = (Vec::new(), Vec::new());
        for s in &self.suggestions {
            let name = s.0.to_lowercase();
            if name.starts_with(&typed) {
                first.push(s);
            } else if name.contains(&typed) {
                then.push(s);
            }
        }
        first.extend(then);
        first
    }

    /// Whether what is typed names none of the suggestions.
    pub fn matches_none(&self) -> bool {
        !self.suggestions.is_empty()
            && !self.value.trim().is_empty()
            && self.matches().is_empty()
            && !self.suggestions.iter().any(|(shown, filled)| {
                *filled == self.value.trim()
                    || shown.to_lowercase() == self.value.trim().to_lowercase()
            })
    }
}

/// A form: fields, the focused one, and the state of its submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// The title.
    pub title: &'static str,
    /// The fields.
    pub fields: Vec<Field>,
    /// The focused field.
    pub focus: usize,
    /// Why the last submission was refused.
    pub error: Option<String>,
    /// Waiting for the node to store it.
    pub saving: bool,
}

/// What a key did to a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormKey {
    /// Handled: edited or moved.
    Handled,
    /// Enter or Ctrl-S: submit.
    Submit,
    /// Esc: cancel.
    Cancel,
    /// Not a form key.
    Ignored,
}

impl Form {
    /// A form with `fields` given as (label, hint, initial value).
    pub fn new(title: &'static str, fields: &[(&'static str, &'static str, &str)]) -> Form {
        Form {
            title,
            fields: fields
                .iter()
                .map(|(label, hint, value)| Field {
                    label,
                    value: value.to_string(),
                    cursor: value.chars().count(),
                    hint,
                    choices: &[],
                    suggestions: Vec::new(),
                    pick: 0,
                })
                .collect(),
            focus: 0,
            error: None,
            saving: false,
        }
    }

    /// Makes the field labelled `label` a choice from `choices`; its value
    /// becomes the first of them unless it already is one.
    pub fn choice(mut self, label: &str, choices: &'static [&'static str]) -> Form {
        if let Some(f) = self.fields.iter_mut().find(|f| f.label == label) {
            f.choices = choices;
            if !choices.contains(&f.value.as_str()) {
                f.value = choices.first().copied().unwrap_or_default().to_owned();
            }
            f.cursor = f.value.chars().count();
        }
        self
    }

    /// Gives the field labelled `label` `suggestions` to pick from, as
    /// (shown, filled in).
    pub fn suggest(mut self, label: &str, suggestions: Vec<(String, String)>) -> Form {
        if let Some(f) = self.fields.iter_mut().find(|f| f.label == label) {
            f.suggestions = suggestions;
            f.pick = 0;
        }
        self
    }

    /// The trimmed value of the field labelled `label` ("" if none).
    pub fn value(&self, label: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(|f| f.value.trim())
            .unwrap_or("")
    }

    /// Handles one key.
    pub fn input(&mut self, key: KeyEvent) -> FormKey {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = self.fields.len();
        match key.code {
            KeyCode::Esc => return FormKey::Cancel,
            KeyCode::Enter => return FormKey::Submit,
            KeyCode::Char('s') if ctrl => return FormKey::Submit,
            KeyCode::Char('n' | 'p') if ctrl && self.picking() => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    let n = f.matches().len().min(MATCHES_SHOWN);
                    f.pick = if key.code == KeyCode::Char('n') {
                        (f.pick + 1) % n
                    } else {
                        (f.pick + n - 1) % n
                    };
                }
            }
            KeyCode::Tab if self.picking() => {
                if let Some(f) = self.fields.get_mut(self.focus) {
                    let chosen = f.matches().get(f.pick).map(|(_, filled)| filled.clone());
                    if let Some(v) = chosen {
                        f.value = v;
                        f.cursor = f.value.chars().count();
                        f.pick = 0;
                    }
                }
                self.error = None;
                self.focus = (self.focus + 1) % n.max(1);
            }
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n.max(1),
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n.max(1) - 1) % n.max(1),
            _ if self
                .fields
                .get(self.focus)
                .is_some_and(|f| !f.choices.is_empty()) =>
            {
                let Some(f) = self.fields.get_mut(self.focus) else {
                    return FormKey::Ignored;
                };
                let n = f.choices.len();
                let at = f.choices.iter().position(|c| *c == f.value).unwrap_or(0);
                let next = match key.code {
                    KeyCode::Left => (at + n - 1) % n,
                    KeyCode::Right | KeyCode::Char(' ') => (at + 1) % n,
                    KeyCode::Char(c) if !ctrl => f
                        .choices
                        .iter()
                        .position(|choice| {
                            choice
                                .chars()
                                .next()
                                .is_some_and(|first| first.eq_ignore_ascii_case(&c))
                        })
                        .unwrap_or(at),
                    KeyCode::Backspace | KeyCode::Delete | KeyCode::Home | KeyCode::End => at,
                    _ => return FormKey::Ignored,
                };
                f.value = f.choices[next].to_owned();
                f.cursor = f.value.chars().count();
                self.error = None;
            }
            _ => {
                let Some(f) = self.fields.get_mut(self.focus) else {
                    return FormKey::Ignored;
                };
                let len = f.value.chars().count();
                match key.code {
                    KeyCode::Char('u') if ctrl => {
                        f.value.clear();
                        f.cursor = 0;
                    }
                    KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
                        let at = byte_at(&f.value, f.cursor);
                        f.value.insert(at, c);
                        f.cursor += 1;
                    }
                    KeyCode::Backspace if f.cursor > 0 => {
                        f.cursor -= 1;
                        let at = byte_at(&f.value, f.cursor);
                        f.value.remove(at);
                    }
                    KeyCode::Delete if f.cursor < len => {
                        let at = byte_at(&f.value, f.cursor);
                        f.value.remove(at);
                    }
                    KeyCode::Left => f.cursor = f.cursor.saturating_sub(1),
                    KeyCode::Right => f.cursor = (f.cursor + 1).min(len),
                    KeyCode::Home => f.cursor = 0,
                    KeyCode::End => f.cursor = len,
                    KeyCode::Backspace | KeyCode::Delete => {}
                    _ => return FormKey::Ignored,
                }
                f.pick = 0;
                self.error = None;
            }
        }
        FormKey::Handled
    }
}

impl Form {
    /// Whether the focused field lists suggestions that match what is
    /// typed, so Tab fills one in.
    pub fn picking(&self) -> bool {
        self.fields
            .get(self.focus)
            .is_some_and(|f| !f.suggestions.is_empty() && !f.matches().is_empty())
    }
}

/// The byte offset of char `i` of `s` (its length past the end).
fn byte_at(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn a_suggested_field_narrows_by_part_of_a_name_and_tab_fills_the_marked_one() {
        let people = vec![
            ("Amara Ashworth".to_string(), "Amara Ashworth".to_string()),
            ("Bryn Bello".to_string(), "Bryn Bello".to_string()),
            ("Cora Bello".to_string(), "k3f9qz".to_string()),
            ("Abe Marsh".to_string(), "Abe Marsh".to_string()),
        ];
        let mut f = Form::new("t", &[("Owner", "", ""), ("Due", "", "")]).suggest("Owner", people);
        // Nothing typed: none listed, and Tab leaves the field empty.
        assert!(f.fields[0].matches().is_empty() && !f.picking());
        f.input(key(KeyCode::Tab));
        assert_eq!((f.value("Owner"), f.focus), ("", 1));
        f.focus = 0;
        for c in "bel".chars() {
            f.input(key(KeyCode::Char(c)));
        }
        let names = |f: &Form| -> Vec<String> {
            f.fields[0].matches().iter().map(|m| m.0.clone()).collect()
        };
        assert_eq!(names(&f), ["Bryn Bello", "Cora Bello"]);
        // Those starting with the text come first.
        f.input(ctrl('u'));
        f.input(key(KeyCode::Char('a')));
        assert_eq!(names(&f), ["Amara Ashworth", "Abe Marsh", "Cora Bello"]);
        // Ctrl-N marks the next; Tab fills it in and moves on.
        f.input(ctrl('u'));
        for c in "BELLO".chars() {
            f.input(key(KeyCode::Char(c)));
        }
        f.input(ctrl('n'));
        assert_eq!(f.fields[0].pick, 1);
        f.input(ctrl('n'));
        assert_eq!(f.fields[0].pick, 0, "it wraps");
        f.input(ctrl('p'));
        assert_eq!(f.input(key(KeyCode::Tab)), FormKey::Handled);
        // The shared name was filled in by its id.
        assert_eq!(f.value("Owner"), "k3f9qz");
        assert_eq!(f.focus, 1);
        // Filled: it names one exactly, so nothing is listed and Tab moves.
        assert!(f.fields[0].matches().is_empty());
        assert!(!f.fields[0].matches_none());
        f.focus = 0;
        assert!(!f.picking());
        // Text that names nobody lists nothing and says so; Tab just moves.
        f.input(ctrl('u'));
        for c in "zz".chars() {
            f.input(key(KeyCode::Char(c)));
        }
        assert!(f.fields[0].matches_none());
        f.input(key(KeyCode::Tab));
        assert_eq!((f.value("Owner"), f.focus), ("zz", 1));
        // Positive control: a field with no suggestions never matches.
        assert!(!f.fields[1].matches_none() && f.fields[1].matches().is_empty());
    }

    #[test]
    fn typing_moving_and_deleting_edit_the_focused_field() {
        let mut f = Form::new("t", &[("A", "", ""), ("B", "", "x")]);
        for c in "héllo".chars() {
            assert_eq!(f.input(key(KeyCode::Char(c))), FormKey::Handled);
        }
        f.input(key(KeyCode::Left));
        f.input(key(KeyCode::Backspace));
        assert_eq!(f.value("A"), "hélo");
        f.input(key(KeyCode::Home));
        f.input(key(KeyCode::Delete));
        assert_eq!(f.value("A"), "élo");
        f.input(key(KeyCode::Tab));
        f.input(key(KeyCode::Char('y')));
        assert_eq!(f.value("B"), "xy");
        f.input(key(KeyCode::BackTab));
        assert_eq!(f.focus, 0);
        f.input(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(f.value("A"), "");
        assert_eq!(f.input(key(KeyCode::Enter)), FormKey::Submit);
        assert_eq!(f.input(key(KeyCode::Esc)), FormKey::Cancel);
        assert_eq!(f.input(key(KeyCode::F(5))), FormKey::Ignored);
    }

    #[test]
    fn a_choice_field_takes_only_its_choices() {
        const KINDS: &[&str] = &["professional", "activist", "observer"];
        let mut f =
            Form::new("t", &[("Name", "", ""), ("Kind", "", "activist")]).choice("Kind", KINDS);
        assert_eq!(f.value("Kind"), "activist");
        f.input(key(KeyCode::Tab));
        f.input(key(KeyCode::Right));
        assert_eq!(f.value("Kind"), "observer");
        f.input(key(KeyCode::Right));
        assert_eq!(f.value("Kind"), "professional", "wraps round");
        f.input(key(KeyCode::Left));
        assert_eq!(f.value("Kind"), "observer");
        // A letter picks the choice it starts; anything else changes nothing.
        f.input(key(KeyCode::Char('A')));
        assert_eq!(f.value("Kind"), "activist");
        for c in ['z', '7', ' '] {
            f.input(key(KeyCode::Char(c)));
        }
        assert!(KINDS.contains(&f.value("Kind")), "{}", f.value("Kind"));
        f.input(key(KeyCode::Backspace));
        f.input(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert!(KINDS.contains(&f.value("Kind")), "{}", f.value("Kind"));
        // A default that is not a choice becomes the first.
        let g = Form::new("t", &[("Kind", "", "bogus")]).choice("Kind", KINDS);
        assert_eq!(g.value("Kind"), "professional");
        // The free-text field beside it still takes typing.
        f.input(key(KeyCode::BackTab));
        f.input(key(KeyCode::Char('z')));
        assert_eq!(f.value("Name"), "z");
    }
}
