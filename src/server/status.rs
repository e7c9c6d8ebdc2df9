//! The health channel between servers (spec §7): the owner never puts a health change through
//! Distro; replicas learn it from ServiceReporter's checksums and a fetch of the statuses.

use super::Server;
use crate::trace::{Ev, HealthReason};
use crate::wire::{Api, Body, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// spec §7 step 3: every local instance takes the health the owner lists; an instance the owner
/// does not list becomes unhealthy. Returns (ip:port, new health) for each change.
pub fn apply_statuses(local: &[(String, bool)], listed: &[String]) -> Vec<(String, bool)> {
    let owner: BTreeMap<&str, bool> = listed
        .iter()
        .filter_map(|s| s.rsplit_once('_').map(|(addr, h)| (addr, h == "true")))
        .collect();
    local
        .iter()
        .filter_map(|(addr, healthy)| {
            let want = owner.get(addr.as_str()).copied().unwrap_or(false);
            (want != *healthy).then(|| (addr.clone(), want))
        })
        .collect()
}

impl Server {
    /// ServiceReporter: from 60 s after boot, every 5 s, the checksums of the non-empty services
    /// this node owns go to every other member.
    pub(crate) fn start_service_reporter(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            server.ctx.net.sleep(cfg.service_status_initial).await;
            loop {
                let sums: BTreeMap<(String, String), String> = {
                    let mut st = server.state.lock().unwrap();
                    st.services
                        .iter_mut()
                        .filter(|((_, g), svc)| !svc.is_empty() && server.mapper.responsible(g))
                        // The cached checksum is kept current by every change (instances_changed).
                        .map(|(k, svc)| (k.clone(), svc.checksum.clone()))
                        .collect()
                };
                if !sums.is_empty() {
                    let targets = server.members.lock().unwrap().others();
                    for t in targets {
                        server.peer_send(
                            t,
                            Api::ServiceStatus {
                                source: server.ctx.addr,
                                checksums: sums.clone(),
                            },
                        );
                    }
                }
                server.ctx.net.sleep(cfg.service_status_period).await;
            }
        });
    }

    /// `POST /service/status` received: fetch the statuses of every service whose checksum
    /// differs from ours, and apply them.
    pub(crate) async fn on_service_status(
        self: Arc<Self>,
        source: SocketAddr,
        sums: BTreeMap<(String, String), String>,
    ) -> Response {
        // spec §7 step 2 (corrected): a report whose clientIP is no member's address (exact or
        // contained) is refused, as when a cluster.conf names the servers by aliases (§16.8).
        let member = self.members.lock().unwrap().has_member(&source.to_string());
        if !member {
            return Response::error(400, format!("ip: {source} is not in serverlist"));
        }
        let differing: Vec<(String, String)> = {
            let st = self.state.lock().unwrap();
            sums.into_iter()
                .filter_map(|(k, sum)| {
                    let svc = st.services.get(&k)?;
                    (svc.checksum != sum).then_some(k)
                })
                .collect()
        };
        for (ns, grouped) in differing {
            let api = Api::InstanceStatuses {
                namespace_id: ns.clone(),
                service_name: grouped.clone(),
            };
            let Ok(Response {
                body: Body::Statuses(listed),
                ..
            }) = self.peer_call(source, api).await
            else {
                continue;
            };
            let changes = {
                let st = self.state.lock().unwrap();
                let Some(svc) = st.services.get(&(ns.clone(), grouped.clone())) else {
                    continue;
                };
                let local: Vec<(String, bool)> = svc
                    .all_instances()
                    .iter()
                    .map(|i| (i.ip_port(), i.healthy))
                    .collect();
                apply_statuses(&local, &listed)
            };
            self.set_health(&ns, &grouped, &changes, false, HealthReason::StatusSync);
        }
        Response::ok()
    }

    /// Sets the health of instances by `ip:port` (only persistent ones if `persistent_only`),
    /// then the checksums, one `instance.healthy`/`instance.unhealthy` event per change with its
    /// `reason`, and a push. Nothing happens for an empty list.
    pub(crate) fn set_health(
        self: &Arc<Self>,
        ns: &str,
        grouped: &str,
        changes: &[(String, bool)],
        persistent_only: bool,
        reason: HealthReason,
    ) {
        if changes.is_empty() {
            return;
        }
        {
            let mut st = self.state.lock().unwrap();
            if let Some(svc) = st.services.get_mut(&(ns.to_string(), grouped.to_string())) {
                for c in svc.clusters.values_mut() {
                    let eph = if persistent_only {
                        &mut [][..]
                    } else {
                        &mut c.ephemeral[..]
                    };
                    for i in eph.iter_mut().chain(c.persistent.iter_mut()) {
                        if let Some((_, h)) = changes.iter().find(|(a, _)| *a == i.ip_port()) {
                            i.healthy = *h;
                        }
                    }
                }
            }
            st.instances_changed(ns, grouped);
        }
        for (addr, h) in changes {
            let (service, instance) = (grouped.to_string(), addr.clone());
            crate::trace::emit(
                self.name(),
                if *h {
                    Ev::InstanceHealthy {
                        service,
                        instance,
                        reason,
                    }
                } else {
                    Ev::InstanceUnhealthy {
                        service,
                        instance,
                        since_beat_ms: None,
                        reason: Some(reason),
                    }
                },
            );
        }
        self.push.service_changed(self.clone(), ns, grouped);
    }

    /// `GET /instance/statuses?key=ns##svc`: `{"ips":["ip:port_healthy", ...]}`.
    pub(crate) fn instance_statuses(&self, ns: &str, grouped: &str) -> Response {
        let st = self.state.lock().unwrap();
        let ips = st
            .services
            .get(&(ns.to_string(), grouped.to_string()))
            .map(|svc| {
                svc.all_instances()
                    .iter()
                    .map(|i| format!("{}_{}", i.ip_port(), i.healthy))
                    .collect()
            })
            .unwrap_or_default();
        Response::with(Body::Statuses(ips))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_health_wins_and_unlisted_instances_turn_unhealthy() {
        let local = vec![
            ("1.1.1.1:80".to_string(), true),
            ("2.2.2.2:80".to_string(), false),
            ("3.3.3.3:80".to_string(), true),
        ];
        let listed = vec!["1.1.1.1:80_true".to_string(), "2.2.2.2:80_true".to_string()];
        assert_eq!(
            apply_statuses(&local, &listed),
            vec![
                ("2.2.2.2:80".to_string(), true),
                ("3.3.3.3:80".to_string(), false)
            ]
        );
        assert!(apply_statuses(&local[..1], &listed).is_empty());
    }
}
