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
mod tests {
    use super::*;

    #[test]
    fn the_template_imports_as_two_members_with_every_column_read() {
        let mut csv = Vec::new();
        template(&mut csv).expect("template");
        let p = parse(&csv, "members.csv").expect("parse");
        assert!(p.invalid.is_empty(), "{:?}", p.invalid);
        assert!(p.ignored_columns.is_empty(), "{:?}", p.ignored_columns);
        assert_eq!(p.rows.len(), 2);
        let sam = &p.rows[0].1;
        assert_eq!(sam.name.as_deref(), Some("Sam Example"));
        assert_eq!(sam.kind, Some(MemberKind::Activist));
        assert_eq!(sam.courses.len(), 2, "{:?}", sam.courses);
        assert!(sam.courses.iter().all(|c| Course::KNOWN.contains(c)));
        assert_eq!(sam.consent_to_contact, Some(true));
        assert_eq!(sam.trained, "2019-04-15".parse().ok());
        assert_eq!(p.rows[1].1.name.as_deref(), Some("Jo Example"));
        assert_eq!(p.rows[1].1.email, None);
    }

    #[test]
    fn reads_a_real_spreadsheet_export() {
        let csv = "\u{feff}Full name,E-mail,Phone number,Member type,Date joined,Favourite colour\r\n\
                   \"Obi, Ada\",ADA@example.org,07700 900123,Professional,07/03/2019,blue\r\n\
                   \"Bea \"\"B\"\" Jones\",,,activist,,\"green,\r\nish\"\r\n\
                   ,,,,,\r\n";
        let p = parse(csv.as_bytes(), "roster.csv").expect("parse");
        assert!(p.invalid.is_empty(), "{:?}", p.invalid);
        assert_eq!(p.ignored_columns, vec!["Favourite colour".to_owned()]);
        assert_eq!(p.rows.len(), 2);
        let (line, ada) = &p.rows[0];
        assert_eq!(*line, 2);
        assert_eq!(ada.name.as_deref(), Some("Obi, Ada"));
        assert_eq!(ada.email.as_deref(), Some("ADA@example.org"));
        assert_eq!(ada.kind, Some(MemberKind::Professional));
        assert_eq!(ada.joined, "2019-03-07".parse().ok());
        assert_eq!(p.rows[1].1.name.as_deref(), Some("Bea \"B\" Jones"));
    }

    #[test]
    fn semicolon_separated_files_are_read() {
        let p = parse(
            "Name;Email;Phone\n\"Obi; Ada\";ada@example.org;07700 900123\n".as_bytes(),
            "semi.csv",
        )
        .expect("parse");
        assert!(p.invalid.is_empty(), "{:?}", p.invalid);
        assert_eq!(p.rows[0].1.name.as_deref(), Some("Obi; Ada"));
        assert_eq!(p.rows[0].1.phone.as_deref(), Some("07700 900123"));
        // Control: a comma file with a semicolon in a header keeps commas.
        let p = parse(b"Name,Notes; misc\nAda,x\n", "c.csv").expect("parse");
        assert_eq!(p.rows[0].1.name.as_deref(), Some("Ada"));
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text_and_read_back() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+44 7700 900123", "'+44 7700 900123"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Ada Obi", "Ada Obi"),
            ("'quoted already", "'quoted already"),
        ] {
            assert_eq!(guard(cell.to_owned()), written);
            assert_eq!(unguard(written), cell);
        }
        let csv = "Name,Phone\n'=cmd|' /C calc'!A0,'+44 7700 900123\n";
        let p = parse(csv.as_bytes(), "g.csv").expect("parse");
        assert_eq!(p.rows[0].1.name.as_deref(), Some("=cmd|' /C calc'!A0"));
        assert_eq!(p.rows[0].1.phone.as_deref(), Some("+44 7700 900123"));
    }

    #[test]
    fn first_and_last_name_columns_combine() {
        let p = parse(b"Forename;x,Surname\nAda,Obi\n", "f.csv").expect("parse");
        assert_eq!(p.rows[0].1.name.as_deref(), Some("Obi"));
        let p = parse(b"First name,Last name\nAda,Obi\n", "f.csv").expect("parse");
        assert_eq!(p.rows[0].1.name.as_deref(), Some("Ada Obi"));
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let csv = "Name,Email,Member type,Joined\n\
                   Ada,ada@example.org,activist,2019-01-01\n\
                   ,b@example.org,activist,2019-01-01\n\
                   Cy,not-an-email,activist,2019-01-01\n\
                   Di,,wizard,2019-01-01\n\
                   \"Ed\nwith a newline\",,observer,31/02/2019\n";
        let p = parse(csv.as_bytes(), "r.csv").expect("parse");
        assert_eq!(p.rows.len(), 1);
        let got: Vec<(u64, &str)> = p.invalid.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            got,
            vec![(3, "Name"), (4, "Email"), (5, "Member type"), (6, "Joined")]
        );
    }

    #[test]
    fn files_that_cannot_be_read_say_why() {
        assert!(matches!(parse(b"", "e.csv"), Err(CsvError::Empty { .. })));
        assert!(matches!(
            parse(b"Email\nx@y.org\n", "e.csv"),
            Err(CsvError::NoNameColumn { .. })
        ));
        assert!(matches!(
            parse(b"Name,Full name\nA,B\n", "e.csv"),
            Err(CsvError::DuplicateColumn { .. })
        ));
        let err = parse(b"Name\n\xff\xfe\n", "e.csv").expect_err("latin-1");
        assert!(err.to_string().contains("e.csv line 2"), "{err}");
    }
}

#[cfg(test)]
mod course_tests {
    use super::*;

    #[test]
    fn courses_by_title_or_slug_and_unknown_ones_kept_as_written() {
        let p = parse(
            b"Name,Courses\nAda,Listening Skills; building-power; First Aid\n",
            "c.csv",
        )
        .expect("parse");
        assert_eq!(
            p.rows[0].1.courses,
            vec![
                Course::ListeningSkills,
                Course::BuildingPower,
                Course::Other("First Aid".into())
            ]
        );
        assert_eq!(
            p.unknown_courses.iter().collect::<Vec<_>>(),
            vec!["First Aid"]
        );
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn rows_with_future_or_absurd_dates_are_invalid_with_their_line() {
        let csv = "Name,Joined,First trained\n\
                   Ada,2020-01-02,\n\
                   Bea,2031-05-01,\n\
                   Cai,2020-01-02,01/01/0001\n\
                   Dee,12/31/2020,\n\
                   Eli,2026-12-04,\n";
        let mut p = parse(csv.as_bytes(), "d.csv").expect("parse");
        // The US date fails to parse already, with a suggestion.
        assert_eq!(p.invalid.len(), 1, "{:?}", p.invalid);
        assert!(p.invalid[0].why.contains("did you mean 31/12/2020?"));
        let today = Date::new(2026, 12, 3).expect("valid");
        p.refuse_impossible_dates(today);
        let lines: Vec<(u64, &str)> = p.invalid.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            lines,
            vec![(3, "Joined"), (4, "First trained"), (5, "Joined")],
            "{:?}",
            p.invalid
        );
        assert!(
            p.invalid[0].why.contains("in the future"),
            "{:?}",
            p.invalid
        );
        assert!(p.invalid[1].why.contains("before 1900"), "{:?}", p.invalid);
        // Ada, and Eli (tomorrow: a day's grace for time zones), stay.
        let names: Vec<_> = p.rows.iter().map(|(_, r)| r.name.as_deref()).collect();
        assert_eq!(names, vec![Some("Ada"), Some("Eli")]);
    }
}
