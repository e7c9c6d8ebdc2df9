//! Server-side health checks of persistent instances (HealthCheckReactor with the TCP
//! processor): the owner probes each persistent instance's port; `checkTimes` (3) consecutive
//! failures make a healthy instance unhealthy and as many successes make it healthy again
//! (spec §3 checkTimes). Ephemeral instances are judged by their beats instead (§8).

use super::Server;
use crate::trace::HealthReason;
use std::sync::Arc;
use std::time::Duration;

/// `checkOK` / `checkFail`: returns the new (healthy, ok count, fail count). A success resets
/// the fail count and, on an unhealthy instance, counts towards recovery; a failure resets the
/// ok count and, on a healthy instance, counts towards marking it unhealthy.
pub fn after_probe(
    healthy: bool,
    ok: u64,
    fail: u64,
    success: bool,
    check_times: u64,
) -> (bool, u64, u64) {
    if success {
        if !healthy && ok + 1 >= check_times {
            return (true, 0, 0);
        }
        (healthy, if healthy { 0 } else { ok + 1 }, 0)
    } else {
        if healthy && fail + 1 >= check_times {
            return (false, 0, 0);
        }
        (healthy, 0, if healthy { fail + 1 } else { 0 })
    }
}

/// Spawns the service's persistent-instance health check: first after 2 s + rand[0, 5 s)
/// (HealthCheckTask's initial spread), then every `health_probe_period`.
pub(crate) fn start_health_probe(server: Arc<Server>, ns: String, grouped: String) {
    tokio::spawn(async move {
        let cfg = server.ctx.cfg.clone();
        let first = 2000 + madsim::rand::random::<u64>() % 5000;
        server.ctx.net.sleep(Duration::from_millis(first)).await;
        loop {
            if !probe_round(&server, &ns, &grouped).await {
                return; // the service is gone
            }
            server.ctx.net.sleep(cfg.health_probe_period).await;
        }
    });
}

/// One round over the service's persistent instances, on the owner only. Returns false once
/// the service no longer exists.
async fn probe_round(server: &Arc<Server>, ns: &str, grouped: &str) -> bool {
    let key = (ns.to_string(), grouped.to_string());
    let targets: Vec<(String, u16, bool)> = {
        let st = server.state.lock().unwrap();
        let Some(svc) = st.services.get(&key) else {
            return false;
        };
        svc.instances(false)
            .into_iter()
            .map(|i| (i.ip.clone(), i.port, i.healthy))
            .collect()
    };
    if targets.is_empty()
        || !server.mapper.responsible(grouped)
        || !server.ctx.cfg.health_check_enabled
    {
        return true;
    }
    let times = server.ctx.cfg.health_check_times;
    let mut changes = vec![];
    for (ip, port, healthy) in targets {
        let success = server.ctx.net.probe_tcp(&ip, port).await;
        let addr = format!("{ip}:{port}");
        let mut probes = server.probes.lock().unwrap();
        let counts = probes
            .entry((grouped.to_string(), addr.clone()))
            .or_insert((0, 0));
        let (now_healthy, ok, fail) = after_probe(healthy, counts.0, counts.1, success, times);
        *counts = (ok, fail);
        if now_healthy != healthy {
            changes.push((addr, now_healthy));
        }
    }
    server.set_health(ns, grouped, &changes, true, HealthReason::TcpProbe);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_mark_unhealthy_and_three_successes_recover() {
        // checkTimes = 3 (spec §3)
        let mut s = (true, 0, 0);
        for expect in [true, true, false] {
            s = after_probe(s.0, s.1, s.2, false, 3);
            assert_eq!(s.0, expect);
        }
        for expect in [false, false, true] {
            s = after_probe(s.0, s.1, s.2, true, 3);
            assert_eq!(s.0, expect);
        }
    }

    #[test]
    fn an_interrupted_streak_starts_over() {
        let s = after_probe(true, 0, 0, false, 3);
        let s = after_probe(s.0, s.1, s.2, false, 3);
        let s = after_probe(s.0, s.1, s.2, true, 3); // a success resets the fail count
        assert_eq!(s, (true, 0, 0));
        let s = after_probe(s.0, s.1, s.2, false, 3);
        assert_eq!(s, (true, 0, 1));
    }
}
