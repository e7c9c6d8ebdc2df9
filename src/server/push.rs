//! PushService: UDP push to subscribed clients with acks and one resend (spec §10).

use super::Server;
use crate::model::view::list_view;
use crate::model::Millis;
use crate::wire::Datagram;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct PushService {
    inner: Mutex<PushState>,
}

#[derive(Default)]
struct PushState {
    /// `ns##svc` → (client UDP address, clusters) → time of the client's last list call.
    clients: BTreeMap<String, BTreeMap<(SocketAddr, String), Millis>>,
    /// Services with a push already scheduled (coalescing, §10 "Trigger").
    scheduled: BTreeSet<String>,
    /// Unacked pushes: (client address, lastRefTime) → service and sends so far.
    acks: BTreeMap<(SocketAddr, i64), (String, u64)>,
    /// Makes lastRefTime unique when two pushes share a virtual nanosecond.
    seq: i64,
}

fn service_key(ns: &str, grouped: &str) -> String {
    format!("{ns}##{grouped}")
}

/// spec §10: a push client is a zombie once `now − lastRefTime > pushCacheMillis` (strictly).
pub fn is_zombie(last_ref: Millis, now: Millis, ttl: Millis) -> bool {
    now - last_ref > ttl
}

impl PushService {
    /// Adds or refreshes a push client (from `GET /instance/list` with `udpPort > 0`).
    pub fn add_client(
        &self,
        ns: &str,
        grouped: &str,
        clusters: &str,
        addr: SocketAddr,
        now: Millis,
    ) {
        let mut st = self.inner.lock().unwrap();
        st.clients
            .entry(service_key(ns, grouped))
            .or_default()
            .insert((addr, clusters.to_string()), now);
    }

    /// `serviceChanged`: schedule one push 1 s later unless one is already scheduled.
    pub fn service_changed(&self, server: Arc<Server>, ns: &str, grouped: &str) {
        if !server.ctx.cfg.push_enabled {
            return;
        }
        let key = service_key(ns, grouped);
        if !self.inner.lock().unwrap().scheduled.insert(key.clone()) {
            return;
        }
        let (ns, grouped) = (ns.to_string(), grouped.to_string());
        tokio::spawn(async move {
            server.ctx.net.sleep(server.ctx.cfg.push_delay).await;
            server.push.inner.lock().unwrap().scheduled.remove(&key);
            push_now(&server, &ns, &grouped).await;
        });
    }

    /// A `push-ack` datagram arrived.
    pub fn on_ack(&self, server: &Server, from: SocketAddr, last_ref_time: i64) {
        let entry = self
            .inner
            .lock()
            .unwrap()
            .acks
            .remove(&(from, last_ref_time));
        if let Some((service, _)) = entry {
            let ev = crate::trace::Ev::PushAcked { service, to: from };
            crate::trace::emit(server.name(), ev);
        }
    }

    /// Sweeps zombie push clients every 20 s from boot (§10).
    pub fn start_zombie_sweep(server: Arc<Server>) {
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            let ttl = cfg.push_cache_millis.as_millis() as Millis;
            loop {
                server.ctx.net.sleep(cfg.push_zombie_sweep).await;
                let now = server.now();
                let mut st = server.push.inner.lock().unwrap();
                for clients in st.clients.values_mut() {
                    clients.retain(|_, last| !is_zombie(*last, now, ttl));
                }
                st.clients.retain(|_, c| !c.is_empty());
            }
        });
    }
}

/// Sends the current view to every live client of the service, each with its own ack key.
async fn push_now(server: &Arc<Server>, ns: &str, grouped: &str) {
    let cfg = server.ctx.cfg.clone();
    let now = server.now();
    let ttl = cfg.push_cache_millis.as_millis() as Millis;
    let targets: Vec<(SocketAddr, String)> = {
        let st = server.push.inner.lock().unwrap();
        st.clients
            .get(&service_key(ns, grouped))
            .map(|m| {
                m.iter()
                    .filter(|(_, last)| !is_zombie(**last, now, ttl))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (addr, clusters) in targets {
        let cl: Vec<String> = clusters
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let view = {
            let st = server.state.lock().unwrap();
            let svc = st.services.get(&(ns.to_string(), grouped.to_string()));
            match list_view(svc, grouped, &cl, false, ttl as u64, now) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        let last_ref_time = {
            let mut st = server.push.inner.lock().unwrap();
            st.seq += 1;
            let lrt = server.ctx.clock.nano_time() + st.seq;
            st.acks.insert((addr, lrt), (grouped.to_string(), 0));
            lrt
        };
        let packet = Datagram::Push {
            data: Box::new(view),
            last_ref_time,
        };
        let server = server.clone();
        tokio::spawn(send_with_retransmit(server, addr, last_ref_time, packet));
    }
}

/// Sent at t0, resent at t0+10 s if unacked, given up at t0+20 s: 2 sends (§10).
async fn send_with_retransmit(server: Arc<Server>, addr: SocketAddr, lrt: i64, packet: Datagram) {
    let cfg = server.ctx.cfg.clone();
    loop {
        let (service, sends) = {
            let mut st = server.push.inner.lock().unwrap();
            let Some(entry) = st.acks.get_mut(&(addr, lrt)) else {
                return; // acked
            };
            if entry.1 > cfg.push_max_retry {
                let service = entry.0.clone();
                st.acks.remove(&(addr, lrt));
                drop(st);
                let ev = crate::trace::Ev::PushFailed { service, to: addr };
                crate::trace::emit(server.name(), ev);
                return;
            }
            entry.1 += 1;
            (entry.0.clone(), entry.1)
        };
        let ev = crate::trace::Ev::PushSent {
            service,
            to: addr,
            attempt: sends,
        };
        crate::trace::emit(server.name(), ev);
        server.ctx.net.send_datagram(addr, packet.clone()).await;
        server.ctx.net.sleep(cfg.push_ack_timeout).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zombie_is_strictly_older_than_the_ttl() {
        // spec §10: zombie when now − lastRefTime > 10000
        assert!(!is_zombie(0, 10_000, 10_000));
        assert!(is_zombie(0, 10_001, 10_000));
    }
}
