//! Which runs first when a paused process resumes: its overdue timers or its queued mail.
//!
//! madsim pauses a node by parking every task of it that becomes ready, and resumes it by
//! putting them all back on the one ready queue, which it drains in an order drawn from the
//! seed (madsim 0.2.34, `task/mod.rs`: `resume` re-sends the parked runnables, `run_all_ready`
//! picks with `try_recv_random`). So after a stop-the-world pause the node's timer tasks and
//! its inbox task (holding every request and datagram that landed meanwhile) run in a seeded
//! order, as the JVM's timer and request threads race after a real GC pause. [`ResumeOrder`]
//! lets the harness fix that race either way:
//!
//! - `TimersFirst`: the inbox holds its mail for [`TIMERS_FIRST_HOLD`] after the resume. Every
//!   task woken by then (each overdue timer, and what it does in the same instant) runs first,
//!   whatever it sleeps with.
//! - `RequestsFirst`: the process's [`Gate`] closes; timers that pass through it (the node's
//!   [`super::Endpoint::sleep_until`], read and connect timeouts) wait at it until the inbox has
//!   handed every landed letter to the handler, then go on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a `TimersFirst` inbox holds its mail: madsim's shortest timer. madsim only moves
/// virtual time past a timer once its ready queue is empty, or after a task run (each run adds
/// 50–100 ns), so every task that is ready at the resume runs before the mail is taken unless
/// more than ~10,000 tasks run in that one instant.
pub const TIMERS_FIRST_HOLD: Duration = Duration::from_millis(1);

/// One process's timer gate: open, except while a `RequestsFirst` resume is in progress.
#[derive(Default)]
pub(crate) struct Gate {
    closed: AtomicBool,
    parked: Mutex<Vec<Waker>>,
}

impl Gate {
    /// `Ready` if the gate is open; otherwise the task waits until [`Gate::open`].
    pub(crate) fn pass(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.closed.load(Ordering::Relaxed) {
            return Poll::Ready(());
        }
        self.parked.lock().unwrap().push(cx.waker().clone());
        Poll::Pending
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn open(&self) {
        self.closed.store(false, Ordering::Relaxed);
        let parked = std::mem::take(&mut *self.parked.lock().unwrap());
        for w in parked {
            w.wake();
        }
    }
}
