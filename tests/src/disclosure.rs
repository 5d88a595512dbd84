//! A differencing attacker, for the disclosure tests.
//!
//! It knows everything the national node holds (every summary it kept and
//! every report built from them) and how the figures were made (the
//! method in docs/schema.md: nearest-5 rounding of single counts after a
//! secret shift, controlled rounding of breakdowns). From that it writes the linear
//! facts an analyst could: each published figure bounds the exact count
//! behind it; the kinds and the months add up to the members; the trained
//! are among the members, and each course's and theme's count among the
//! trained and the conversations; a report's total is the sum of the rows
//! it came from. Then it tightens every bound against every fact until
//! nothing moves (interval propagation), and reports each exact figure
//! from 1 to 4 whose bounds closed on one value: a recovered small count.
//!
//! It is written apart from the publishing code on purpose: it reads the
//! published record's fields and the documented method, not the code
//! that rounds.

use groundwork_protocol::records::{Exact, MembershipSummary};
use groundwork_protocol::schema::Course;

/// An exact count the attacker does not see: its bounds so far, and (for
/// the test's judgement only) its true value.
#[derive(Clone, Debug)]
pub struct Unknown {
    /// What it is ("Alpha members", "Alpha joined 2026-03", ...).
    pub name: String,
    /// Lowest value still possible.
    pub lo: i64,
    /// Highest value still possible.
    pub hi: i64,
    /// The true value, if the test knows it.
    pub truth: Option<i64>,
    /// A count of people or things (not a rounding shift).
    pub figure: bool,
}

/// `Σ coefficient × unknown` lies in `[lo, hi]`.
#[derive(Clone, Debug)]
struct Fact {
    terms: Vec<(usize, i64)>,
    lo: i64,
    hi: i64,
}

/// The attacker's knowledge.
#[derive(Clone, Debug, Default)]
pub struct Attacker {
    /// The unknowns.
    pub unknowns: Vec<Unknown>,
    facts: Vec<Fact>,
    /// The unknown secret shift of each (group, figure): one for every
    /// summary of that group, since the method keeps it the same.
    shifts: std::collections::BTreeMap<(String, String), usize>,
}

/// A bound no count reaches.
const BIG: i64 = 1 << 40;

impl Attacker {
    /// A new unknown in `[lo, hi]`.
    pub fn unknown(&mut self, name: String, lo: i64, hi: i64, truth: Option<u64>) -> usize {
        self.unknowns.push(Unknown {
            name,
            lo: lo.max(0),
            hi,
            truth: truth.map(|t| t as i64),
            figure: true,
        });
        self.unknowns.len() - 1
    }

    /// The fact `Σ terms ∈ [lo, hi]`.
    pub fn fact(&mut self, terms: Vec<(usize, i64)>, lo: i64, hi: i64) {
        self.facts.push(Fact { terms, lo, hi });
    }

    /// `a = Σ parts`.
    pub fn sum_is(&mut self, total: usize, parts: &[usize]) {
        let mut terms: Vec<(usize, i64)> = parts.iter().map(|p| (*p, 1)).collect();
        terms.push((total, -1));
        self.fact(terms, 0, 0);
    }

    /// What a figure rounded after the group's secret shift tells beyond
    /// its ±4 band: `x + shift` lies within 2 of the published figure, and
    /// the shift (unknown, -2 to +2) is the same in every summary of the
    /// group. `truth` is the real shift, for judging.
    pub fn shifted(
        &mut self,
        x: usize,
        group: &str,
        field: &str,
        published: u64,
        truth: Option<i64>,
    ) {
        let key = (group.to_owned(), field.to_owned());
        let s = match self.shifts.get(&key) {
            Some(s) => *s,
            None => {
                self.unknowns.push(Unknown {
                    name: format!("{group} shift of {field}"),
                    lo: -2,
                    hi: 2,
                    truth,
                    figure: false,
                });
                let s = self.unknowns.len() - 1;
                self.shifts.insert(key, s);
                s
            }
        };
        let p = published as i64;
        self.fact(vec![(x, 1), (s, 1)], p - 2, p + 2);
    }

    /// `small ≤ big`.
    pub fn at_most(&mut self, small: usize, big: usize) {
        self.fact(vec![(small, 1), (big, -1)], -BIG, 0);
    }

    /// Tightens every bound until nothing moves. Returns false if the
    /// facts contradict each other (they never should).
    pub fn solve(&mut self) -> bool {
        for _round in 0..10_000 {
            let mut moved = false;
            for f in &self.facts {
                let span = |u: &Unknown, c: i64| {
                    if c >= 0 {
                        (c * u.lo, c * u.hi)
                    } else {
                        (c * u.hi, c * u.lo)
                    }
                };
                let (mut min, mut max) = (0i64, 0i64);
                for &(i, c) in &f.terms {
                    let (a, b) = span(&self.unknowns[i], c);
                    min += a;
                    max += b;
                }
                for &(i, c) in &f.terms {
                    let (a, b) = span(&self.unknowns[i], c);
                    // c·x lies in [f.lo - (max - b), f.hi - (min - a)].
                    let (lo, hi) = (f.lo - (max - b), f.hi - (min - a));
                    let u = &mut self.unknowns[i];
                    let (new_lo, new_hi) = if c > 0 {
                        (div_ceil(lo, c), div_floor(hi, c))
                    } else {
                        (div_ceil(hi, c), div_floor(lo, c))
                    };
                    if new_lo > u.lo {
                        u.lo = new_lo;
                        moved = true;
                    }
                    if new_hi < u.hi {
                        u.hi = new_hi;
                        moved = true;
                    }
                    if u.lo > u.hi {
                        eprintln!("contradiction at {}: [{}, {}]", u.name, u.lo, u.hi);
                        return false;
                    }
                }
            }
            if !moved {
                return true;
            }
        }
        true
    }

    /// The exact figures from 1 to 4 whose value the facts pin down.
    pub fn recovered_small(&self) -> Vec<&Unknown> {
        self.unknowns
            .iter()
            .filter(|u| u.figure && u.truth.is_some_and(|t| (1..=4).contains(&t)) && u.lo == u.hi)
            .collect()
    }

    /// How many unknowns hold a true value from 1 to 4.
    pub fn small_count(&self) -> usize {
        self.unknowns
            .iter()
            .filter(|u| u.figure && u.truth.is_some_and(|t| (1..=4).contains(&t)))
            .count()
    }

    /// Whether every true value is within its bounds (the facts are sound).
    pub fn truth_within_bounds(&self) -> bool {
        self.unknowns
            .iter()
            .all(|u| u.truth.is_none_or(|t| u.lo <= t && t <= u.hi))
    }
}

fn div_floor(a: i64, b: i64) -> i64 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn div_ceil(a: i64, b: i64) -> i64 {
    -div_floor(-a, b)
}

/// How a published figure bounds the exact one.
#[derive(Clone, Copy, Debug)]
pub enum Band {
    /// Rounded to the nearest 5: within 2.
    Nearest,
    /// Rounded to the nearest 5 after the group's secret shift of -2 to
    /// +2: within 4 (what the published method lets a reader assume).
    Shifted,
    /// A cell of a controlled rounding: within 4.
    Controlled,
    /// Published exactly (the first format; the positive control).
    Exact,
}

impl Band {
    fn bounds(self, published: u64) -> (i64, i64) {
        let p = published as i64;
        match self {
            Band::Nearest => (p - 2, p + 2),
            Band::Shifted => (p - 4, p + 4),
            Band::Controlled => (p - 4, p + 4),
            Band::Exact => (p, p),
        }
    }
}

/// The figures a record shows, as plain numbers: a rounded summary's, or
/// (for the positive control) exact ones as the first format showed them.
#[derive(Clone, Debug)]
pub struct Shown {
    /// The day of the record.
    pub as_of: groundwork_protocol::Date,
    /// Members.
    pub members: u64,
    /// Professional, activist, observer.
    pub kinds: [u64; 3],
    /// Joined: earlier, then 24 months.
    pub joined: (u64, Vec<u64>),
    /// Trained.
    pub trained: u64,
    /// Trained by month: earlier, then 24 months.
    pub trained_by_month: (u64, Vec<u64>),
    /// Per known course (absent: 0).
    pub by_course: std::collections::BTreeMap<String, u64>,
    /// Conversations.
    pub conversations: u64,
    /// Themes shown, with their conversations.
    pub themes: Vec<(String, u64)>,
    /// Meet-ups.
    pub meetups: u64,
    /// Established.
    pub established: bool,
}

impl Shown {
    /// What a published summary shows.
    pub fn summary(s: &MembershipSummary) -> Shown {
        let series = |x: &groundwork_protocol::records::Series| {
            (x.earlier.get(), x.months.iter().map(|m| m.get()).collect())
        };
        Shown {
            as_of: s.as_of,
            members: s.members.get(),
            kinds: [
                s.by_kind.professional.get(),
                s.by_kind.activist.get(),
                s.by_kind.observer.get(),
            ],
            joined: series(&s.joined),
            trained: s.trained.get(),
            trained_by_month: series(&s.trained_by_month),
            by_course: s
                .by_course
                .iter()
                .map(|(k, v)| (k.clone(), v.get()))
                .collect(),
            conversations: s.conversations.get(),
            themes: s
                .themes
                .iter()
                .map(|t| (t.theme.clone(), t.conversations.get()))
                .collect(),
            meetups: s.meetups.get(),
            established: s.established,
        }
    }

    /// Exact figures shown as they are (what the first format did).
    pub fn exact(e: &Exact, as_of: groundwork_protocol::Date) -> Shown {
        Shown {
            as_of,
            members: e.members,
            kinds: e.by_kind,
            joined: (e.joined.0, e.joined.1.to_vec()),
            trained: e.trained,
            trained_by_month: (e.trained_by_month.0, e.trained_by_month.1.to_vec()),
            by_course: e.by_course.clone(),
            conversations: e.conversations,
            themes: e.themes.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            meetups: e.meetups,
            established: e.established(),
        }
    }
}

/// The unknowns of one summary, by field.
#[derive(Clone, Debug)]
pub struct SummaryUnknowns {
    /// Members.
    pub members: usize,
    /// Professional, activist, observer.
    pub kinds: [usize; 3],
    /// Trained.
    pub trained: usize,
    /// Conversations.
    pub conversations: usize,
    /// Meet-ups.
    pub meetups: usize,
}

/// Adds what one summary tells: its figures bound the exact ones
/// (`single` for single counts, `cells` for breakdown cells), and the
/// facts that hold between them. `truth` is the group's exact figures,
/// for judging.
///
/// With `Band::Shifted`, `group` names the group (the same in every
/// summary of it, so its shifts are shared) and holds its real shifts,
/// for judging.
pub fn observe(
    a: &mut Attacker,
    label: &str,
    s: &Shown,
    truth: Option<&Exact>,
    single: Band,
    cells: Band,
    group: Option<(&str, &groundwork_protocol::disclosure::Offsets)>,
) -> SummaryUnknowns {
    let add = |a: &mut Attacker, name: String, published: u64, band: Band, t: Option<u64>| {
        let (lo, hi) = band.bounds(published);
        a.unknown(format!("{label} {name}"), lo, hi, t)
    };
    let members = add(
        a,
        "members".into(),
        s.members,
        single,
        truth.map(|t| t.members),
    );
    let kinds: Vec<usize> = ["professional", "activist", "observer"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            add(
                a,
                (*n).into(),
                s.kinds[i],
                cells,
                truth.map(|t| t.by_kind[i]),
            )
        })
        .collect();
    a.sum_is(members, &kinds);
    let series = |a: &mut Attacker,
                  what: &str,
                  shown: &(u64, Vec<u64>),
                  exact: Option<&(u64, [u64; 24])>| {
        let mut ids = vec![add(
            a,
            format!("{what} earlier"),
            shown.0,
            cells,
            exact.map(|e| e.0),
        )];
        for (i, m) in shown.1.iter().enumerate() {
            let month = s.as_of.month_of().add_months(i as i64 - 23);
            ids.push(add(
                a,
                format!("{what} {month}"),
                *m,
                cells,
                exact.map(|e| e.1[i]),
            ));
        }
        ids
    };
    let joined = series(a, "joined", &s.joined, truth.map(|t| &t.joined));
    a.sum_is(members, &joined);
    let trained = add(
        a,
        "trained".into(),
        s.trained,
        single,
        truth.map(|t| t.trained),
    );
    a.at_most(trained, members);
    let by_month = series(
        a,
        "trained",
        &s.trained_by_month,
        truth.map(|t| &t.trained_by_month),
    );
    a.sum_is(trained, &by_month);
    for c in Course::KNOWN.iter() {
        let shown = s.by_course.get(c.slug()).copied().unwrap_or(0);
        let t = truth.map(|t| t.by_course.get(c.slug()).copied().unwrap_or(0));
        let id = add(a, format!("course {}", c.slug()), shown, single, t);
        a.at_most(id, trained);
    }
    let conversations = add(
        a,
        "conversations".into(),
        s.conversations,
        single,
        truth.map(|t| t.conversations),
    );
    for (theme, n) in &s.themes {
        let t = truth.and_then(|t| t.themes.get(theme).copied());
        let id = add(a, format!("theme {theme}"), *n, single, t);
        a.at_most(id, conversations);
    }
    let meetups = add(
        a,
        "meetups".into(),
        s.meetups,
        single,
        truth.map(|t| t.meetups),
    );
    if s.established {
        a.fact(vec![(members, 1)], 21, BIG);
    } else {
        a.fact(vec![(members, 1)], 0, 20);
    }
    // The figures never clamped to another: a shared shift each. (A
    // course or theme may be cut down to the trained or the
    // conversations, so only its ±4 band is sure.)
    if let (Band::Shifted, Some((g, offsets))) = (single, group) {
        // Members and trained share the group's "people" shift, so the
        // trained never round above the members and are never cut down.
        for (x, field, shown) in [
            (members, "people", s.members),
            (trained, "people", s.trained),
            (conversations, "conversations", s.conversations),
            (meetups, "meetups", s.meetups),
        ] {
            a.shifted(x, g, field, shown, Some(offsets.of(field)));
        }
    }
    SummaryUnknowns {
        members,
        kinds: [kinds[0], kinds[1], kinds[2]],
        trained,
        conversations,
        meetups,
    }
}
