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
                })
                .collect(),
            focus: 0,
            error: None,
            saving: false,
        }
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
}
