//! Each process's inbox, and the exchange a call's reply travels back through.
//!
//! A message in flight waits in the destination's inbox, keyed by its arrival time, with one
//! timer that wakes the inbox task when it lands. The inbox task runs on the destination node,
//! so madsim's scheduler decides what a process can do: a paused process takes its mail when it
//! resumes, a killed one never does (its inbox dies with it; a restarted process binds a new
//! one). A request's handler is polled once in the inbox; one that has to wait (a forwarded
//! call, a Raft round) finishes in a task of its own, so a slow handler never holds up the mail.
//!
//! A reply is put in the call's [`Exchange`] together with its arrival time, with a timer that
//! wakes the caller then: the caller's task runs once for the reply, not once for the reply and
//! again after its flight.

use super::net::{Handler, NetEnv};
use crate::wire::{Datagram, Request, Response};
use madsim::time::TimeHandle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use tokio::time::Instant;

/// Sets one madsim timer that wakes `waker` at `at` (at least 1 ms from now).
pub(super) fn wake_at(time: &TimeHandle, at: Instant, waker: &Waker) {
    let mut cx = Context::from_waker(waker);
    let mut sleep = std::pin::pin!(time.sleep_until(at));
    let _ = sleep.as_mut().poll(&mut cx);
}

/// What travels to a node. (Most letters are calls: boxing the request would only add an
/// allocation per call.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Letter {
    Call {
        from: SocketAddr,
        req: Request,
        reply: Arc<Exchange>,
    },
    Datagram {
        from: SocketAddr,
        d: Datagram,
    },
}

/// One process's inbox.
pub(super) struct Inbox {
    me: SocketAddr,
    env: Arc<NetEnv>,
    time: TimeHandle,
    handler: Weak<dyn Handler>,
    st: Mutex<InboxState>,
}

#[derive(Default)]
struct InboxState {
    /// (arrival, sequence, slot) of each letter in flight, earliest first.
    order: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// The letters, by slot (a letter is moved once in and once out).
    slots: Vec<Option<Letter>>,
    free: Vec<usize>,
    seq: u64,
    /// The inbox task, once it has run.
    task: Option<Waker>,
}

impl InboxState {
    fn insert(&mut self, arrive: Instant, letter: Letter) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(letter);
                i
            }
            None => {
                self.slots.push(Some(letter));
                self.slots.len() - 1
            }
        };
        self.seq += 1;
        self.order.push(Reverse((arrive, self.seq, slot)));
    }

    /// The earliest letter, if it has landed by `now`.
    fn take_landed(&mut self, now: Instant) -> Option<Letter> {
        let &Reverse((arrive, _, slot)) = self.order.peek()?;
        if arrive > now {
            return None;
        }
        self.order.pop();
        self.free.push(slot);
        self.slots[slot].take()
    }
}

impl Inbox {
    /// Opens the inbox of the process booting on the current node, and starts its task there.
    pub(super) fn open(me: SocketAddr, env: Arc<NetEnv>, handler: Weak<dyn Handler>) -> Arc<Self> {
        let inbox = Arc::new(Inbox {
            me,
            env,
            time: TimeHandle::current(),
            handler,
            st: Mutex::default(),
        });
        let task = inbox.clone();
        tokio::spawn(std::future::poll_fn(move |cx| task.run(cx)));
        inbox
    }

    /// A letter that lands at `arrive`.
    pub(super) fn post(&self, arrive: Instant, letter: Letter) {
        let task = {
            let mut st = self.st.lock().unwrap();
            st.insert(arrive, letter);
            st.task.clone()
        };
        // Before its first run the task finds the letter itself.
        if let Some(w) = task {
            if arrive <= self.time.now_instant() {
                w.wake(); // held back until it landed (see `NetEnv::send`)
            } else {
                wake_at(&self.time, arrive, &w);
            }
        }
    }

    /// One run of the inbox task: take the letters that have landed, one at a time (a handler
    /// may post to this inbox).
    fn run(&self, cx: &mut Context<'_>) -> Poll<()> {
        let now = self.time.now_instant();
        loop {
            let letter = {
                let mut st = self.st.lock().unwrap();
                if st.task.is_none() {
                    // First run: letters posted before it have no timer yet.
                    for &Reverse((arrive, _, _)) in st.order.iter() {
                        if arrive > now {
                            wake_at(&self.time, arrive, cx.waker());
                        }
                    }
                    st.task = Some(cx.waker().clone());
                }
                match st.take_landed(now) {
                    Some(letter) => letter,
                    None => return Poll::Pending,
                }
            };
            self.deliver(letter, now, cx);
        }
    }

    fn deliver(&self, letter: Letter, now: Instant, cx: &mut Context<'_>) {
        let from = match &letter {
            Letter::Call { from, .. } | Letter::Datagram { from, .. } => *from,
        };
        // A letter that lands on a link cut while it was in flight is lost.
        if self.env.link_cut(from.ip(), self.me.ip()) {
            return;
        }
        let Some(handler) = self.handler.upgrade() else {
            return;
        };
        self.env.count();
        match letter {
            Letter::Datagram { from, d } => handler.datagram(from, d),
            Letter::Call { from, req, reply } => {
                let mut fut = handler.handle(from, req);
                match fut.as_mut().poll(cx) {
                    Poll::Ready(resp) => reply.answer(resp, now, &self.env, &self.time),
                    Poll::Pending => {
                        // The handler waits for something: let it finish in its own task.
                        let (env, time) = (self.env.clone(), self.time.clone());
                        tokio::spawn(async move {
                            let resp = fut.await;
                            reply.answer(resp, time.now_instant(), &env, &time);
                        });
                    }
                }
            }
        }
    }
}

/// Where a call's reply lands.
pub(super) struct Exchange {
    /// The caller's read deadline: a reply landing later is never seen.
    deadline: Instant,
    st: Mutex<ExchangeState>,
}

#[derive(Default)]
struct ExchangeState {
    /// The reply and when it lands at the caller.
    reply: Option<(Response, Instant)>,
    /// The caller's task.
    caller: Option<Waker>,
}

impl Exchange {
    pub(super) fn new(deadline: Instant) -> Arc<Self> {
        Arc::new(Exchange {
            deadline,
            st: Mutex::default(),
        })
    }

    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The handler's reply leaves now; the caller is woken when it lands.
    fn answer(&self, resp: Response, now: Instant, env: &NetEnv, time: &TimeHandle) {
        let arrive = now + env.one_way();
        let caller = {
            let mut st = self.st.lock().unwrap();
            st.reply = Some((resp, arrive));
            st.caller.clone()
        };
        if let Some(w) = caller.filter(|_| arrive <= self.deadline) {
            wake_at(time, arrive, &w);
        }
    }

    /// The caller's side: the reply if it has landed (`Ready(Some)`), `Ready(None)` if it cannot
    /// land before the deadline, `Pending` otherwise (after making sure this task is woken when
    /// it lands).
    pub(super) fn poll_reply(
        &self,
        time: &TimeHandle,
        now: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Response>> {
        let mut st = self.st.lock().unwrap();
        let fresh = !st.caller.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if fresh {
            st.caller = Some(cx.waker().clone());
        }
        match &st.reply {
            Some((_, arrive)) if *arrive > self.deadline => Poll::Ready(None),
            Some((_, arrive)) if *arrive <= now => Poll::Ready(st.reply.take().map(|r| r.0)),
            Some((_, arrive)) => {
                // In flight: the timer set when it left wakes the task it knew of.
                if fresh {
                    let arrive = *arrive;
                    drop(st);
                    wake_at(time, arrive, cx.waker());
                }
                Poll::Pending
            }
            None => Poll::Pending,
        }
    }
}
