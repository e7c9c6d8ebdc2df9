//! Read timeouts that share one timer per node.
//!
//! madsim's timers cannot be cancelled: a `timeout` whose call was answered stays in the global
//! timer heap until it would have fired. With the client read timeout at 50 s, every call of a
//! benchmark left such a timer behind (tens of thousands at once), and every timer operation of
//! the run paid for the heap's depth. Instead, a call waiting for its reply registers its
//! deadline here, and one watchdog task per node keeps a single timer at the earliest deadline
//! and wakes the calls whose deadline has come. The watchdog runs on the caller's node, so a
//! paused node's calls time out when it resumes, as they did with madsim's own timeouts. The
//! watchdog is a timer of the node: it passes through the node's [`Gate`] (see [`super::gate`]).

use super::gate::Gate;
use super::timer::wake_at;
use madsim::time::TimeHandle;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::time::Instant;

/// The deadlines of one node's calls in flight.
pub(crate) struct Deadlines {
    time: TimeHandle,
    gate: Arc<Gate>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (deadline, call number) → the waiting call.
    waiting: BTreeMap<(Instant, u64), Waker>,
    next: u64,
    /// The watchdog task, once it has run.
    watchdog: Option<Waker>,
    /// When the watchdog's latest timer fires (a timer never fires early).
    armed: Option<Instant>,
}

impl Deadlines {
    /// Starts the node's watchdog (from inside the node).
    pub(crate) fn start(time: TimeHandle, gate: Arc<Gate>) -> Arc<Self> {
        let me = Arc::new(Deadlines {
            time,
            gate,
            inner: Mutex::default(),
        });
        let watchdog = me.clone();
        tokio::spawn(std::future::poll_fn(move |cx| watchdog.watch(cx)));
        me
    }

    /// One watchdog turn: wake every call whose deadline has come, then keep one timer at the
    /// earliest deadline still waiting.
    fn watch(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.pass(cx).is_pending() {
            return Poll::Pending;
        }
        let now = self.time.now_instant();
        let mut st = self.inner.lock().unwrap();
        while let Some(entry) = st.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            entry.remove().wake();
        }
        if !st
            .watchdog
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.watchdog = Some(cx.waker().clone());
        }
        if let Some(&(first, _)) = st.waiting.keys().next() {
            // A pending timer at or before `first` will do; otherwise set one.
            if !st.armed.is_some_and(|a| a > now && a <= first) {
                st.armed = Some(first.max(now + Duration::from_millis(1)));
                wake_at(&self.time, first, cx.waker());
            }
        }
        Poll::Pending
    }

    /// Wakes `waker` at `deadline` unless unregistered first; `key` names the registration
    /// (set on the first call, reused by the next ones, which only update the waker).
    pub(crate) fn register(
        &self,
        deadline: Instant,
        now: Instant,
        key: &mut Option<u64>,
        waker: &Waker,
    ) {
        let mut st = self.inner.lock().unwrap();
        let n = match *key {
            Some(n) => n,
            None => {
                st.next += 1;
                let n = st.next;
                *key = Some(n);
                n
            }
        };
        match st.waiting.get_mut(&(deadline, n)) {
            Some(w) if w.will_wake(waker) => return,
            Some(w) => *w = waker.clone(),
            None => {
                st.waiting.insert((deadline, n), waker.clone());
            }
        }
        // Wake the watchdog unless a timer of its is pending at or before this deadline.
        if !st.armed.is_some_and(|a| a > now && a <= deadline) {
            if let Some(w) = &st.watchdog {
                w.wake_by_ref();
            }
        }
    }

    pub(crate) fn unregister(&self, deadline: Instant, key: Option<u64>) {
        if let Some(n) = key {
            self.inner.lock().unwrap().waiting.remove(&(deadline, n));
        }
    }
}
