//! NamingProxy.reqApi: server selection and failover (spec §13).

use super::NamingClient;
use crate::trace::{Ev, RequestError};
use crate::wire::{Api, Request, Response};
use std::fmt;

/// A failed API call, as the SDK's NacosException.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NacosError {
    pub code: u16,
    pub msg: String,
}

impl fmt::Display for NacosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.msg)
    }
}

/// What `reqApi` throws after a failed attempt (spec §13, corrected): `callServer` wraps every
/// failure, its own exception for a non-2xx reply included, into a `NacosException` with code
/// 500 (`SERVER_ERROR`), so the caller always sees 500. The reply's status survives only in the
/// message, as the wrapped exception prints itself (`ErrCode:400, ErrMsg:...`); an I/O error
/// keeps its own text.
pub fn rethrown(status: Option<u16>, msg: &str) -> NacosError {
    let msg = match status {
        Some(code) => format!("ErrCode:{code}, ErrMsg:{msg}"),
        None => msg.to_owned(),
    };
    NacosError { code: 500, msg }
}

/// The order in which servers are tried: one configured server is tried `domain_retry` times;
/// several are tried once each, round-robin from a random start (§13).
pub fn server_order(n: usize, start: usize, domain_retry: usize) -> Vec<usize> {
    match n {
        0 => vec![],
        1 => vec![0; domain_retry.max(1)],
        _ => (0..n).map(|i| (start + i) % n).collect(),
    }
}

impl NamingClient {
    /// Sends one API call, moving to the next server on any non-2xx reply or I/O error.
    pub(crate) async fn req_api(&self, api: Api) -> Result<Response, NacosError> {
        let cfg = self.ctx.cfg.clone();
        let n = self.servers.len();
        let start = if n > 1 {
            madsim::rand::random::<u64>() as usize % n
        } else {
            0
        };
        let mut last = NacosError {
            code: 503,
            msg: "no server available".into(),
        };
        for idx in server_order(n, start, cfg.client_domain_retry as usize) {
            let server = self.servers[idx];
            let req = Request::client(api.clone());
            let result = self
                .ctx
                .net
                .call(
                    server,
                    req,
                    cfg.client_connect_timeout,
                    cfg.client_read_timeout,
                )
                .await;
            match result {
                Ok(resp) if resp.is_success() => return Ok(resp),
                Ok(resp) => {
                    let msg = match &resp.body {
                        crate::wire::Body::Text(t) => t.clone(),
                        other => format!("{other:?}"),
                    };
                    let ev = Ev::ClientRequestFailed {
                        server,
                        api: api.route(),
                        error: RequestError::Status {
                            code: resp.status,
                            msg: msg.clone(),
                        },
                    };
                    crate::trace::emit(&*self.ctx.name, ev);
                    last = rethrown(Some(resp.status), &msg);
                }
                Err(e) => {
                    let ev = Ev::ClientRequestFailed {
                        server,
                        api: api.route(),
                        error: RequestError::Io(e.to_string()),
                    };
                    crate::trace::emit(&*self.ctx.name, ev);
                    last = rethrown(None, &e.to_string());
                }
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failed_request_is_reported_as_500_with_the_status_in_the_message() {
        // spec §13 (corrected): callServer rewraps every failure as NacosException(500, e).
        for status in [400, 404, 500, 503] {
            let e = rethrown(Some(status), "receive invalid redirect request from peer");
            assert_eq!(e.code, 500);
            assert_eq!(
                e.msg,
                format!("ErrCode:{status}, ErrMsg:receive invalid redirect request from peer")
            );
        }
        assert_eq!(
            rethrown(None, "connect timed out").to_string(),
            "500 connect timed out"
        );
    }

    #[test]
    fn each_server_once_from_the_start_or_one_server_three_times() {
        assert_eq!(server_order(3, 1, 3), vec![1, 2, 0]);
        assert_eq!(server_order(3, 0, 3), vec![0, 1, 2]);
        assert_eq!(server_order(1, 0, 3), vec![0, 0, 0]);
        assert!(server_order(0, 0, 3).is_empty());
    }

    /// A call reset by a crashed server is an I/O failure like any other: the client moves on
    /// to the next server at once (spec §13), instead of waiting out its 50 s read timeout.
    #[test]
    fn a_reset_moves_on_to_the_next_server_at_once() {
        use crate::io::{BoxFuture, Clock, Disk, Handler, Net, NetEnv, NodeCtx};
        use crate::wire::{Datagram, Request};
        use std::net::{IpAddr, SocketAddr};
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::time::Duration;

        /// Answers after `delay`; notes that a request came.
        struct Stub(Duration, AtomicBool);
        impl Handler for Stub {
            fn handle(self: Arc<Self>, _: SocketAddr, _: Request) -> BoxFuture<Response> {
                self.1.store(true, Ordering::Relaxed);
                Box::pin(async move {
                    tokio::time::sleep(self.0).await;
                    Response::ok()
                })
            }
            fn datagram(self: Arc<Self>, _: SocketAddr, _: Datagram) {}
        }

        // Returns the outcome and when it came, on a seed whose client tries server 0 first.
        let one = |seed| {
            let rt =
                madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
            rt.block_on(async {
                let h = madsim::runtime::Handle::current();
                let env = Arc::new(NetEnv::default());
                let ms = Duration::from_millis;
                env.update(|s| s.latency = ms(5)..ms(5) + Duration::from_nanos(1));
                let addr = |n: u8| SocketAddr::new(IpAddr::from([10, 0, 0, n]), 8848);
                let mut stubs = vec![];
                let mut ids = vec![];
                for (n, delay) in [(1, ms(60_000)), (2, ms(1))] {
                    let stub = Arc::new(Stub(delay, AtomicBool::new(false)));
                    let (env, s) = (env.clone(), stub.clone());
                    let node = h.create_node().ip(addr(n).ip()).build();
                    node.spawn(async move {
                        let net = Net::bind(addr(n), env).await.unwrap();
                        net.serve(s.clone());
                        std::future::pending::<()>().await;
                        drop((net, s));
                    });
                    stubs.push(stub);
                    ids.push(node.id());
                }
                let t0 = tokio::time::Instant::now();
                let client = h.create_node().ip(addr(9).ip()).build();
                let env2 = env.clone();
                let done = client.spawn(async move {
                    let ctx = NodeCtx {
                        name: "c".into(),
                        addr: addr(9),
                        net: Net::bind(addr(9), env2).await.unwrap(),
                        clock: Clock::default(),
                        disk: Disk::default(),
                        cfg: Arc::new(crate::config::Config::default()),
                    };
                    let c = NamingClient::start(ctx, vec![addr(1), addr(2)]);
                    let r = c.req_api(Api::RaftGetPeer).await;
                    (r, t0.elapsed())
                });
                tokio::time::sleep(ms(1000)).await;
                if !stubs[0].1.load(Ordering::Relaxed) {
                    return None; // server 1 was tried first
                }
                h.kill(ids[0]);
                env.update(|s| {
                    s.down.insert(addr(1).ip());
                });
                env.crash(addr(1));
                Some(done.await.unwrap())
            })
        };
        let (res, at) = (1..=20)
            .find_map(one)
            .expect("a seed that tries server 0 first");
        assert_eq!(res, Ok(Response::ok()));
        // Crash at 1 s; the RST lands 1 ms later; server 1 answers after one round trip (14 ms)
        // plus its 1 ms handler.
        let want = Duration::from_millis(1000 + 1 + 14 + 1);
        assert!(at.abs_diff(want) < Duration::from_micros(50), "{at:?}");
    }
}
