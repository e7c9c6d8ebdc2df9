//! A node's wall clock: virtual time plus the node's own skew, so clock-skew faults can make
//! one node's `System.currentTimeMillis()` disagree with the others'.
//!
//! The skew is an offset set at some moment plus a drift from that moment on (a clock that
//! gains `drift` seconds per second). Only the wall clock is skewed: `nanoTime` and timer
//! periods follow virtual time, as they would on a host whose NTP daemon steps the wall clock.

use crate::model::Millis;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Skew {
    /// Offset from true time at `since_us`, in ms.
    offset_ms: i64,
    /// Seconds gained per second from `since_us` on (negative: the clock runs slow).
    drift: f64,
    since_us: u64,
}

/// The node's clock. Cloning shares the skew, so the harness can skew a running node.
#[derive(Clone, Default, Debug)]
pub struct Clock {
    skew: Arc<Mutex<Skew>>,
}

/// What a clock reads at true time `t_us` under `skew` (pure, unit-tested).
fn read_ms(t_us: u64, s: Skew) -> Millis {
    let drift_ms = if s.drift == 0.0 {
        0
    } else {
        (t_us.saturating_sub(s.since_us) as f64 * s.drift / 1000.0).round() as i64
    };
    (t_us / 1000) as Millis + s.offset_ms + drift_ms
}

impl Clock {
    /// Epoch milliseconds as this node sees them (virtual ms since the run began + skew).
    pub fn now_ms(&self) -> Millis {
        read_ms(crate::trace::now_us(), *self.skew.lock().unwrap())
    }

    /// A monotonic nanosecond counter (Java's `System.nanoTime()`), unaffected by the skew.
    pub fn nano_time(&self) -> i64 {
        #[cfg(madsim)]
        {
            (crate::trace::now_us() * 1000) as i64
        }
        // Live mode: nanoseconds since the process started, small like a JVM's `nanoTime`
        // (time since boot). The push's `lastRefTime` must survive a JavaScript client's
        // double, exact only below 2^53 (spec §10: the ack echoes it); epoch nanoseconds do not.
        #[cfg(not(madsim))]
        {
            static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
            START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_nanos() as i64
        }
    }

    /// From now on the clock reads true time + `offset_ms`, and gains `drift` s per second.
    pub fn set_skew(&self, offset_ms: i64, drift: f64) {
        *self.skew.lock().unwrap() = Skew {
            offset_ms,
            drift,
            since_us: crate::trace::now_us(),
        };
    }

    /// The current offset from true time, in ms.
    pub fn offset_ms(&self) -> i64 {
        self.now_ms() - (crate::trace::now_us() / 1000) as Millis
    }

    /// Whether the clock disagrees (or will) with true time.
    pub fn is_skewed(&self) -> bool {
        let s = *self.skew.lock().unwrap();
        s.offset_ms != 0 || s.drift != 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_drift_add_up_from_the_moment_they_are_set() {
        let s = Skew {
            offset_ms: -20_000,
            drift: 0.01,
            since_us: 10_000_000,
        };
        // At the moment it is set: only the offset.
        assert_eq!(read_ms(10_000_000, s), 10_000 - 20_000);
        // 100 s later the clock has gained 1 s.
        assert_eq!(read_ms(110_000_000, s), 110_000 - 20_000 + 1_000);
        assert_eq!(read_ms(5_000_000, Skew::default()), 5_000);
        let slow = Skew {
            drift: -0.5,
            ..Skew::default()
        };
        assert_eq!(read_ms(4_000_000, slow), 2_000);
    }
}
