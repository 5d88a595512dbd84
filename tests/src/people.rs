//! Made-up people for the benchmarks: seeded, stable across Rust and crate
//! versions (SplitMix64, not `rand`), and never a real person's details:
//! syllable names, addresses under example.org, phone numbers from Ofcom's
//! range reserved for drama (07700 900000–900999).

use groundwork_protocol::Date;
use groundwork_protocol::schema::MemberKind;

/// SplitMix64: small, fast and the same everywhere.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// 32 random bytes.
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        b
    }
}

const ONSETS: &[&str] = &[
    "b", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "dr", "st", "th", "sh",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "y"];
const CODAS: &[&str] = &["", "", "", "n", "l", "r", "s", "m", "th", "nd"];

/// A made-up word of `syllables` syllables, capitalised.
pub fn word(rng: &mut Rng, syllables: usize) -> String {
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(rng.pick(ONSETS));
        w.push_str(rng.pick(VOWELS));
    }
    w.push_str(rng.pick(CODAS));
    let mut chars = w.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// One generated person.
#[derive(Debug, Clone)]
pub struct Person {
    /// A made-up name.
    pub name: String,
    /// A unique address under example.org.
    pub email: String,
    /// A number from the drama range.
    pub phone: String,
    /// 30% professional, 50% activist, 20% observer.
    pub kind: MemberKind,
    /// A day in 2017–2020.
    pub joined: Date,
}

/// The `n`th person of a roster; `tag` keeps addresses of different
/// rosters apart.
pub fn person(rng: &mut Rng, n: usize, tag: &str) -> Person {
    let first_len = 1 + rng.below(2);
    let first = word(rng, first_len);
    let last_len = 2 + rng.below(2);
    let last = word(rng, last_len);
    let kind = match rng.below(10) {
        0..=2 => MemberKind::Professional,
        3..=7 => MemberKind::Activist,
        _ => MemberKind::Observer,
    };
    let phone = format!("07700 900{:03}", rng.below(1000));
    let year = 2017 + rng.below(4) as i32;
    let month = 1 + rng.below(12) as u8;
    let day = 1 + rng.below(28) as u8;
    Person {
        email: format!(
            "{}.{}.{tag}{n}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        name: format!("{first} {last}"),
        phone,
        kind,
        // Days 1–28 exist in every month.
        joined: Date::new(year, month, day).unwrap_or(Date::from_unix_days(17_532)),
    }
}
