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
                self.error = None;
            }
        }
        FormKey::Handled
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
