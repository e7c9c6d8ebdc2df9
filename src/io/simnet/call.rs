//! One HTTP-like call, as a hand-written future.
//!
//! Written out rather than as an `async fn` so that it stays small: a generator keeps its
//! arguments (the request) for its whole life and lays its states out side by side, and the
//! call future ends up inside every handler future that makes a call (a forwarded beat, a Raft
//! round), which the transport boxes once per request.
//!
//! How a call ends: refused after [`REFUSED_AFTER`](super::state::REFUSED_AFTER) (+ link
//! delays) when the peer is down or rejects the connect; a connect timeout after exactly
//! `connect` when the link is cut or the connect is dropped, unless a SYN retransmission
//! ([`SYN_RETRANSMITS`], 1, 3, 7, ... s in) finds the link whole again before then (the request
//! leaves at that moment) or the peer refusing; the reply; a reset one way after
//! the peer crashes; or a read timeout when no reply can be seen by the deadline (`read` after
//! the request is written): heard at the deadline when the loss was known before it (a reply
//! lost to a cut), 1 ms after it when the watchdog finds it (madsim's shortest sleep: kept, the
//! snapshots' timing depends on it). A call without read
//! timeout has no deadline: it waits for the reply, a reset, or TCP giving up
//! ([`TCP_GIVE_UP`]) after one of its messages was lost to a cut.

use super::endpoint::Endpoint;
use super::exchange::{End, Exchange, Heard};
use super::inbox::Letter;
use super::state::{Connect, STACK, TCP_GIVE_UP};
use crate::io::api::{NetError, Timeouts};
use crate::wire::{Request, Response};
use madsim::time::Sleep;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// The future of [`crate::io::Net::call`].
pub struct Call<'a> {
    ep: &'a Endpoint,
    dst: SocketAddr,
    state: State,
}

// Boxing the request would cost an allocation per call; the state is moved only when it changes.
#[allow(clippy::large_enum_variant)]
enum State {
    /// Not polled yet.
    Start {
        req: Request,
        timeouts: Timeouts,
    },
    /// The request has left; waiting for the reply or the read deadline.
    Waiting {
        exchange: Arc<Exchange>,
        /// The read deadline's registration with the node's watchdog.
        key: Option<u64>,
    },
    /// The SYN got no answer: the kernel retransmits it (boxed: only calls over a cut link
    /// come here, and every call future's size is paid by every request).
    Connecting(Box<Connecting>),
    /// The call has failed: the caller learns it when the sleep ends (a timer of the node, so
    /// it passes through the node's gate).
    Failing {
        sleep: Sleep,
        err: NetError,
    },
    Done,
}

/// When Linux retransmits an unanswered SYN, counted from the first: the retransmission
/// timeout starts at 1 s and doubles (1, 2, 4, 8, 16, 32 s), and with `tcp_syn_retries = 6` the
/// connect fails 64 s after the last, 127 s in ([`crate::io::OS_CONNECT_TIMEOUT`]). A connect
/// timeout shorter than that gives up first (spec §3, §6: a link that heals lets the next
/// retransmission through).
pub(crate) const SYN_RETRANSMITS: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(7),
    Duration::from_secs(15),
    Duration::from_secs(31),
    Duration::from_secs(63),
];

/// A connect whose SYN was dropped, waiting for its next retransmission.
struct Connecting {
    req: Request,
    timeouts: Timeouts,
    /// When the first SYN left.
    started: Instant,
    /// The retransmission the sleep waits for (an index into [`SYN_RETRANSMITS`]).
    retransmit: usize,
    sleep: Sleep,
}

/// How a wait for the reply ends.
#[allow(clippy::large_enum_variant)]
enum Waited {
    Reply(Response),
    /// The caller learns it now (a reset, or TCP giving up).
    Failed(NetError),
    /// The caller learns it when this `State::Failing` ends.
    Failing(State),
}

impl<'a> Call<'a> {
    pub(crate) fn new(ep: &'a Endpoint, dst: SocketAddr, req: Request, timeouts: Timeouts) -> Self {
        Call {
            ep,
            dst,
            state: State::Start { req, timeouts },
        }
    }

    /// Connects and sends the request. An alias is resolved here: from now on the call goes
    /// to, and is judged against, the process it names.
    fn start(&mut self, req: Request, timeouts: Timeouts) -> State {
        let ep = self.ep;
        let (dst, connect) = ep.env.links.with(|s| {
            let dst = s.resolve(self.dst);
            (dst, s.connect_to(ep.me.ip(), dst))
        });
        self.dst = dst;
        let now = ep.time.now_instant();
        self.connected(connect, req, timeouts, now, 0)
    }

    /// A SYN retransmission: judged again now.
    fn retransmit(&mut self, c: Connecting) -> State {
        let ep = self.ep;
        let connect = ep.env.links.with(|s| s.connect_to(ep.me.ip(), self.dst));
        self.connected(connect, c.req, c.timeouts, c.started, c.retransmit + 1)
    }

    /// What a SYN (the first, or retransmission `next - 1`) found: the request leaves, a
    /// refusal comes back, or the next retransmission (or the connect timeout) is awaited.
    fn connected(
        &mut self,
        connect: Connect,
        req: Request,
        timeouts: Timeouts,
        started: Instant,
        next: usize,
    ) -> State {
        let ep = self.ep;
        let delay = match connect {
            Connect::Cut => {
                let deadline = started + timeouts.connect;
                return match SYN_RETRANSMITS.get(next).map(|d| started + *d) {
                    Some(at) if at < deadline => State::Connecting(Box::new(Connecting {
                        req,
                        timeouts,
                        started,
                        retransmit: next,
                        sleep: ep.time.sleep_until(at),
                    })),
                    _ => State::Failing {
                        sleep: ep.time.sleep_until(deadline),
                        err: NetError::ConnectTimeout,
                    },
                };
            }
            Connect::Refused { after } => {
                // The peer's kernel answers the SYN with a RST: one round trip.
                return State::Failing {
                    sleep: ep.time.sleep(after),
                    err: NetError::Refused,
                };
            }
            Connect::Open { delay } => delay,
        };
        let now = ep.time.now_instant();
        // The read timeout runs from when the request has been written.
        let exchange = Exchange::new(timeouts.read.map(|r| now + STACK + r));
        let letter = Letter::Call {
            from: ep.me,
            req,
            reply: exchange.clone(),
        };
        ep.env.send(self.dst, now + delay, letter);
        State::Waiting {
            exchange,
            key: None,
        }
    }

    /// Waiting: what ends the wait, once it is known.
    fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<Waited> {
        let ep = self.ep;
        let State::Waiting { exchange, key } = &mut self.state else {
            unreachable!("only called while waiting");
        };
        let now = ep.time.now_instant();
        let deadline = exchange.deadline();
        let lost = match exchange.poll_heard(&ep.time, now, cx) {
            Poll::Ready(Heard::Reply(resp)) => {
                if ep
                    .env
                    .links
                    .with(|s| !s.link_cut(self.dst.ip(), ep.me.ip()))
                {
                    ep.env.links.count();
                    return Poll::Ready(Waited::Reply(resp));
                }
                true // lost to a cut while in flight
            }
            Poll::Ready(Heard::TooLate) => true,
            // The exchange woke this task when the caller learns it.
            Poll::Ready(Heard::Ended(End::Reset)) => {
                return Poll::Ready(Waited::Failed(NetError::Reset))
            }
            Poll::Ready(Heard::Ended(End::GaveUp)) => {
                return Poll::Ready(Waited::Failed(NetError::ReadTimeout))
            }
            Poll::Pending => deadline.is_some_and(|d| now >= d),
        };
        if lost {
            // The caller hears nothing before its read timeout; without one, it hears nothing
            // until TCP gives up retransmitting the lost reply.
            let sleep = match deadline {
                Some(d) => ep.time.sleep_until(d),
                None => ep.time.sleep(TCP_GIVE_UP),
            };
            return Poll::Ready(Waited::Failing(State::Failing {
                sleep,
                err: NetError::ReadTimeout,
            }));
        }
        if let Some(d) = deadline {
            ep.deadlines.register(d, now, key, cx.waker());
        }
        Poll::Pending
    }

    fn unregister(&mut self) {
        if let State::Waiting { exchange, key } = &mut self.state {
            if let Some(d) = exchange.deadline() {
                self.ep.deadlines.unregister(d, key.take());
            }
        }
    }
}

impl Future for Call<'_> {
    type Output = Result<Response, NetError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Start { .. } => {
                    let State::Start { req, timeouts } =
                        std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!()
                    };
                    this.state = this.start(req, timeouts);
                }
                State::Waiting { .. } => match this.poll_waiting(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(waited) => {
                        this.unregister();
                        match waited {
                            Waited::Reply(resp) => {
                                this.state = State::Done;
                                return Poll::Ready(Ok(resp));
                            }
                            Waited::Failed(err) => {
                                this.state = State::Done;
                                return Poll::Ready(Err(err));
                            }
                            Waited::Failing(failing) => this.state = failing,
                        }
                    }
                },
                State::Connecting(c) => {
                    if Pin::new(&mut c.sleep).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let State::Connecting(c) = std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!()
                    };
                    this.state = this.retransmit(*c);
                }
                State::Failing { sleep, err } => {
                    if Pin::new(sleep).poll(cx).is_pending() || this.ep.gate.pass(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let err = *err;
                    this.state = State::Done;
                    return Poll::Ready(Err(err));
                }
                State::Done => panic!("`Call` polled after completion"),
            }
        }
    }
}
