//! Sample data for the demo: the programme's group names, and generated
//! members, plans and meet-ups. Every person is made up from syllables; no
//! real person's details are used. Seeded, so a demo is reproducible.

use groundwork_protocol::Date;
use groundwork_protocol::schema::{Course, LawfulBasis, MemberKind, MemberStatus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::group::{GroupKind, MemberInput};

/// The national body's name.
pub const NATIONAL_NAME: &str = "Community Organisers";

/// Groups from the 2017–2020 programme: name, area, kind.
pub const SAMPLE_GROUPS: [(&str, &str, GroupKind); 17] = [
    (
        "Community Organisers Birkenhead",
        "Wirral",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Community Organisers Staffordshire",
        "Stafford",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Latin American Parents Association",
        "London",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Moorlands Climate Action",
        "Staffordshire Moorlands",
        GroupKind::LocalOrganisingGroup,
    ),
    (
        "Cancer Support Salisbury",
        "Wiltshire",
        GroupKind::LocalOrganisingGroup,
    ),
    ("ACORN Bristol", "Bristol", GroupKind::SocialActionHub),
    ("ACORN Sheffield", "Sheffield", GroupKind::SocialActionHub),
    ("ACORN Newcastle", "Newcastle", GroupKind::SocialActionHub),
    (
        "The Wharton Trust",
        "Hartlepool",
        GroupKind::SocialActionHub,
    ),
    ("Starting Point", "Stockport", GroupKind::SocialActionHub),
    (
        "Community Roots CIC",
        "Gloucestershire",
        GroupKind::SocialActionHub,
    ),
    ("English for Action", "Hackney", GroupKind::SocialActionHub),
    ("Sneinton Alchemy", "Nottingham", GroupKind::SocialActionHub),
    (
        "Grapevine",
        "Coventry and Warwickshire",
        GroupKind::SocialActionHub,
    ),
    ("Marsh Farm Outreach", "Luton", GroupKind::SocialActionHub),
    ("Rotherfed", "Rotherham", GroupKind::SocialActionHub),
    (
        "Barton Hill Settlement",
        "Bristol",
        GroupKind::SocialActionHub,
    ),
];

const FIRST: &[&str] = &[
    "Amara", "Bryn", "Cora", "Dafydd", "Esme", "Farid", "Gwen", "Hamza", "Isla", "Jude", "Kemi",
    "Lorcan", "Maja", "Nuno", "Orla", "Priya", "Quinn", "Rhys", "Sana", "Tomasz", "Una", "Vikram",
    "Wren", "Yusuf", "Zofia",
];
const SYLLABLES: &[&str] = &[
    "ash", "bel", "cor", "dun", "ely", "fen", "gar", "hol", "ing", "kel", "lor", "mar", "nor",
    "pen", "ros", "tal", "wick",
];

/// A made-up name.
fn name(rng: &mut StdRng) -> String {
    let first = FIRST[rng.random_range(0..FIRST.len())];
    let mut last: String = (0..rng.random_range(2..=3))
        .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
        .collect();
    if let Some(c) = last.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    format!("{first} {last}")
}

/// `n` generated members for a group, seeded by `seed`, who joined over
/// the three years up to `today`.
pub fn members(seed: u64, n: usize, today: Date) -> Vec<MemberInput> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = today.unix_days() - 1100;
    (0..n)
        .map(|i| {
            let name = name(&mut rng);
            let kind = match rng.random_range(0..10) {
                0..=2 => MemberKind::Professional,
                3..=8 => MemberKind::Activist,
                _ => MemberKind::Observer,
            };
            let joined = Date::from_unix_days(start + rng.random_range(0..=1100));
            let courses: Vec<Course> = Course::KNOWN
                .iter()
                .enumerate()
                // The introduction is the course most people take.
                .filter(|(k, _)| rng.random_bool(if *k == 0 { 0.35 } else { 0.05 }))
                .map(|(_, c)| c.clone())
                .collect();
            let trained = (!courses.is_empty()).then(|| {
                let after = rng.random_range(0..=200);
                Date::from_unix_days((joined.unix_days() + after).min(today.unix_days()))
            });
            let email = rng
                .random_bool(0.8)
                .then(|| format!("{}.{i}@example.org", name.to_lowercase().replace(' ', ".")));
            let phone = rng
                .random_bool(0.5)
                .then(|| format!("07700 900{:03}", rng.random_range(0..1000)));
            MemberInput {
                id: None,
                name: Some(name),
                consent_to_contact: email.as_ref().or(phone.as_ref()).map(|_| true),
                lawful_basis: email
                    .as_ref()
                    .or(phone.as_ref())
                    .map(|_| LawfulBasis::Consent),
                consent_date: email.as_ref().or(phone.as_ref()).map(|_| joined),
                email,
                phone,
                kind: Some(kind),
                joined: Some(joined),
                status: Some(if rng.random_bool(0.9) {
                    MemberStatus::Active
                } else {
                    MemberStatus::Lapsed
                }),
                principles_agreed: rng.random_bool(0.8).then_some(joined),
                courses,
                trained,
            }
        })
        .collect()
}

/// When a sample group adopted its constitution: a day between 2017 and
/// the year before `today`, the programme's years first.
pub fn adopted(seed: u64, today: Date) -> Date {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xad07);
    let start = Date::new(2017, 1, 1).map_or(0, Date::unix_days);
    let end = today.add_days(-400).unix_days().max(start + 1);
    Date::from_unix_days(rng.random_range(start..end))
}

/// The themes listening campaigns raise, most common first.
pub const THEMES: [&str; 8] = [
    "buses",
    "damp housing",
    "youth services",
    "food poverty",
    "street lighting",
    "parks",
    "loneliness",
    "air quality",
];

/// A sample group's listening conversations: batches of a count and the
/// themes they raised.
pub fn conversations(seed: u64) -> Vec<(u32, Vec<String>)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xc0de);
    (0..rng.random_range(2..6))
        .map(|_| {
            let count = rng.random_range(3..40);
            // Earlier themes come up more often.
            let themes = THEMES
                .iter()
                .enumerate()
                .filter(|(k, _)| rng.random_bool(0.6 / (1.0 + *k as f64 * 0.4)))
                .map(|(_, t)| (*t).to_owned())
                .collect();
            (count, themes)
        })
        .collect()
}

/// How many members a sample group has: most at or above 21 (established).
pub fn roster_size(seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    if rng.random_bool(0.75) {
        rng.random_range(21..60)
    } else {
        rng.random_range(8..21)
    }
}

/// A vision, goals and actions (due in the months after `today`) for a
/// sample plan.
pub fn plan(area: &str, today: Date) -> (String, Vec<String>, Vec<(String, Date)>) {
    let vision =
        format!("A {area} where everyone is listened to and people act together on what matters.");
    let goals = vec![
        "Hold 100 listening conversations this year".to_owned(),
        "Grow to an established group of 21 or more members".to_owned(),
        "Run one community action chosen by members".to_owned(),
    ];
    let due = |days| today.add_days(days);
    let actions = vec![
        ("Book the community hall for meet-ups".to_owned(), due(21)),
        ("Train five members in Listening Skills".to_owned(), due(75)),
        (
            format!("Write to the council about buses in {area}"),
            due(120),
        ),
    ];
    (vision, goals, actions)
}

/// Sample meet-ups, about monthly up to `today`: date, place, agenda, notes,
/// attendance.
pub fn meetups(seed: u64, area: &str, today: Date) -> Vec<(Date, String, String, String, u64)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x3ee7);
    let topics = [
        "buses",
        "damp housing",
        "the youth club",
        "street lighting",
        "the food bank",
        "parks",
    ];
    let n: i64 = rng.random_range(3..7);
    (0..n)
        .map(|i| {
            let date = today.add_days(-(n - 1 - i) * 30 - rng.random_range(1..8));
            let topic = topics[rng.random_range(0..topics.len())];
            (
                date,
                format!("{area} community centre"),
                format!("1. Welcome and introductions\n2. What we heard about {topic}\n3. Next steps"),
                format!("Members shared stories about {topic}. Agreed to hold more one-to-ones before the next meet-up."),
                rng.random_range(8..30),
            )
        })
        .collect()
}
