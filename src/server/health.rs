//! Client beats and the beat-check task (spec §8).

use super::Server;
use crate::model::expiry::beat_verdict;
use crate::trace::{Ev, HealthReason};
use crate::wire::{
    Api, BeatParams, Body, InstanceParams, Request, Response, CODE_OK, CODE_RESOURCE_NOT_FOUND,
};
use std::sync::Arc;

impl Server {
    /// `PUT /instance/beat` (§8).
    pub(crate) fn client_beat(self: &Arc<Self>, b: BeatParams) -> Response {
        let cfg = self.ctx.cfg.clone();
        // The beat's ip, port and cluster override the plain parameters.
        let (ip, port, cluster) = match &b.beat {
            Some(info) => (info.ip.clone(), info.port, info.cluster.clone()),
            None => (b.ip.clone(), b.port, b.cluster_name.clone()),
        };
        let key = (b.namespace_id.clone(), b.service_name.clone());
        let switch_interval = cfg.client_beat_interval.as_millis() as i64;
        // The instance's beat interval if it exists (the reply needs nothing else of it).
        let find = |s: &Server| -> Option<i64> {
            let st = s.state.lock().unwrap();
            let c = st.services.get(&key)?.clusters.get(&cluster)?;
            c.ephemeral
                .iter()
                .chain(c.persistent.iter())
                .find(|i| i.ip == ip && i.port == port)
                .map(|i| i.heartbeat_interval(switch_interval))
        };
        let mut inst = find(self);
        if inst.is_none() {
            match &b.beat {
                // spec §8 step 2: unknown instance and a light beat → 20404 with HTTP 200.
                // The reply has no lightBeatEnabled field, which the client reads as false.
                None => {
                    return Response::with(Body::Beat {
                        client_beat_interval: switch_interval,
                        code: CODE_RESOURCE_NOT_FOUND,
                        light_beat_enabled: false,
                    })
                }
                // ... a full beat re-registers the instance on the server (healthy = true).
                Some(info) => {
                    let p = InstanceParams {
                        namespace_id: b.namespace_id.clone(),
                        service_name: b.service_name.clone(),
                        ip: info.ip.clone(),
                        port: info.port,
                        cluster_name: info.cluster.clone(),
                        weight: info.weight,
                        enabled: true,
                        healthy: true,
                        ephemeral: true,
                        metadata: info.metadata.clone(),
                    };
                    // A full beat re-registers as the owner's own write (no `via`).
                    let r = self.register_instance(p, crate::wire::UserAgent::Server, None);
                    if !r.is_success() {
                        return r;
                    }
                    inst = find(self);
                }
            }
        }
        // spec §8 step 3: the service is still missing → 500.
        if !self.state.lock().unwrap().services.contains_key(&key) {
            return Response::error(
                500,
                format!("service not found: {}@@{}", b.namespace_id, b.service_name),
            );
        }
        let interval = inst.unwrap_or(switch_interval);
        self.process_beat(&b.namespace_id, &b.service_name, &ip, port, &cluster);
        Response::with(Body::Beat {
            client_beat_interval: interval,
            code: CODE_OK,
            light_beat_enabled: cfg.light_beat_enabled,
        })
    }

    /// ClientBeatProcessor (§8): refresh lastBeat; an unhealthy, unmarked instance turns healthy.
    fn process_beat(self: &Arc<Self>, ns: &str, grouped: &str, ip: &str, port: u16, cluster: &str) {
        let now = self.now();
        let mut revived = vec![];
        {
            let mut st = self.state.lock().unwrap();
            let Some(svc) = st.services.get_mut(&(ns.to_string(), grouped.to_string())) else {
                return;
            };
            // A missing cluster throws inside the processor; Nacos only logs it.
            let Some(c) = svc.clusters.get_mut(cluster) else {
                return;
            };
            for i in c
                .ephemeral
                .iter_mut()
                .filter(|i| i.ip == ip && i.port == port)
            {
                i.last_beat = now;
                if !i.marked && !i.healthy {
                    i.healthy = true;
                    revived.push(i.ip_port());
                }
            }
            if !revived.is_empty() {
                st.instances_changed(ns, grouped);
            }
        }
        for i in &revived {
            crate::trace::emit(
                self.name(),
                Ev::InstanceHealthy {
                    service: grouped.to_string(),
                    instance: i.clone(),
                    reason: HealthReason::Beat,
                },
            );
        }
        if !revived.is_empty() {
            self.push.service_changed(self.clone(), ns, grouped);
        }
    }
}

/// What-if `whatif_beat_handover` (issue 13): the lastBeat a new owner judges an inherited
/// instance by. The replica's copy is the lastBeat of the last Distro put (often the
/// registration), so 1.4.1 deletes live instances whose next beat has not landed (§16.2); the
/// fix counts the takeover as a beat: a full heartbeat timeout of grace, after which only an
/// instance that really stopped beating expires.
pub fn handover_last_beat(last_beat: i64, takeover: i64) -> i64 {
    last_beat.max(takeover)
}

/// Spawns the service's ClientBeatCheckTask: first run after 5 s, then every 5 s (§3, §8).
pub(crate) fn start_beat_check(server: Arc<Server>, ns: String, grouped: String) {
    tokio::spawn(async move {
        let cfg = server.ctx.cfg.clone();
        server.ctx.net.sleep(cfg.beat_check_initial_delay).await;
        // Whether the previous run found this node the owner (what-if `whatif_beat_handover`).
        let mut owned = false;
        loop {
            if !beat_check(&server, &ns, &grouped, &mut owned) {
                return; // the service is gone
            }
            server.ctx.net.sleep(cfg.beat_check_period).await;
        }
    });
}

/// One run of ClientBeatCheckTask (§8). Returns false once the service no longer exists.
fn beat_check(server: &Arc<Server>, ns: &str, grouped: &str, owned: &mut bool) -> bool {
    let cfg = server.ctx.cfg.clone();
    // spec §8 step 1: only the owner checks, and only with health checks enabled.
    if !server.mapper.responsible(grouped) || !cfg.health_check_enabled {
        *owned = false;
        return server
            .state
            .lock()
            .unwrap()
            .services
            .contains_key(&(ns.to_string(), grouped.to_string()));
    }
    let now = server.now();
    let timeout = cfg.heartbeat_timeout.as_millis() as i64;
    let delete_timeout = cfg.ip_delete_timeout.as_millis() as i64;
    let mut unhealthy = vec![];
    let mut expired = vec![];
    {
        let mut st = server.state.lock().unwrap();
        let Some(svc) = st.services.get_mut(&(ns.to_string(), grouped.to_string())) else {
            return false;
        };
        // What-if (issue 13): a new owner takes over the inherited instances' clocks.
        let takeover = !std::mem::replace(owned, true) && cfg.whatif_beat_handover;
        if takeover {
            for c in svc.clusters.values_mut() {
                for i in c.ephemeral.iter_mut() {
                    i.last_beat = handover_last_beat(i.last_beat, now);
                }
            }
        }
        // spec §8 steps 2-4 over the ephemeral instances (`allIPs(true)`), the verdict taken
        // from each one's state at the start of the run (model/expiry.rs).
        for c in svc.clusters.values_mut() {
            for i in c.ephemeral.iter_mut() {
                let verdict = beat_verdict(i, now, timeout, delete_timeout, cfg.expire_instance);
                if verdict.marks_unhealthy() {
                    i.healthy = false;
                    unhealthy.push((i.ip_port(), now - i.last_beat));
                }
                if verdict.deletes() {
                    expired.push(i.clone());
                }
            }
        }
        if !unhealthy.is_empty() {
            st.instances_changed(ns, grouped);
        }
    }
    for (i, silent) in &unhealthy {
        crate::trace::emit(
            server.name(),
            Ev::InstanceUnhealthy {
                service: grouped.to_string(),
                instance: i.clone(),
                since_beat_ms: Some(*silent),
                reason: None,
            },
        );
    }
    if !unhealthy.is_empty() {
        server.push.service_changed(server.clone(), ns, grouped);
    }
    // spec §8 step 4: the delete is an async HTTP DELETE to this very server, with the server's
    // UA: if this node no longer owns the service, DistroFilter answers 400 and it is lost.
    for i in expired {
        let server = server.clone();
        let ns = ns.to_string();
        tokio::spawn(async move {
            let p = InstanceParams {
                namespace_id: ns,
                service_name: i.service_name.clone(),
                ip: i.ip.clone(),
                port: i.port,
                cluster_name: i.cluster_name.clone(),
                weight: i.weight,
                enabled: i.enabled,
                healthy: i.healthy,
                ephemeral: true,
                metadata: i.metadata.clone(),
            };
            let mut req = Request::server(Api::DeregisterInstance(p));
            req.note = Some(crate::wire::Note::Expired);
            let cfg = &server.ctx.cfg;
            let _ = server
                .ctx
                .net
                .call(
                    server.ctx.addr,
                    req,
                    cfg.server_connect_timeout,
                    cfg.server_read_timeout,
                )
                .await;
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::handover_last_beat;

    #[test]
    fn a_takeover_counts_as_a_beat() {
        // Registered at 1 s (the replica's lastBeat), taken over at 67.4 s: judged from 67.4 s.
        assert_eq!(handover_last_beat(1_000, 67_400), 67_400);
        // A beat newer than the takeover is kept.
        assert_eq!(handover_last_beat(70_000, 67_400), 70_000);
    }
}
