//! Distro: ownership of services among the servers and the forwarding filter (§5), replication
//! (§6, in `sync` and `verify`), built on the delay-task engine (`engine`) and the batching of
//! due keys per target (`batch`).

pub mod batch;
pub mod engine;
pub mod sync;
pub mod verify;

use crate::model::keys::distro_hash;
use crate::server::Server;
use crate::wire::{Request, Response, UserAgent};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// DistroMapper: which server owns a service.
pub struct DistroMapper {
    local: SocketAddr,
    /// The configured members (kept for the cluster mode).
    pub members: Vec<SocketAddr>,
    /// Sorted UP + SUSPICIOUS servers (§5).
    healthy: Mutex<Vec<SocketAddr>>,
}

impl DistroMapper {
    /// spec §5: at init, every member address, sorted.
    pub fn new(local: SocketAddr, members: Vec<SocketAddr>) -> Self {
        let mut healthy = members.clone();
        if !healthy.contains(&local) {
            healthy.push(local);
        }
        healthy.sort();
        DistroMapper {
            local,
            members,
            healthy: Mutex::new(healthy),
        }
    }

    /// Rebuilds the healthy list on a membership change.
    pub fn set_healthy(&self, mut list: Vec<SocketAddr>) {
        list.sort();
        *self.healthy.lock().unwrap() = list;
    }

    /// `responsible(s)` of §5 over the current healthy list.
    pub fn responsible(&self, grouped: &str) -> bool {
        responsible(&self.healthy.lock().unwrap(), self.local, grouped)
    }

    /// `mapSrv(s)` of §5.
    pub fn map_srv(&self, grouped: &str) -> SocketAddr {
        map_srv(&self.healthy.lock().unwrap(), self.local, grouped)
    }
}

impl Server {
    /// DistroFilter (§5): a `@CanDistro` request for a service this node does not own is proxied
    /// once to the owner; a request already forwarded by a peer gets 400 (never a second hop);
    /// an unreachable owner gives 500. `None` = handle it here; otherwise the answer to await.
    /// The decision is made at once and only a forward allocates its future: the future of
    /// every request contains this one's caller, and a forward's state (a whole call) would
    /// double its size.
    pub(crate) fn distro_filter<'a>(
        self: &'a Arc<Self>,
        req: &'a Request,
    ) -> Option<Pin<Box<dyn Future<Output = Response> + Send + 'a>>> {
        if !req.api.can_distro() {
            return None;
        }
        let svc = req.api.service_name()?.to_string();
        if self.mapper.responsible(&svc) {
            return None;
        }
        Some(Box::pin(self.distro_forward(req, svc)))
    }

    async fn distro_forward(self: &Arc<Self>, req: &Request, svc: String) -> Response {
        if req.ua == UserAgent::Server {
            return Response::error(400, "receive invalid redirect request from peer");
        }
        let target = self.mapper.map_srv(&svc);
        let cfg = &self.ctx.cfg;
        let fwd = Request {
            ua: UserAgent::Server,
            api: req.api.clone(),
            note: req.note,
        };
        let resp = match self
            .ctx
            .net
            .call(
                target,
                fwd,
                cfg.distro_proxy_connect_timeout,
                cfg.distro_proxy_read_timeout,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => Response::error(500, format!("failed to forward to {target}: {e}")),
        };
        // A forwarded beat that succeeds is routine (most beats of a cluster): only other calls
        // and failures are events.
        if !(matches!(req.api, crate::wire::Api::Beat(_)) && resp.is_success()) {
            let ev = crate::trace::Ev::DistroForward {
                service: svc.to_string(),
                api: req.api.route(),
                to: target,
                status: resp.status,
            };
            crate::trace::emit(self.name(), ev);
        }
        resp
    }
}

/// spec §5: false on an empty list; true when the local address is not in the list; otherwise
/// `distroHash(s) % len == index(local)`.
pub fn responsible(healthy: &[SocketAddr], local: SocketAddr, grouped: &str) -> bool {
    if healthy.is_empty() {
        return false;
    }
    let Some(idx) = healthy.iter().position(|a| *a == local) else {
        return true;
    };
    distro_hash(grouped) as usize % healthy.len() == idx
}

/// spec §5: `list[distroHash(s) % len]`, or the local address when the list is empty.
pub fn map_srv(healthy: &[SocketAddr], local: SocketAddr, grouped: &str) -> SocketAddr {
    if healthy.is_empty() {
        return local;
    }
    healthy[distro_hash(grouped) as usize % healthy.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ownership_follows_the_hash_over_the_sorted_list() {
        // spec §5: distroHash("DEFAULT_GROUP@@demo") = 1251993628; 1251993628 % 3 = 1.
        let list = vec![a("10.0.0.1:8848"), a("10.0.0.2:8848"), a("10.0.0.3:8848")];
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@demo"), list[1]);
        assert!(responsible(&list, list[1], "DEFAULT_GROUP@@demo"));
        assert!(!responsible(&list, list[0], "DEFAULT_GROUP@@demo"));
        // 142749101 % 3 = 2, 142749100 % 3 = 1
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@svc-a"), list[2]);
        assert_eq!(map_srv(&list, list[0], "DEFAULT_GROUP@@svc-b"), list[1]);
    }

    #[test]
    fn edge_cases_of_responsible() {
        let me = a("10.0.0.9:8848");
        assert!(!responsible(&[], me, "x@@y"));
        assert!(responsible(&[a("10.0.0.1:8848")], me, "x@@y"));
        assert_eq!(map_srv(&[], me, "x@@y"), me);
        let m = DistroMapper::new(me, vec![me]);
        assert!(m.responsible("DEFAULT_GROUP@@anything"));
    }
}
