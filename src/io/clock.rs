//! A node's wall clock: virtual time plus the node's own offset, so clock-skew faults can make
//! one node's `System.currentTimeMillis()` disagree with the others'.

use crate::model::Millis;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The node's clock. Cloning shares the offset, so the harness can skew a running node.
#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Epoch milliseconds as this node sees them (virtual ms since the run began + offset).
    pub fn now_ms(&self) -> Millis {
        (crate::trace::now_us() / 1000) as Millis + self.offset_ms.load(Ordering::Relaxed)
    }

    /// A monotonic nanosecond counter (Java's `System.nanoTime()`), unaffected by the offset.
    pub fn nano_time(&self) -> i64 {
        (crate::trace::now_us() * 1000) as i64
    }

    pub fn set_offset_ms(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::Relaxed);
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}
