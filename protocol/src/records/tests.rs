use super::*;
use crate::disclosure::{Offsets, Rounded};
use crate::ids::ShortId;
use crate::schema::{Course, Meetups, MemberKind, MemberStatus, Plan, Roster};
use crate::schema::{Meetup, Member};

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

fn day(s: &str) -> Date {
    s.parse().expect("date")
}

fn affiliation(seq: u64) -> Affiliation {
    Affiliation {
        network: key(1).public(),
        group: key(2).public(),
        since: day("2019-04-01"),
        seq,
    }
}

#[test]
fn records_verify_and_the_highest_sequence_wins() {
    let national = key(1);
    let a1 = Signed::sign(affiliation(1), &national).expect("sign");
    let a2 = Signed::sign(affiliation(2), &national).expect("sign");
    let mut latest = Latest::<Affiliation>::default();
    assert_eq!(latest.offer(a1.bytes()), Ok(true));
    assert_eq!(latest.offer(a1.bytes()), Ok(false), "the same record again");
    assert_eq!(latest.offer(a2.bytes()), Ok(true));
    assert_eq!(
        latest.offer(a1.bytes()),
        Err(RecordRejected::Stale { got: 1, held: 2 })
    );
    let other = Signed::sign(
        Affiliation {
            since: day("2020-01-01"),
            ..affiliation(2)
        },
        &national,
    )
    .expect("sign");
    assert_eq!(
        latest.offer(other.bytes()),
        Err(RecordRejected::Replayed(2))
    );
    assert_eq!(
        latest.get(&key(2).public()).map(|s| s.record().seq),
        Some(2)
    );
}

#[test]
fn forged_and_tampered_records_are_refused() {
    // A group cannot affiliate itself.
    assert_eq!(
        Signed::sign(affiliation(1), &key(2)),
        Err(RecordRejected::WrongIssuer)
    );
    let good = Signed::sign(affiliation(1), &key(1)).expect("sign");
    let mut tampered = good.bytes().to_vec();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    assert_eq!(
        Signed::<Affiliation>::from_bytes(&tampered),
        Err(RecordRejected::BadSignature)
    );
    // Re-signed by another key claiming to be the network.
    let mut forged = good.bytes().to_vec();
    let impostor = key(9);
    forged[..32].copy_from_slice(impostor.public().as_bytes());
    let sig = impostor
        .sign(&signed_message::<Affiliation>(&forged[HEADER..]))
        .to_bytes();
    forged[32..HEADER].copy_from_slice(&sig);
    assert_eq!(
        Signed::<Affiliation>::from_bytes(&forged),
        Err(RecordRejected::WrongIssuer)
    );
    // A summary's signature does not make an affiliation.
    let summary = MembershipSummary::publish(
        key(1).public(),
        &Exact::default(),
        day("2020-01-01"),
        &Offsets::none(),
    );
    let s = Signed::sign(
        MembershipSummary {
            seq: day_seq(day("2020-01-01"), None, 5),
            ..summary
        },
        &key(1),
    )
    .expect("sign");
    assert!(Signed::<Affiliation>::from_bytes(s.bytes()).is_err());
    assert_eq!(
        Signed::<Affiliation>::from_bytes(&good.bytes()[..40]),
        Err(RecordRejected::Truncated)
    );
}

fn member(name: &str, kind: MemberKind, joined: &str, trained: bool) -> Member {
    Member {
        name: name.into(),
        kind,
        joined: day(joined),
        status: MemberStatus::Active,
        principles_agreed: None,
        courses: if trained {
            vec![Course::ListeningSkills]
        } else {
            vec![]
        },
        trained: trained.then(|| day(joined)),
    }
}

/// Signs a body as `key` without the kind's checks (what a forger
/// with the group key could send).
fn raw(key: &SecretKey, body: &serde_json::Value) -> Vec<u8> {
    let body = serde_json::to_vec(body).expect("json");
    let sig = key
        .sign(&signed_message::<MembershipSummary>(&body))
        .to_bytes();
    [key.public().as_bytes().as_slice(), &sig, &body].concat()
}

fn roster_of_three() -> (Roster, [&'static str; 4]) {
    let mut roster = Roster::default();
    let names = ["Ada Obi", "Bea Rinsto", "Cal Morpel", "Dev Tamvel"];
    roster.members.insert(
        "aaaaaa".into(),
        member(names[0], MemberKind::Professional, "2020-03-20", true),
    );
    roster.members.insert(
        "bbbbbb".into(),
        member(names[1], MemberKind::Activist, "2019-01-01", false),
    );
    roster.members.insert(
        "cccccc".into(),
        member(names[2], MemberKind::Observer, "2020-03-30", true),
    );
    let mut lapsed = member(names[3], MemberKind::Activist, "2020-03-30", true);
    lapsed.status = MemberStatus::Lapsed;
    roster.members.insert("dddddd".into(), lapsed);
    (roster, names)
}

#[test]
fn a_summary_rounds_every_figure_and_names_no_one() {
    let (roster, names) = roster_of_three();
    let mut meetups = Meetups::default();
    for (i, d) in ["2020-03-01", "2019-06-01", "2020-01-15", "2020-05-01"]
        .iter()
        .enumerate()
    {
        meetups.meetups.push(Meetup {
            id: ShortId::from_entropy(i as u32),
            date: day(d),
            place: "Library".into(),
            agenda: Default::default(),
            notes: Default::default(),
            attendance: 3,
            actions: vec![],
        });
    }
    let today = day("2020-04-01");
    let exact = Exact::from_documents(
        &roster,
        &meetups,
        &Plan::default(),
        Some(day("2019-02-03")),
        today,
    );
    assert_eq!(exact.members, 3, "lapsed members are not counted");
    assert_eq!(exact.by_kind, [1, 1, 1]);
    assert_eq!(exact.trained, 2);
    assert_eq!(exact.meetups, 3, "a meet-up after today is not held yet");
    // 2020-03 is the last-but-one month of the series ending 2020-04.
    assert_eq!(exact.joined.1[GROWTH_MONTHS - 2], 2);
    assert_eq!(exact.joined.1[GROWTH_MONTHS - 16], 1, "2019-01");
    let s = MembershipSummary::publish(key(3).public(), &exact, today, &Offsets::none());
    assert_eq!(s.members.get(), 5);
    assert_eq!(s.by_kind.total(), 5, "the kinds add up to the members");
    assert_eq!(s.joined.total(), 5);
    assert_eq!(s.trained.get(), 0, "2 rounds to 0");
    assert!(s.by_course.is_empty());
    assert_eq!((s.meetups.get(), s.formed), (5, Some(2019)));
    assert!(!s.established);
    let signed = Signed::sign(
        MembershipSummary {
            seq: day_seq(today, None, 77),
            ..s
        },
        &key(3),
    )
    .expect("sign");
    let text = String::from_utf8_lossy(signed.bytes()).to_string();
    for n in names.iter().chain(["aaaaaa", "bbbbbb", "Library"].iter()) {
        assert!(!text.contains(n), "{n} in a summary");
    }
    let back = Signed::<MembershipSummary>::from_bytes(signed.bytes()).expect("reads back");
    assert_eq!(back.record(), signed.record());
}

#[test]
fn a_summary_with_a_small_or_inconsistent_figure_is_refused() {
    let k = key(3);
    let today = day("2020-04-01");
    let good = MembershipSummary {
        seq: day_seq(today, None, 77),
        ..MembershipSummary::publish(
            k.public(),
            &Exact {
                members: 12,
                by_kind: [2, 5, 5],
                joined: (12, [0; GROWTH_MONTHS]),
                ..Exact::default()
            },
            today,
            &Offsets::none(),
        )
    };
    let body = serde_json::to_value(&good).expect("json");
    assert!(Signed::<MembershipSummary>::from_bytes(&raw(&k, &body)).is_ok());
    let with = |path: &[&str], v: serde_json::Value| {
        let mut b = body.clone();
        let mut at = &mut b;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at[path[path.len() - 1]] = v;
        Signed::<MembershipSummary>::from_bytes(&raw(&k, &b))
    };
    // A figure between 1 and 4, or any other non-multiple of 5.
    assert_eq!(with(&["members"], 3.into()), Err(RecordRejected::Malformed));
    assert_eq!(
        with(&["meetups"], 11.into()),
        Err(RecordRejected::Malformed)
    );
    assert_eq!(
        with(&["by_kind", "professional"], 4.into()),
        Err(RecordRejected::Malformed)
    );
    // Breakdowns that do not add up, a sequence number of another day.
    assert!(matches!(
        with(&["members"], 15.into()),
        Err(RecordRejected::Inconsistent(_))
    ));
    assert!(matches!(
        with(&["seq"], (good.seq + (1 << 32)).into()),
        Err(RecordRejected::Inconsistent(_))
    ));
    assert!(matches!(
        with(&["established"], true.into()),
        Err(RecordRejected::Inconsistent(_))
    ));
    assert!(matches!(
        with(&["by_course"], serde_json::json!({"knitting": 5})),
        Err(RecordRejected::Inconsistent(_))
    ));
    assert!(matches!(
        with(
            &["themes"],
            serde_json::json!([{"theme": "Buses", "conversations": 0}])
        ),
        Err(RecordRejected::Inconsistent(_))
    ));
    assert!(matches!(
        with(&["joined", "months"], serde_json::json!([0, 0])),
        Err(RecordRejected::Inconsistent(_))
    ));
    // The exact figures of the first format are not a summary now.
    assert_eq!(
        with(&["new_last_30_days"], 3.into()),
        Err(RecordRejected::Malformed)
    );
    // Nor can the group sign an inconsistent one itself.
    let bad = MembershipSummary {
        members: Rounded::nearest(20),
        ..good
    };
    assert!(matches!(
        Signed::sign(bad, &k),
        Err(RecordRejected::Inconsistent(_))
    ));
}

#[test]
fn sequence_numbers_say_the_day_and_only_grow() {
    let d = day("2026-12-01");
    let mut noise = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next_noise = || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        noise
    };
    let mut seq = day_seq(d, None, next_noise());
    assert_eq!(seq >> 32, d.unix_days() as u64);
    for _ in 0..5000 {
        let next = day_seq(d, Some(seq), next_noise());
        assert!(next > seq);
        assert_eq!(next >> 32, seq >> 32, "still the same day");
        seq = next;
    }
    let tomorrow = day_seq(d.add_days(1), Some(seq), next_noise());
    assert_eq!(tomorrow >> 32, d.add_days(1).unix_days() as u64);
    // A day used up, or a held record of a later day (a clock gone
    // back): no newer number, never one of another day.
    let full = seq | 0xffff_ffff;
    assert_eq!(day_seq(d, Some(full), next_noise()), full);
    assert_eq!(day_seq(d, Some(tomorrow), next_noise()), tomorrow);
    // The low bits are the noise, not a count: the first of a day is
    // not 0, the fifth not 4.
    let first = day_seq(d, None, 123_456) & 0xffff_ffff;
    assert_eq!(first, 123_456);
}

#[test]
fn themes_are_normalised_and_bounded() {
    assert_eq!(
        normal_theme("  Damp   Housing ").as_deref(),
        Some("damp housing")
    );
    assert_eq!(normal_theme("   "), None);
    assert_eq!(normal_theme("bus\u{202e}es"), None);
    assert_eq!(
        normal_theme(&"x".repeat(100)).map(|t| t.chars().count()),
        Some(MAX_THEME_CHARS)
    );
}

#[test]
fn summary_size_for_10000_members() {
    let today = day("2026-12-01");
    let mut joined = [0u64; GROWTH_MONTHS];
    let mut trained_by_month = [0u64; GROWTH_MONTHS];
    for i in 0..GROWTH_MONTHS {
        joined[i] = 250 + i as u64;
        trained_by_month[i] = 120 + i as u64;
    }
    let exact = Exact {
        members: 10_000,
        by_kind: [2_501, 6_203, 1_296],
        joined: (10_000 - joined.iter().sum::<u64>(), joined),
        trained: 6_000,
        trained_by_month: (
            6_000 - trained_by_month.iter().sum::<u64>(),
            trained_by_month,
        ),
        by_course: Course::KNOWN
            .iter()
            .enumerate()
            .map(|(i, c)| (c.slug().to_owned(), 1_003 + 97 * i as u64))
            .collect(),
        conversations: 45_678,
        themes: (0..MAX_THEMES)
            .map(|i| {
                (
                    format!("{i:02} {}", "x".repeat(MAX_THEME_CHARS - 3)),
                    1_234 + i as u64,
                )
            })
            .collect(),
        meetups: 1_234,
        formed: Some(2018),
    };
    let s = MembershipSummary {
        seq: day_seq(today, None, 0xdead_beef),
        ..MembershipSummary::publish(key(5).public(), &exact, today, &Offsets::of_group(&key(5)))
    };
    let signed = Signed::sign(s, &key(5)).expect("a summary of 10,000 members signs");
    let n = signed.bytes().len();
    println!("summary of 10,000 members: {n} bytes");
    // docs/schema.md gives this figure; keep it small against the cap.
    assert!(n < 2_000, "{n} bytes");
    assert!(n <= MAX_RECORD_BYTES);
}

#[test]
fn publishing_after_a_held_summary_skips_the_same_figures_and_survives_a_clock_gone_back() {
    let today = day("2026-12-01");
    let exact = |members: u64| Exact {
        members,
        by_kind: [0, members, 0],
        joined: (members, [0; GROWTH_MONTHS]),
        ..Exact::default()
    };
    let make = |members: u64, on: Date| {
        MembershipSummary::publish(key(4).public(), &exact(members), on, &Offsets::none())
    };
    let first = make(10, today)
        .publish_after(None, 7)
        .expect("the first is due");
    assert_eq!(first.seq >> 32, today.unix_days() as u64);
    assert!(Signed::sign(first.clone(), &key(4)).is_ok());
    // Eleven members still publish as 10: nothing new is due.
    assert_eq!(make(11, today).publish_after(Some(&first), 9), None);
    // A new calendar month is due even with the same figures.
    assert!(
        make(10, day("2027-01-02"))
            .publish_after(Some(&first), 9)
            .is_some()
    );
    // The clock went back a day: the new one is dated at the held day,
    // so its sequence number is of its own day and newer.
    let back = make(20, day("2026-11-30"))
        .publish_after(Some(&first), 11)
        .expect("due");
    assert_eq!(back.as_of, today);
    assert!(back.seq > first.seq);
    assert!(Signed::sign(back, &key(4)).is_ok(), "it passes check");
}

#[test]
fn a_mistyped_adoption_year_or_a_theme_of_one_conversation_is_left_out() {
    let today = day("2026-12-01");
    let e = Exact {
        members: 5,
        by_kind: [0, 5, 0],
        joined: (5, [0; GROWTH_MONTHS]),
        conversations: 30,
        themes: [("buses".to_owned(), 20), ("mrs x's flat".to_owned(), 1)].into(),
        formed: Some(2206),
        ..Exact::default()
    };
    let s = MembershipSummary::publish(key(4).public(), &e, today, &Offsets::none());
    assert_eq!(s.formed, None);
    let themes: Vec<&str> = s.themes.iter().map(|t| t.theme.as_str()).collect();
    assert_eq!(themes, ["buses"]);
    let s = MembershipSummary {
        seq: day_seq(today, None, 1),
        ..s
    };
    assert!(Signed::sign(s, &key(4)).is_ok());
}
