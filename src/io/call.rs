//! One HTTP-like call, as a hand-written future.
//!
//! Written out rather than as an `async fn` so that it stays small: a generator keeps its
//! arguments (the request) for its whole life and lays its states out side by side, and the
//! call future ends up inside every handler future that makes a call (a forwarded beat, a Raft
//! round), which the transport boxes once per request.

use super::inbox::{Exchange, Letter};
use super::net::{Connect, Net, NetError, STACK};
use crate::wire::{Request, Response};
use madsim::time::Sleep;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The future of [`Net::call`].
pub struct Call<'a> {
    net: &'a Net,
    dst: SocketAddr,
    state: State,
}

// Boxing the request would cost an allocation per call; the state is moved only when it changes.
#[allow(clippy::large_enum_variant)]
enum State {
    /// Not polled yet.
    Start {
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    },
    /// The request has left; waiting for the reply or the read deadline.
    Waiting {
        exchange: Arc<Exchange>,
        /// The read deadline's registration with the node's watchdog.
        key: Option<u64>,
    },
    /// The call has failed: the caller learns it when the sleep ends.
    Failing {
        sleep: Sleep,
        err: NetError,
    },
    Done,
}

impl<'a> Call<'a> {
    pub(super) fn new(
        net: &'a Net,
        dst: SocketAddr,
        req: Request,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Self {
        Call {
            net,
            dst,
            state: State::Start {
                req,
                connect_timeout,
                read_timeout,
            },
        }
    }

    /// Connects and sends the request.
    fn start(&self, req: Request, connect_timeout: Duration, read_timeout: Duration) -> State {
        let net = self.net;
        let delay = match net.env.connect(net.me.ip(), self.dst) {
            Connect::Cut => {
                return State::Failing {
                    sleep: net.time.sleep(connect_timeout),
                    err: NetError::ConnectTimeout,
                }
            }
            Connect::Refused => {
                // The peer's kernel answers the SYN with a RST: one round trip.
                return State::Failing {
                    sleep: net.time.sleep(Duration::from_millis(2)),
                    err: NetError::Refused,
                };
            }
            Connect::Open { delay } => delay,
        };
        let now = net.time.now_instant();
        // The read timeout runs from when the request has been written.
        let exchange = Exchange::new(now + STACK + read_timeout);
        let letter = Letter::Call {
            from: net.me,
            req,
            reply: exchange.clone(),
        };
        net.env.send(self.dst, now + delay, letter);
        State::Waiting {
            exchange,
            key: None,
        }
    }

    /// Waiting: `Ready(Ok)` once the reply has landed, `Ready(Err)` with the sleep until the
    /// read deadline once it is known that no reply will be seen.
    fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<Result<Response, State>> {
        let net = self.net;
        let State::Waiting { exchange, key } = &mut self.state else {
            unreachable!("only called while waiting");
        };
        let now = net.time.now_instant();
        let deadline = exchange.deadline();
        let lost = match exchange.poll_reply(&net.time, now, cx) {
            Poll::Ready(Some(resp)) => {
                if !net.env.link_cut(self.dst.ip(), net.me.ip()) {
                    net.env.count();
                    return Poll::Ready(Ok(resp));
                }
                true // lost to a cut while in flight
            }
            Poll::Ready(None) => true, // lands after the deadline
            Poll::Pending => now >= deadline,
        };
        if lost {
            // The caller hears nothing before its read timeout.
            return Poll::Ready(Err(State::Failing {
                sleep: net.time.sleep_until(deadline),
                err: NetError::ReadTimeout,
            }));
        }
        net.deadlines.register(deadline, now, key, cx.waker());
        Poll::Pending
    }

    fn unregister(&mut self) {
        if let State::Waiting { exchange, key } = &mut self.state {
            self.net
                .deadlines
                .unregister(exchange.deadline(), key.take());
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
                    let State::Start {
                        req,
                        connect_timeout,
                        read_timeout,
                    } = std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!()
                    };
                    this.state = this.start(req, connect_timeout, read_timeout);
                }
                State::Waiting { .. } => match this.poll_waiting(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(outcome) => {
                        this.unregister();
                        match outcome {
                            Ok(resp) => {
                                this.state = State::Done;
                                return Poll::Ready(Ok(resp));
                            }
                            Err(failing) => this.state = failing,
                        }
                    }
                },
                State::Failing { sleep, err } => {
                    if Pin::new(sleep).poll(cx).is_pending() {
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

impl Drop for Call<'_> {
    fn drop(&mut self) {
        self.unregister();
    }
}
