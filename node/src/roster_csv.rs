//! The roster as a spreadsheet: CSV import and export.
//!
//! Import accepts what real spreadsheets write: UTF-8 with or without a
//! byte-order mark, quoted fields containing commas and newlines, CRLF line
//! endings, header names in any case with the usual synonyms ("Full name",
//! "E-mail", "Phone number", "Member type"), first and last name in separate
//! columns, dates as `YYYY-MM-DD` or `DD/MM/YYYY`, `;` as the separator
//! (a spreadsheet saved where the decimal mark is a comma), and blank rows.
//! Columns it does not know are ignored and reported. Every row is
//! validated before anything is imported; an error names the file, the line
//! and the field, never the value.
//!
//! Export writes every field import reads, including the member id, so an
//! exported file imports back to an identical roster. A text cell that a
//! spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, a tab or
//! a carriage return: OWASP's list for CSV injection) is written with a
//! leading `'`, which spreadsheets take as "text", and import removes again.

use std::io::Write;
use std::path::Path;

use groundwork_protocol::schema::{Course, LawfulBasis, MemberKind, MemberStatus};
use groundwork_protocol::{Date, ShortId};

use crate::group::{MemberInput, MemberView};
use crate::group::{validate_email, validate_phone};

/// The fields a column can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Kind,
    Joined,
    Status,
    Principles,
    Courses,
    Trained,
    Consent,
    LawfulBasis,
    ConsentDate,
}

impl Field {
    /// The field's name in error messages.
    fn label(self) -> &'static str {
        match self {
            Field::Id => "ID",
            Field::Name => "Name",
            Field::FirstName => "First name",
            Field::LastName => "Last name",
            Field::Email => "Email",
            Field::Phone => "Phone",
            Field::Kind => "Member type",
            Field::Joined => "Joined",
            Field::Status => "Status",
            Field::Principles => "Principles of Practice",
            Field::Courses => "Courses",
            Field::Trained => "First trained",
            Field::Consent => "Consent to contact",
            Field::LawfulBasis => "Lawful basis",
            Field::ConsentDate => "Consent date",
        }
    }
}

/// Header names (lowercased, letters and digits only) for each field.
const SYNONYMS: &[(Field, &[&str])] = &[
    (Field::Id, &["id", "memberid", "groundworkid"]),
    (
        Field::Name,
        &["name", "fullname", "membername", "yourname", "nameofmember"],
    ),
    (
        Field::FirstName,
        &["firstname", "forename", "givenname", "first"],
    ),
    (
        Field::LastName,
        &["lastname", "surname", "familyname", "last"],
    ),
    (
        Field::Email,
        &["email", "emailaddress", "mail", "emailaddr"],
    ),
    (
        Field::Phone,
        &[
            "phone",
            "phonenumber",
            "telephone",
            "telephonenumber",
            "tel",
            "mobile",
            "mobilenumber",
            "mobilephone",
            "contactnumber",
        ],
    ),
    (
        Field::Kind,
        &[
            "membertype",
            "type",
            "kind",
            "memberkind",
            "membershiptype",
            "category",
        ],
    ),
    (
        Field::Joined,
        &[
            "joined",
            "datejoined",
            "joindate",
            "joiningdate",
            "membersince",
            "joinedon",
        ],
    ),
    (Field::Status, &["status", "memberstatus"]),
    (
        Field::Principles,
        &[
            "principlesofpractice",
            "principlesagreed",
            "principlesofpracticeagreed",
            "principlesofpracticedate",
            "popagreed",
            "pop",
        ],
    ),
    (
        Field::Courses,
        &["courses", "coursesattended", "training", "trainingattended"],
    ),
    (
        Field::Trained,
        &[
            "firsttrained",
            "trained",
            "trainedon",
            "datetrained",
            "firstcourse",
        ],
    ),
    (
        Field::Consent,
        &[
            "consenttocontact",
            "consent",
            "cancontact",
            "happytobecontacted",
        ],
    ),
    (Field::LawfulBasis, &["lawfulbasis", "gdprbasis"]),
    (
        Field::ConsentDate,
        &["consentdate", "dateofconsent", "consentgiven"],
    ),
];

fn normalise_header(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// One invalid row: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line the row starts on (1 is the header).
    pub line: u64,
    /// The column.
    pub field: &'static str,
    /// What is wrong with it.
    pub why: String,
}

/// A parsed file.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// Valid rows with their line numbers.
    pub rows: Vec<(u64, MemberInput)>,
    /// Invalid rows.
    pub invalid: Vec<RowError>,
    /// Header names that were not recognised and so ignored.
    pub ignored_columns: Vec<String>,
    /// Course names not in the programme's list, kept as written.
    pub unknown_courses: std::collections::BTreeSet<String>,
}

impl Parsed {
    /// Moves to `invalid` every row with a date that cannot have happened
    /// by `today` or is before 1900 (a typed-in future joining date, year
    /// 0001): the file has no clock, so this is a step of its own.
    pub fn refuse_impossible_dates(&mut self, today: Date) {
        let rows = std::mem::take(&mut self.rows);
        for (line, input) in rows {
            match crate::group::impossible_date(&input, today) {
                None => self.rows.push((line, input)),
                Some((_, column, why)) => self.invalid.push(RowError {
                    line,
                    field: column,
                    why: why.to_string(),
                }),
            }
        }
        self.invalid.sort_by_key(|e| e.line);
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not valid CSV or not UTF-8.
    #[error("{file} line {line}: {why}")]
    Format {
        /// The file.
        file: String,
        /// The line.
        line: u64,
        /// What is wrong.
        why: String,
    },
    /// The header row lacks a name column.
    #[error(
        "{file}: no name column (expected a header such as 'Name', 'Full name', or 'First name' and 'Last name')"
    )]
    NoNameColumn {
        /// The file.
        file: String,
    },
    /// Two columns mean the same field.
    #[error("{file}: columns '{first}' and '{second}' both hold {field}")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// The first column's header.
        first: String,
        /// The second column's header.
        second: String,
        /// The field both hold.
        field: &'static str,
    },
    /// The file is empty.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file.
        file: String,
    },
}

/// Reads and validates a roster spreadsheet at `path`.
pub fn read_file(path: &Path) -> Result<Parsed, CsvError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| CsvError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&bytes, &file)
}

/// Parses and validates CSV bytes; `file` names the source in errors.
pub fn parse(bytes: &[u8], file: &str) -> Result<Parsed, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(bytes))
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let format = |line: u64, why: String| CsvError::Format {
        file: file.to_owned(),
        line,
        why,
    };
    let header = match records.next() {
        None => {
            return Err(CsvError::Empty {
                file: file.to_owned(),
            });
        }
        Some(r) => r.map_err(|e| format(e.position().map_or(1, |p| p.line()), e.to_string()))?,
    };
    let mut columns: Vec<Option<Field>> = Vec::new();
    let mut parsed = Parsed::default();
    let mut seen: Vec<(Field, String)> = Vec::new();
    for raw in header.iter() {
        let h = std::str::from_utf8(raw).map_err(|_| {
            format(
                1,
                "the header is not UTF-8 (save the spreadsheet as 'CSV UTF-8')".into(),
            )
        })?;
        let n = normalise_header(h);
        let field = SYNONYMS
            .iter()
            .find(|(_, names)| names.contains(&n.as_str()))
            .map(|(f, _)| *f);
        match field {
            Some(f) => {
                if let Some((_, first)) = seen.iter().find(|(x, _)| *x == f) {
                    return Err(CsvError::DuplicateColumn {
                        file: file.to_owned(),
                        first: first.clone(),
                        second: h.to_owned(),
                        field: f.label(),
                    });
                }
                seen.push((f, h.to_owned()));
            }
            None if h.trim().is_empty() => {}
            None => parsed.ignored_columns.push(h.trim().to_owned()),
        }
        columns.push(field);
    }
    let has = |f: Field| columns.contains(&Some(f));
    if !(has(Field::Name) || has(Field::FirstName) || has(Field::LastName)) {
        return Err(CsvError::NoNameColumn {
            file: file.to_owned(),
        });
    }
    let mut lines = LineCounter::new(bytes);
    for record in records {
        let record = record.map_err(|e| {
            format(
                e.position().map_or(0, |p| lines.line_at(p.byte())),
                e.to_string(),
            )
        })?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let mut cells: Vec<(Field, &str)> = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let Some(Some(field)) = columns.get(i) else {
                continue;
            };
            let text = std::str::from_utf8(raw).map_err(|_| {
                format(
                    line,
                    format!(
                        "column '{}' is not UTF-8 (save the spreadsheet as 'CSV UTF-8')",
                        field.label()
                    ),
                )
            })?;
            cells.push((*field, unguard(text.trim())));
        }
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue; // a blank row
        }
        match row(&cells) {
            Ok(input) => {
                for c in &input.courses {
                    if let Course::Other(name) = c {
                        parsed.unknown_courses.insert(name.clone());
                    }
                }
                parsed.rows.push((line, input));
            }
            Err((field, why)) => parsed.invalid.push(RowError {
                line,
                field: field.label(),
                why,
            }),
        }
    }
    Ok(parsed)
}

/// The separator: `;` when the header row has semicolons and no comma,
/// else `,`.
fn separator(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    if header.contains(&b';') && !header.contains(&b',') {
        b';'
    } else {
        b','
    }
}

/// What makes a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written: with a leading `'` if it would run as a formula
/// (the roster export, and the national report's CSV).
pub(crate) fn guard(cell: String) -> String {
    if cell.starts_with(FORMULA_START) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A cell as read: without the `'` [`guard`] added.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// Line numbers from byte offsets. csv's own line count lags by one after a
/// CRLF (the LF is consumed with the next record), so count here instead.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line of the first character at or after `byte` that starts a
    /// record (skipping the LF of a CRLF). Offsets must not decrease.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if self.bytes.get(target) == Some(&b'\n') && target > 0 && self.bytes[target - 1] == b'\r' {
            target += 1;
        }
        if target > self.at {
            self.line += self.bytes[self.at..target]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.at = target;
        }
        self.line
    }
}

fn row(cells: &[(Field, &str)]) -> Result<MemberInput, (Field, String)> {
    let mut input = MemberInput::default();
    let (mut first, mut last) = (None, None);
    for (field, v) in cells.iter().filter(|(_, v)| !v.is_empty()) {
        let f = *field;
        let err = |why: String| (f, why);
        let date = |v: &str| v.parse::<Date>().map_err(|e| err(e.to_string()));
        match f {
            Field::Id => input.id = Some(v.parse::<ShortId>().map_err(|e| err(e.to_string()))?),
            Field::Name => input.name = Some((*v).to_owned()),
            Field::FirstName => first = Some(*v),
            Field::LastName => last = Some(*v),
            Field::Email => input.email = Some(validate_email(v).map_err(err)?),
            Field::Phone => input.phone = Some(validate_phone(v).map_err(err)?),
            Field::Kind => {
                input.kind = Some(v.parse::<MemberKind>().map_err(|e| err(e.to_string()))?)
            }
            Field::Joined => input.joined = Some(date(v)?),
            Field::Status => {
                input.status = Some(v.parse::<MemberStatus>().map_err(|e| err(e.to_string()))?)
            }
            Field::Principles => input.principles_agreed = Some(date(v)?),
            Field::Trained => input.trained = Some(date(v)?),
            Field::Courses => {
                for c in v
                    .split([';', '|', '\n'])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    // A course outside the programme's list is kept as written
                    // (and reported), so exports from newer versions round-trip.
                    let course = Course::from(c.to_owned());
                    input.courses.push(course);
                }
            }
            Field::Consent => {
                input.consent_to_contact =
                    Some(parse_bool(v).ok_or_else(|| err(format!("'{v}' is not yes or no")))?)
            }
            Field::LawfulBasis => {
                input.lawful_basis = Some(v.parse::<LawfulBasis>().map_err(|e| err(e.to_string()))?)
            }
            Field::ConsentDate => input.consent_date = Some(date(v)?),
        }
    }
    if input.name.is_none() {
        let joined = [first, last]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        input.name = (!joined.is_empty()).then_some(joined);
    }
    if input.name.is_none() {
        return Err((Field::Name, "missing: every member needs a name".into()));
    }
    Ok(input)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "x" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The header export writes. Import reads every one of these.
pub const EXPORT_HEADER: [&str; 13] = [
    "ID",
    "Name",
    "Email",
    "Phone",
    "Member type",
    "Joined",
    "Status",
    "Principles of Practice",
    "Courses",
    "First trained",
    "Consent to contact",
    "Lawful basis",
    "Consent date",
];

/// Writes members as CSV (UTF-8, no byte-order mark, `\n` line endings).
pub fn write(members: &[MemberView], out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(EXPORT_HEADER)?;
    for m in members {
        let c = m.contact.clone().unwrap_or_default();
        let opt = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        w.write_record([
            m.id.to_string(),
            guard(m.member.name.clone()),
            guard(c.email.unwrap_or_default()),
            guard(c.phone.unwrap_or_default()),
            m.member.kind.to_string(),
            m.member.joined.to_string(),
            m.member.status.to_string(),
            opt(m.member.principles_agreed),
            guard(
                m.member
                    .courses
                    .iter()
                    .map(Course::title)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            opt(m.member.trained),
            match &m.contact {
                Some(c) if c.consent_to_contact => "yes".to_owned(),
                Some(_) => "no".to_owned(),
                None => String::new(),
            },
            if m.contact.is_some() {
                c.lawful_basis.to_string()
            } else {
                String::new()
            },
            opt(c.consent_date),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes a spreadsheet to fill in (`member import --template`): the
/// import header (without `ID`, which only an export carries) and two
/// made-up example rows, one with every column and one with only a name,
/// for the steward to replace with the group's members.
pub fn template(out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(&EXPORT_HEADER[1..])?;
    w.write_record([
        "Sam Example",
        "sam@example.org",
        "07700 900123",
        &MemberKind::Activist.to_string(),
        "01/03/2019",
        &MemberStatus::Active.to_string(),
        "01/03/2019",
        &format!(
            "{}; {}",
            Course::Introduction.title(),
            Course::ListeningSkills.title()
        ),
        "15/04/2019",
        "yes",
        &LawfulBasis::Consent.to_string(),
        "01/03/2019",
    ])?;
    w.write_record(["Jo Example", "", "", "", "", "", "", "", "", "", "", ""])?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests;
