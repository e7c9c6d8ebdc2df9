//! Each process's inbox.
//!
//! A message in flight waits in the destination's inbox, keyed by its arrival time, with one
//! timer that wakes the inbox task when it lands. The inbox task runs on the destination node,
//! so madsim's scheduler decides what a process can do: a paused process takes its mail when it
//! resumes, a killed one never does (its inbox dies with it; a restarted process binds a new
//! one). A request's handler is polled once in the inbox; one that has to wait (a forwarded
//! call, a Raft round) finishes in a task of its own, so a slow handler never holds up the mail.
//!
//! The inbox also knows every call its process has accepted and not yet answered (in the mail,
//! or in a handler still running), so that a crash can reset them ([`Inbox::reset_all`]).

use super::exchange::{End, Exchange};
use super::gate::Gate;
use super::state::{Links, RESET_AFTER, TCP_GIVE_UP};
use super::timer::wake_at;
use crate::io::api::Handler;
use crate::wire::{Datagram, Request};
use madsim::time::TimeHandle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use tokio::time::Instant;

/// What travels to a node. (Most letters are calls: boxing the request would only add an
/// allocation per call.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Letter {
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
pub(crate) struct Inbox {
    me: SocketAddr,
    links: Arc<Links>,
    time: TimeHandle,
    handler: Weak<dyn Handler>,
    /// The process's timer gate, opened by the first run after a `RequestsFirst` resume.
    gate: Arc<Gate>,
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
    /// Calls whose handler is still running (caller, exchange), by slot.
    handling: Vec<Option<(SocketAddr, Arc<Exchange>)>>,
    handling_free: Vec<usize>,
    /// `TimersFirst` resume: no letter is taken before this.
    hold_until: Option<Instant>,
    /// `RequestsFirst` resume: open the gate once the landed letters are handed over.
    open_gate: bool,
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

    fn track(&mut self, from: SocketAddr, reply: Arc<Exchange>) -> usize {
        match self.handling_free.pop() {
            Some(i) => {
                self.handling[i] = Some((from, reply));
                i
            }
            None => {
                self.handling.push(Some((from, reply)));
                self.handling.len() - 1
            }
        }
    }
}

impl Inbox {
    /// Opens the inbox of the process booting on the current node, and starts its task there.
    pub(crate) fn open(
        me: SocketAddr,
        links: Arc<Links>,
        handler: Weak<dyn Handler>,
        gate: Arc<Gate>,
    ) -> Arc<Self> {
        let inbox = Arc::new(Inbox {
            me,
            links,
            time: TimeHandle::current(),
            handler,
            gate,
            st: Mutex::default(),
        });
        let task = inbox.clone();
        tokio::spawn(std::future::poll_fn(move |cx| task.run(cx)));
        inbox
    }

    /// A letter that lands at `arrive`.
    pub(crate) fn post(&self, arrive: Instant, letter: Letter) {
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

    /// `TimersFirst` resume: take no letter before `until`.
    pub(crate) fn hold(&self, until: Instant) {
        let task = {
            let mut st = self.st.lock().unwrap();
            st.hold_until = Some(until);
            st.task.clone()
        };
        if let Some(w) = task {
            wake_at(&self.time, until, &w);
        }
    }

    /// `RequestsFirst` resume: close the process's timer gate until the inbox's next run has
    /// handed over every letter landed by then.
    pub(crate) fn requests_first(&self) {
        self.gate.close();
        let task = {
            let mut st = self.st.lock().unwrap();
            st.open_gate = true;
            st.task.clone()
        };
        // Run even if no letter waits, to open the gate.
        if let Some(w) = task {
            w.wake();
        }
    }

    /// The process died: every call it accepted and has not answered is reset. Each caller
    /// hears the RST one way later, unless the link back to it is cut (then the RST is lost
    /// and the caller waits out its read timeout).
    pub(crate) fn reset_all(&self) {
        let (calls, handling) = {
            let mut st = self.st.lock().unwrap();
            st.order.clear();
            st.free.clear();
            let calls: Vec<(SocketAddr, Arc<Exchange>)> = std::mem::take(&mut st.slots)
                .into_iter()
                .filter_map(|l| match l {
                    Some(Letter::Call { from, reply, .. }) => Some((from, reply)),
                    _ => None,
                })
                .collect();
            st.handling_free.clear();
            let handling = std::mem::take(&mut st.handling);
            (calls, handling)
        };
        let now = self.time.now_instant();
        let me = self.me.ip();
        for (from, reply) in calls.into_iter().chain(handling.into_iter().flatten()) {
            let at = self.links.with(|s| {
                (!s.link_cut(me, from.ip())).then(|| now + RESET_AFTER + s.extra(me, from.ip()))
            });
            if let Some(at) = at {
                reply.end(End::Reset, at, &self.time);
            }
        }
    }

    /// One run of the inbox task: take the letters that have landed, one at a time (a handler
    /// may post to this inbox).
    fn run(self: &Arc<Self>, cx: &mut Context<'_>) -> Poll<()> {
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
                if let Some(until) = st.hold_until {
                    if now < until {
                        return Poll::Pending; // `hold` set a timer for `until`
                    }
                    st.hold_until = None;
                }
                match st.take_landed(now) {
                    Some(letter) => letter,
                    None => {
                        let open = std::mem::take(&mut st.open_gate);
                        drop(st);
                        if open {
                            self.gate.open();
                        }
                        return Poll::Pending;
                    }
                }
            };
            self.deliver(letter, now, cx);
        }
    }

    fn deliver(self: &Arc<Self>, letter: Letter, now: Instant, cx: &mut Context<'_>) {
        let (from, datagram) = match &letter {
            Letter::Call { from, .. } => (*from, false),
            Letter::Datagram { from, .. } => (*from, true),
        };
        // A letter that lands on a link cut while it was in flight is lost.
        if !self
            .links
            .with(|s| s.lands(from.ip(), self.me.ip(), datagram))
        {
            if let Letter::Call { reply, .. } = letter {
                if reply.deadline().is_none() {
                    // No read timeout: the caller's TCP retransmits until it gives up.
                    reply.end(End::GaveUp, now + TCP_GIVE_UP, &self.time);
                }
            }
            return;
        }
        let Some(handler) = self.handler.upgrade() else {
            return;
        };
        self.links.count();
        match letter {
            Letter::Datagram { from, d } => handler.datagram(from, d),
            Letter::Call { from, req, reply } => {
                let mut fut = handler.handle(from, req);
                match fut.as_mut().poll(cx) {
                    Poll::Ready(resp) => {
                        let arrive = now + self.one_way_to(from);
                        reply.answer(resp, arrive, &self.time);
                    }
                    Poll::Pending => {
                        // The handler waits for something: let it finish in its own task, and
                        // keep the call on record until it answers (a crash resets it).
                        let slot = self.st.lock().unwrap().track(from, reply.clone());
                        let inbox = self.clone();
                        tokio::spawn(async move {
                            let resp = fut.await;
                            let arrive = inbox.time.now_instant() + inbox.one_way_to(from);
                            reply.answer(resp, arrive, &inbox.time);
                            let mut st = inbox.st.lock().unwrap();
                            if st.handling.get(slot).is_some_and(|h| h.is_some()) {
                                st.handling[slot] = None;
                                st.handling_free.push(slot);
                            }
                        });
                    }
                }
            }
        }
    }

    /// A reply's delay from this process back to `to`.
    fn one_way_to(&self, to: SocketAddr) -> std::time::Duration {
        self.links.with(|s| s.one_way(self.me.ip(), to.ip()))
    }
}
