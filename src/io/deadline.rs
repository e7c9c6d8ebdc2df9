//! Read timeouts that share one timer per node.
//!
//! madsim's timers cannot be cancelled: a `timeout` whose call was answered stays in the global
//! timer heap until it would have fired. With the client read timeout at 50 s, every call of a
//! benchmark left such a timer behind (tens of thousands at once), and every timer operation of
//! the run paid for the heap's depth. Instead, a call waiting for its reply registers its
//! deadline here, and one watchdog task per node keeps a single timer at the earliest deadline
//! and wakes the calls whose deadline has come. The watchdog runs on the caller's node, so a
//! paused node's calls time out when it resumes, as they did with madsim's own timeouts.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The deadlines of one node's calls in flight.
#[derive(Default)]
pub struct Deadlines {
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
    /// Spawns the node's watchdog (from inside the node).
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(std::future::poll_fn(move |cx| me.watch(cx)));
    }

    /// One watchdog turn: wake every call whose deadline has come, then keep one timer at the
    /// earliest deadline still waiting.
    fn watch(&self, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        let mut st = self.inner.lock().unwrap();
        while let Some(entry) = st.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            entry.remove().wake();
        }
        if !st.watchdog.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.watchdog = Some(cx.waker().clone());
        }
        if let Some(&(first, _)) = st.waiting.keys().next() {
            // A pending timer at or before `first` will do; otherwise set one.
            if !st.armed.is_some_and(|a| a > now && a <= first) {
                st.armed = Some(arm(first, cx));
            }
        }
        Poll::Pending
    }

    /// Waits for `rx` until `deadline`: `Some` with the value, or `None` once the deadline has
    /// come (also when the sender is dropped: nothing will arrive, the caller waits it out).
    pub fn wait<T>(
        self: &Arc<Self>,
        deadline: Instant,
        rx: Option<oneshot::Receiver<T>>,
    ) -> Wait<T> {
        Wait {
            deadlines: self.clone(),
            deadline,
            rx,
            key: None,
        }
    }

    fn register(&self, deadline: Instant, key: &mut Option<u64>, waker: &Waker) {
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
        if !st.armed.is_some_and(|a| a > Instant::now() && a <= deadline) {
            if let Some(w) = &st.watchdog {
                w.wake_by_ref();
            }
        }
    }

    fn unregister(&self, deadline: Instant, key: Option<u64>) {
        if let Some(n) = key {
            self.inner.lock().unwrap().waiting.remove(&(deadline, n));
        }
    }
}

/// Sets one timer that wakes `cx`'s task at `at` (madsim makes it at least 1 ms from now);
/// returns when it fires.
fn arm(at: Instant, cx: &mut Context<'_>) -> Instant {
    let mut sleep = std::pin::pin!(tokio::time::sleep_until(at));
    let fires = sleep.deadline();
    let _ = sleep.as_mut().poll(cx);
    fires
}

/// A call waiting for its reply or its deadline ([`Deadlines::wait`]).
pub struct Wait<T> {
    deadlines: Arc<Deadlines>,
    deadline: Instant,
    rx: Option<oneshot::Receiver<T>>,
    key: Option<u64>,
}

impl<T> Future for Wait<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if let Some(rx) = &mut this.rx {
            match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(v)) => {
                    this.rx = None;
                    return Poll::Ready(Some(v));
                }
                Poll::Ready(Err(_)) => this.rx = None,
                Poll::Pending => {}
            }
        }
        if Instant::now() >= this.deadline {
            return Poll::Ready(None);
        }
        this.deadlines
            .register(this.deadline, &mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Wait<T> {
    fn drop(&mut self) {
        self.deadlines.unregister(self.deadline, self.key.take());
    }
}
