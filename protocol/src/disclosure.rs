//! Disclosure control: how a group's figures are made safe before they
//! leave its devices.
//!
//! The method is the one UK official statistics use for counts of people
//! (ONS, NHS England): **every count is rounded to base 5**, so no figure
//! between 1 and 4 is ever published, and no sum or difference of
//! published figures can be one either (a sum of multiples of 5 is one).
//!
//! - A single count is rounded to the nearest multiple of 5, halves up
//!   ([`Rounded::nearest`]): 0–2 → 0, 3–7 → 5, 8–12 → 10.
//! - A breakdown whose cells add up to a published total (members by kind,
//!   members by month joined, trained by month) uses **controlled
//!   rounding** ([`controlled`]): each cell goes to the multiple of 5 just
//!   below or just above it, chosen so the cells add up to the rounded
//!   total. Rounding each cell on its own would let a reader intersect the
//!   breakdowns: six members, two of each kind, joined three in one month
//!   and three in the next, would publish kinds 0, 0, 0 and months 5, 5,
//!   and "0 + 0 + 0 = 5 + 5" can only be 2 + 2 + 2. With controlled
//!   rounding the published cells always add up to the published total,
//!   so one breakdown narrows nothing another one leaves open.
//!
//! **The rounding points are the group's secret.** Each figure is rounded
//! after a shift of -2 to +2 drawn from the group key ([`Offsets`]): the
//! same for a figure every time (so the same count always publishes the
//! same way), different from figure to figure and group to group, and
//! unknown outside the group. Without it, a reader who watched a small
//! group's summaries as it grew one member at a time would know that the
//! moment "members" went from 0 to 5 was the moment it reached 3. With it,
//! that moment is anywhere from 1 to 5. (The cell-key method of the 2021
//! Census is keyed and consistent in the same way.) A reader must assume
//! an exact count lies within 4 of its published figure.
//!
//! The rounding happens in [`crate::records::MembershipSummary::publish`],
//! on the group's own devices. Everything downstream (the national report,
//! its totals, areas, growth and the dashboard) is computed from published
//! figures only, so it cannot reveal more than they do.

use std::fmt;

/// The rounding base.
pub const BASE: u64 = 5;

/// The largest figure a record may carry.
pub const MAX_FIGURE: u64 = 1_000_000_000;

/// A published count: always a multiple of [`BASE`]. Decoding refuses any
/// other number, so a record cannot carry a small figure even by mistake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Rounded(u64);

impl Rounded {
    /// Zero.
    pub const ZERO: Rounded = Rounded(0);

    /// `n` rounded to the nearest multiple of 5, halves up.
    pub fn nearest(n: u64) -> Rounded {
        Rounded(n.min(MAX_FIGURE).saturating_add(BASE / 2) / BASE * BASE)
    }

    /// `n` shifted by `offset` (-2 to +2; see [`Offsets`]) and rounded to
    /// the nearest multiple of 5, halves up. A multiple of 5 stays as it
    /// is, and 0 stays 0, whatever the offset.
    pub fn shifted(n: u64, offset: i64) -> Rounded {
        let n = n.min(MAX_FIGURE) as i64;
        let shifted = (n + offset.clamp(-2, 2)).max(0) as u64;
        Rounded::nearest(shifted)
    }

    /// `n` if it is already a multiple of 5 (and not over the cap).
    pub fn exactly(n: u64) -> Option<Rounded> {
        (n.is_multiple_of(BASE) && n <= MAX_FIGURE).then_some(Rounded(n))
    }

    /// The published number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The exact counts this published figure may stand for, if it was
    /// rounded to the nearest 5.
    pub fn nearest_band(self) -> (u64, u64) {
        (self.0.saturating_sub(BASE / 2), self.0 + BASE / 2)
    }

    /// The exact counts this published figure may stand for, if it is a
    /// cell of a controlled rounding.
    pub fn controlled_band(self) -> (u64, u64) {
        (self.0.saturating_sub(BASE - 1), self.0 + BASE - 1)
    }
}

impl fmt::Display for Rounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Rounded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = <u64 as serde::Deserialize>::deserialize(d)?;
        Rounded::exactly(n).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{n} is not a published figure (a multiple of 5, at most {MAX_FIGURE})"
            ))
        })
    }
}

impl std::iter::Sum<Rounded> for u64 {
    fn sum<I: Iterator<Item = Rounded>>(iter: I) -> u64 {
        iter.map(Rounded::get).sum()
    }
}

/// The group's secret rounding shifts: one per figure, from -2 to +2,
/// derived from the group key, so every steward device of the group
/// computes the same ones and nobody outside can.
#[derive(Clone)]
pub struct Offsets {
    key: Option<[u8; 32]>,
}

impl std::fmt::Debug for Offsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.key.is_some() {
            "Offsets(secret)"
        } else {
            "Offsets(none)"
        })
    }
}

impl Offsets {
    /// The shifts of the group whose key this is.
    pub fn of_group(key: &crate::keys::SecretKey) -> Offsets {
        Offsets {
            key: Some(blake3::derive_key(
                "groundwork disclosure offsets v1",
                key.to_seed().as_slice(),
            )),
        }
    }

    /// No shifts: plain nearest-5 rounding (for tests and their controls).
    pub fn none() -> Offsets {
        Offsets { key: None }
    }

    /// The shift of the figure called `field`.
    pub fn of(&self, field: &str) -> i64 {
        match &self.key {
            None => 0,
            Some(k) => i64::from(blake3::keyed_hash(k, field.as_bytes()).as_bytes()[0] % 5) - 2,
        }
    }

    /// `n`, the figure called `field`, rounded with its shift.
    pub fn round(&self, field: &str, n: u64) -> Rounded {
        Rounded::shifted(n, self.of(field))
    }
}

/// Controlled rounding of a breakdown: each cell rounded down or up to a
/// multiple of 5 so that the cells add up to the nearest-5 rounding of
/// their exact total. A cell that is already a multiple of 5 is kept.
/// Deterministic: the cells with the largest remainders go up, the first
/// of equal ones first, so the same figures always publish the same way
/// (publishing them again tells a reader nothing new).
pub fn controlled(cells: &[u64]) -> Vec<Rounded> {
    let total: u64 = cells.iter().map(|c| (*c).min(MAX_FIGURE)).sum();
    controlled_to(cells, Rounded::nearest(total))
}

/// Controlled rounding of a breakdown to `total`, the published rounding
/// of the cells' exact sum (one of the two multiples of 5 around it; any
/// other is treated as the nearer of those two).
pub fn controlled_to(cells: &[u64], total: Rounded) -> Vec<Rounded> {
    let cells: Vec<u64> = cells.iter().map(|c| (*c).min(MAX_FIGURE)).collect();
    let floors: Vec<u64> = cells.iter().map(|c| c / BASE * BASE).collect();
    let exact: u64 = cells.iter().sum();
    let floor_sum: u64 = floors.iter().sum();
    let (down, up) = (exact / BASE * BASE, exact.div_ceil(BASE) * BASE);
    let target = total.get().clamp(down, up);
    // How many cells go up: the remainders add up to total - floor_sum,
    // each under 5, so there are always enough cells with one.
    let mut ups = target.saturating_sub(floor_sum) / BASE;
    let mut order: Vec<usize> = (0..cells.len())
        .filter(|&i| !cells[i].is_multiple_of(BASE))
        .collect();
    order.sort_by(|&a, &b| (cells[b] % BASE).cmp(&(cells[a] % BASE)).then(a.cmp(&b)));
    let mut out: Vec<Rounded> = floors.into_iter().map(Rounded).collect();
    for i in order {
        if ups == 0 {
            break;
        }
        out[i] = Rounded(out[i].0 + BASE);
        ups -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_rounds_halves_up_and_never_publishes_one_to_four() {
        let shown: Vec<u64> = (0..=13).map(|n| Rounded::nearest(n).get()).collect();
        assert_eq!(shown, [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10, 15]);
        assert_eq!(Rounded::nearest(u64::MAX).get(), MAX_FIGURE);
    }

    #[test]
    fn a_figure_that_is_not_a_multiple_of_five_is_refused_at_decode() {
        for bad in ["1", "3", "4", "22", "-5", "5.0", "\"5\"", "1000000005"] {
            assert!(serde_json::from_str::<Rounded>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::from_str::<Rounded>("25").ok(),
            Rounded::exactly(25)
        );
    }

    #[test]
    fn a_shift_keeps_zero_and_multiples_of_five_and_moves_the_rounding_point() {
        for offset in -2..=2 {
            assert_eq!(Rounded::shifted(0, offset).get(), 0);
            assert_eq!(Rounded::shifted(15, offset).get(), 15);
        }
        // Where 0 turns into 5 depends on the shift: at 1 to 5.
        let first_five: Vec<u64> = (-2..=2)
            .map(|o| {
                (0..10)
                    .find(|n| Rounded::shifted(*n, o).get() == 5)
                    .unwrap_or(99)
            })
            .collect();
        assert_eq!(first_five, [5, 4, 3, 2, 1]);
        // A group's shifts are its own: two keys give different ones.
        let fields: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let a = Offsets::of_group(&crate::keys::SecretKey::from_seed(&[1; 32]));
        let b = Offsets::of_group(&crate::keys::SecretKey::from_seed(&[2; 32]));
        let (sa, sb): (Vec<i64>, Vec<i64>) = fields.iter().map(|f| (a.of(f), b.of(f))).unzip();
        assert_ne!(sa, sb);
        assert!(sa.iter().all(|o| (-2..=2).contains(o)));
        assert!(
            (-2..=2).all(|o| sa.contains(&o)),
            "every shift occurs: {sa:?}"
        );
        assert_eq!(Offsets::none().of("members"), 0);
    }

    #[test]
    fn the_six_member_example_no_longer_intersects() {
        // Two of each kind; three joined in one month, three in the next.
        let kinds = controlled(&[2, 2, 2]);
        let months = controlled(&[3, 3]);
        let sum = |v: &[Rounded]| v.iter().copied().sum::<u64>();
        assert_eq!(sum(&kinds), 5);
        assert_eq!(sum(&months), 5);
        assert_eq!(kinds, [Rounded(5), Rounded(0), Rounded(0)]);
    }

    proptest! {
        #[test]
        fn controlled_rounding_adds_up_and_moves_each_cell_less_than_five(
            cells in proptest::collection::vec(0u64..40, 0..30),
            offset in -2i64..=2,
        ) {
            let total: u64 = cells.iter().sum();
            let target = Rounded::shifted(total, offset);
            let out = controlled_to(&cells, target);
            prop_assert_eq!(out.len(), cells.len());
            prop_assert_eq!(out.iter().copied().sum::<u64>(), target.get());
            for (c, r) in cells.iter().zip(&out) {
                prop_assert_eq!(r.get() % BASE, 0);
                prop_assert!(r.get() == c / BASE * BASE || r.get() == c / BASE * BASE + BASE);
                if c % BASE == 0 {
                    prop_assert_eq!(r.get(), *c);
                }
            }
            prop_assert_eq!(controlled_to(&cells, target), out, "deterministic");
        }
    }
}
