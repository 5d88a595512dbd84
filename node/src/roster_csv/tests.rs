//! Reading and writing roster spreadsheets: the template, real exports,
//! courses and dates.

mod template_and_exports {
    use super::super::*;

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

mod course_tests {
    use super::super::*;

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

mod date_tests {
    use super::super::*;

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
