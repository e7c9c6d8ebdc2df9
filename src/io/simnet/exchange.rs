//! The exchange a call's reply travels back through, and what else can end the call: a reset
//! from a crashed peer, or (for a call without read timeout) TCP giving up on a lost message.
//!
//! The reply, the reset or the give-up is put here with the time it lands at the caller, with a
//! timer that wakes the caller then: the caller's task runs once for it, not once when it is
//! sent and again after its flight.

use super::timer::wake_at;
use crate::wire::Response;
use madsim::time::TimeHandle;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::time::Instant;

/// Where a call's reply lands.
pub(crate) struct Exchange {
    /// The caller's read deadline (none: the call waits as long as the connection lives). A
    /// reply landing later is never seen.
    deadline: Option<Instant>,
    st: Mutex<ExchangeState>,
}

#[derive(Default)]
struct ExchangeState {
    /// The reply and when it lands at the caller.
    reply: Option<(Response, Instant)>,
    /// How the connection ended without a reply, and when the caller learns it.
    end: Option<(End, Instant)>,
    /// The caller's task.
    caller: Option<Waker>,
}

/// How a connection ends without a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The peer's process died: its kernel reset the connection.
    Reset,
    /// A message of the call was lost and TCP gave up retransmitting it (calls without read
    /// timeout only: the others time out first).
    GaveUp,
}

/// What the caller hears.
pub(crate) enum Heard {
    Reply(Response),
    /// The reply lands after the read deadline: the caller never sees it.
    TooLate,
    Ended(End),
}

impl Exchange {
    pub(crate) fn new(deadline: Option<Instant>) -> Arc<Self> {
        Arc::new(Exchange {
            deadline,
            st: Mutex::default(),
        })
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn in_time(&self, at: Instant) -> bool {
        self.deadline.is_none_or(|d| at <= d)
    }

    /// The handler's reply lands at the caller at `arrive`; the caller is woken then.
    pub(crate) fn answer(&self, resp: Response, arrive: Instant, time: &TimeHandle) {
        let caller = {
            let mut st = self.st.lock().unwrap();
            st.reply = Some((resp, arrive));
            st.caller.clone()
        };
        if let Some(w) = caller.filter(|_| self.in_time(arrive)) {
            wake_at(time, arrive, &w);
        }
    }

    /// The connection ends (`how`), and the caller learns it at `at`, unless a reply is already
    /// on its way (it left before the reset, so TCP delivers it first).
    pub(crate) fn end(&self, how: End, at: Instant, time: &TimeHandle) {
        let caller = {
            let mut st = self.st.lock().unwrap();
            if st.reply.is_some() || st.end.is_some() {
                return;
            }
            st.end = Some((how, at));
            st.caller.clone()
        };
        if let Some(w) = caller.filter(|_| self.in_time(at)) {
            wake_at(time, at, &w);
        }
    }

    /// The caller's side: what it has heard by `now`, or `Pending` (after making sure this task
    /// is woken when something it has not heard yet lands).
    pub(crate) fn poll_heard(
        &self,
        time: &TimeHandle,
        now: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<Heard> {
        let mut st = self.st.lock().unwrap();
        let fresh = !st.caller.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if fresh {
            st.caller = Some(cx.waker().clone());
        }
        let at = match (&st.reply, st.end) {
            (Some((_, arrive)), _) if !self.in_time(*arrive) => return Poll::Ready(Heard::TooLate),
            (Some((_, arrive)), _) if *arrive <= now => {
                return Poll::Ready(Heard::Reply(st.reply.take().unwrap().0))
            }
            (Some((_, arrive)), _) => *arrive,
            (None, Some((how, at))) if at <= now => return Poll::Ready(Heard::Ended(how)),
            // Past the deadline: the read timeout comes first.
            (None, Some((_, at))) if !self.in_time(at) => return Poll::Pending,
            (None, Some((_, at))) => at,
            (None, None) => return Poll::Pending,
        };
        // In flight: the timer set when it left wakes the task it knew of.
        if fresh {
            drop(st);
            wake_at(time, at, cx.waker());
        }
        Poll::Pending
    }
}
