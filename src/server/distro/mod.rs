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
    /// spec §5: at init, every member address, sorted as strings (the local address included:
    /// a node adds itself when its cluster.conf lacks it, §4 step 1).
    pub fn new(local: SocketAddr, members: Vec<SocketAddr>) -> Self {
        let mut healthy = members.clone();
        if !healthy.contains(&local) {
            healthy.push(local);
        }
        sort_as_strings(&mut healthy);
        DistroMapper {
            local,
            members,
            healthy: Mutex::new(healthy),
        }
    }

    /// Rebuilds the healthy list on a membership change (sorted as strings, §5).
    pub fn set_healthy(&self, mut list: Vec<SocketAddr>) {
        sort_as_strings(&mut list);
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

/// spec §5 (corrected): member addresses are sorted as `ip:port` Strings, in Java's natural
/// String order, not numerically: `10.0.0.10:8848` comes before `10.0.0.1:8848` (`'0'` is
/// below `':'`) and `10.0.0.2:8848`, and `10.0.0.1:8848` before `127.0.0.1:8848`. With ten or
/// more servers on `10.0.0.x` the two orders differ. Also the order of ServerMemberManager's member map (a skip list keyed by the
/// address string), which reports and the startup load walk (§4, §6).
pub fn sort_as_strings(list: &mut [SocketAddr]) {
    list.sort_by_cached_key(|a| a.to_string());
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
    fn the_ring_is_sorted_as_strings_not_numerically() {
        // spec §5 (corrected): with ten servers, 10.0.0.10 sorts first (its '0' is below the
        // ':' of "10.0.0.1:"), then 10.0.0.1, 10.0.0.2, ...
        let ten: Vec<SocketAddr> = (1..=10).map(|i| a(&format!("10.0.0.{i}:8848"))).collect();
        let m = DistroMapper::new(ten[0], ten.clone());
        let ring = m.healthy.lock().unwrap().clone();
        assert_eq!(&ring[..3], &[ten[9], ten[0], ten[1]]);
        // distroHash("DEFAULT_GROUP@@demo") = 1251993628; % 10 = 8: the ninth entry as strings
        // (10.0.0.8), where a numeric sort would give 10.0.0.9.
        assert_eq!(m.map_srv("DEFAULT_GROUP@@demo"), a("10.0.0.8:8848"));
        let mut numeric = ten.clone();
        numeric.sort();
        assert_eq!(map_srv(&numeric, ten[0], "DEFAULT_GROUP@@demo"), ten[8]);
        m.set_healthy(ten.clone());
        assert_eq!(*m.healthy.lock().unwrap(), ring);
        // spec §16 item 8: a node whose cluster.conf names every server by a 127.0.0.x alias
        // adds its own 10.x address, which sorts first: it owns the services hashing to 0 of
        // N + 1, and the others map to aliases.
        let me = a("10.0.0.2:8848");
        let aliases: Vec<SocketAddr> = (1..=3).map(|i| a(&format!("127.0.0.{i}:8848"))).collect();
        let m = DistroMapper::new(me, aliases.clone());
        assert_eq!(m.healthy.lock().unwrap()[0], me);
        assert_eq!(m.healthy.lock().unwrap().len(), 4);
        assert!(m.responsible("DEFAULT_GROUP@@demo"), "1251993628 % 4 = 0");
        assert!(!m.responsible("DEFAULT_GROUP@@svc-a"), "142749101 % 4 = 1");
        assert_eq!(m.map_srv("DEFAULT_GROUP@@svc-a"), aliases[0]);
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
