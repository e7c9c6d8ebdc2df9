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
                    last = NacosError {
                        code: resp.status,
                        msg,
                    };
                }
                Err(e) => {
                    let ev = Ev::ClientRequestFailed {
                        server,
                        api: api.route(),
                        error: RequestError::Io(e.to_string()),
                    };
                    crate::trace::emit(&*self.ctx.name, ev);
                    last = NacosError {
                        code: 500,
                        msg: e.to_string(),
                    };
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
    fn each_server_once_from_the_start_or_one_server_three_times() {
        assert_eq!(server_order(3, 1, 3), vec![1, 2, 0]);
        assert_eq!(server_order(3, 0, 3), vec![0, 1, 2]);
        assert_eq!(server_order(1, 0, 3), vec![0, 0, 0]);
        assert!(server_order(0, 0, 3).is_empty());
    }
}
