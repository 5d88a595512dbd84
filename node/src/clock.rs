//! The node's one clock: the wall time (seconds since 1970, today's date)
//! and monotonic instants, read from one value that is passed in. A group
//! holds it ([`crate::group::Group::clock`]) and everything that decides by
//! time (invites, link codes, link requests, summaries' dates, the
//! summary's throttle) reads it there, so a test can set the time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use groundwork_protocol::Date;

/// Where the time comes from.
pub trait TimeSource: Send + Sync + std::fmt::Debug {
    /// The wall time.
    fn wall(&self) -> SystemTime;
    /// A monotonic instant (for intervals: throttles, timeouts).
    fn instant(&self) -> Instant;
}

/// The system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl TimeSource for SystemClock {
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until told to move: for tests of anything
/// that expires or is dated.
#[derive(Debug)]
pub struct ManualTime {
    wall: SystemTime,
    base: Instant,
    moved: Mutex<Duration>,
}

impl ManualTime {
    /// A clock showing `wall`.
    pub fn at(wall: SystemTime) -> Self {
        ManualTime {
            wall,
            base: Instant::now(),
            moved: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves both the wall time and the instants forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.moved.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }

    fn moved(&self) -> Duration {
        *self.moved.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TimeSource for ManualTime {
    fn wall(&self) -> SystemTime {
        self.wall + self.moved()
    }
    fn instant(&self) -> Instant {
        self.base + self.moved()
    }
}

/// The clock, shared by the parts of one node. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Clock(Arc<dyn TimeSource>);

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The system's clocks.
    pub fn system() -> Self {
        Clock(Arc::new(SystemClock))
    }

    /// A clock reading `source`.
    pub fn new(source: Arc<dyn TimeSource>) -> Self {
        Clock(source)
    }

    /// Seconds since 1970 (0 for a wall clock set before 1970).
    pub fn secs(&self) -> u64 {
        self.0
            .wall()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// Today's date (UTC).
    pub fn today(&self) -> Date {
        Date::from_unix_days((self.secs() / 86_400) as i64)
    }

    /// A monotonic instant.
    pub fn instant(&self) -> Instant {
        self.0.instant()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let at = UNIX_EPOCH + Duration::from_secs(20_000 * 86_400 + 3_600);
        let source = Arc::new(ManualTime::at(at));
        let clock = Clock::new(source.clone());
        let (secs, day, instant) = (clock.secs(), clock.today(), clock.instant());
        assert_eq!(secs, 20_000 * 86_400 + 3_600);
        assert_eq!(day, Date::from_unix_days(20_000));
        assert_eq!(clock.secs(), secs, "it stands still");
        source.advance(Duration::from_secs(86_400));
        assert_eq!(clock.secs(), secs + 86_400);
        assert_eq!(clock.today(), Date::from_unix_days(20_001));
        assert_eq!(clock.instant() - instant, Duration::from_secs(86_400));
        // Positive control: the system clock is a real, later date.
        assert!(Clock::system().today() > Date::from_unix_days(20_000));
    }
}
