//! HostReactor: the client's service cache, its update tasks and the push receiver (spec §10, §13).

use super::NamingClient;
use crate::model::{HostView, ListView, Millis};
use crate::trace::{Ev, Via};
use crate::wire::{Api, Body, ListParams};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// One cached service (the SDK's ServiceInfo).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceInfo {
    /// Grouped name.
    pub name: String,
    pub clusters: String,
    pub hosts: Vec<HostView>,
    pub last_ref_time: Millis,
    pub cache_millis: u64,
}

impl ServiceInfo {
    fn from_view(v: ListView) -> Self {
        ServiceInfo {
            name: v.name,
            clusters: v.clusters,
            hosts: v.hosts,
            last_ref_time: v.last_ref_time.unwrap_or(0),
            cache_millis: v.cache_millis,
        }
    }

    /// spec §13 pushEmptyProtection: is there a healthy host with positive weight?
    pub fn validate(&self) -> bool {
        self.hosts.iter().any(|h| h.healthy && h.weight > 0.0)
    }
}

/// Cache key: `name` or `name@@clusters` (§13 step 1).
pub fn cache_key(grouped: &str, clusters: &str) -> String {
    if clusters.is_empty() {
        grouped.to_string()
    } else {
        format!("{grouped}@@{clusters}")
    }
}

/// What changed between two host lists, by `ip:port` (§13 processServiceJson).
pub fn diff_hosts(old: &[HostView], new: &[HostView]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let key = |h: &HostView| h.ip_port();
    let o: BTreeMap<String, &HostView> = old.iter().map(|h| (key(h), h)).collect();
    let n: BTreeMap<String, &HostView> = new.iter().map(|h| (key(h), h)).collect();
    let added = n.keys().filter(|k| !o.contains_key(*k)).cloned().collect();
    let removed = o.keys().filter(|k| !n.contains_key(*k)).cloned().collect();
    // "modified" = Instance.toString differs, metadata included: compare every field.
    let modified = n
        .iter()
        .filter(|(k, h)| o.get(*k).is_some_and(|old| old != *h))
        .map(|(k, _)| k.clone())
        .collect();
    (added, removed, modified)
}

/// UpdateTask's next delay: `min(base << failCount, 60 s)`, where the base is the server's
/// cacheMillis after a successful run and DEFAULT_DELAY (1 s) otherwise (§13 step 3).
pub fn update_delay(base: u64, fail_count: u32, max: u64) -> u64 {
    base.checked_shl(fail_count).unwrap_or(u64::MAX).min(max)
}

#[derive(Default)]
pub struct HostState {
    pub cache: BTreeMap<String, ServiceInfo>,
    update_tasks: BTreeSet<String>,
    updating: BTreeSet<String>,
    /// Listener count per cache key (subscribe / unsubscribe).
    pub listeners: BTreeMap<String, usize>,
}

impl NamingClient {
    /// `getServiceInfo` (§13 step 2).
    pub(crate) async fn get_service_info(
        self: &Arc<Self>,
        grouped: &str,
        clusters: &str,
    ) -> ServiceInfo {
        let key = cache_key(grouped, clusters);
        let (cached, updating) = {
            let st = self.host.lock().unwrap();
            (st.cache.contains_key(&key), st.updating.contains(&key))
        };
        if !cached {
            {
                let mut st = self.host.lock().unwrap();
                st.cache.insert(
                    key.clone(),
                    ServiceInfo {
                        name: grouped.to_string(),
                        clusters: clusters.to_string(),
                        ..Default::default()
                    },
                );
                st.updating.insert(key.clone());
            }
            let _ = self.update_service_now(grouped, clusters).await;
            self.host.lock().unwrap().updating.remove(&key);
        } else if updating {
            // Hold up to UPDATE_HOLD_INTERVAL for the update in flight.
            let hold = self.ctx.cfg.client_update_hold;
            let step = Duration::from_millis(10);
            let mut waited = Duration::ZERO;
            while waited < hold && self.host.lock().unwrap().updating.contains(&key) {
                self.ctx.net.sleep(step).await;
                waited += step;
            }
        }
        self.schedule_update_if_absent(grouped, clusters);
        self.host
            .lock()
            .unwrap()
            .cache
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// The cache as it is, without any call (what a check reads).
    pub fn cached(&self, grouped: &str, clusters: &str) -> Option<ServiceInfo> {
        self.host
            .lock()
            .unwrap()
            .cache
            .get(&cache_key(grouped, clusters))
            .cloned()
    }

    /// Runs `f` on the cached service, unless it is not cached or its first query is still in
    /// flight (when `getServiceInfo` would hold the caller): what a consumer's call picks from
    /// without copying the cache.
    /// `key` is the cache key ([`cache_key`]).
    pub fn with_cached<T>(&self, key: &str, f: impl FnOnce(&ServiceInfo) -> T) -> Option<T> {
        let st = self.host.lock().unwrap();
        if st.updating.contains(key) {
            return None;
        }
        st.cache.get(key).map(f)
    }

    /// Every cached service (cache key → info), for reports.
    pub fn cache_snapshot(&self) -> BTreeMap<String, ServiceInfo> {
        self.host.lock().unwrap().cache.clone()
    }

    /// Queries the list with this client's UDP port (a push subscription) and applies it.
    async fn update_service_now(self: &Arc<Self>, grouped: &str, clusters: &str) -> Result<(), ()> {
        let params = ListParams {
            namespace_id: self.namespace.clone(),
            service_name: grouped.to_string(),
            clusters: clusters.to_string(),
            client_ip: self.ctx.addr.ip().to_string(),
            udp_port: self.ctx.addr.port(),
            healthy_only: false,
        };
        match self.req_api(Api::ListInstances(params)).await {
            Ok(resp) => match resp.body {
                Body::List(view) => {
                    self.process_service(*view, Via::Poll);
                    Ok(())
                }
                _ => Err(()),
            },
            Err(_) => Err(()),
        }
    }

    /// `processServiceJson` (§13 step 4): applies data even when older, emits a change event on
    /// a first sighting or a non-empty diff.
    pub(crate) fn process_service(&self, view: ListView, via: Via) {
        let info = ServiceInfo::from_view(view);
        if self.ctx.cfg.client_push_empty_protection && !info.validate() {
            return;
        }
        let key = cache_key(&info.name, &info.clusters);
        let (changed, listeners) = {
            let mut st = self.host.lock().unwrap();
            let old = st.cache.insert(key.clone(), info.clone());
            // (An identical list, the common poll answer, needs no per-host diff.)
            // getServiceInfo puts an empty placeholder in the cache before its first query, so
            // that query is diffed against nothing: an empty first answer is no event. Only data
            // for a key not cached at all (a push) is a "first sighting" that always notifies.
            let changed = match old {
                Some(old) if old.hosts == info.hosts => false,
                Some(old) => {
                    let (a, r, m) = diff_hosts(&old.hosts, &info.hosts);
                    !(a.is_empty() && r.is_empty() && m.is_empty())
                }
                _ => true,
            };
            (changed, st.listeners.get(&key).copied().unwrap_or(0))
        };
        if changed && listeners > 0 {
            let ev = Ev::ClientNotified {
                service: info.name.clone(),
                via,
                hosts: HostView::list(&info.hosts),
            };
            crate::trace::emit(&*self.ctx.name, ev);
        }
    }

    /// `scheduleUpdateIfAbsent`: one UpdateTask per key, first run after 1 s; it never stops
    /// in 1.4.1.
    fn schedule_update_if_absent(self: &Arc<Self>, grouped: &str, clusters: &str) {
        let key = cache_key(grouped, clusters);
        if !self.host.lock().unwrap().update_tasks.insert(key.clone()) {
            return;
        }
        let client = self.clone();
        let (grouped, clusters) = (grouped.to_string(), clusters.to_string());
        tokio::spawn(async move {
            let cfg = client.ctx.cfg.clone();
            let default_delay = cfg.client_update_delay.as_millis() as u64;
            let max = cfg.client_max_update_delay.as_millis() as u64;
            let mut remembered = Millis::MAX;
            let mut fail_count: u32 = 0;
            let mut delay = default_delay;
            loop {
                client.ctx.net.sleep(Duration::from_millis(delay)).await;
                let (base, ok) = client
                    .update_task_run(&key, &grouped, &clusters, &mut remembered)
                    .await;
                if ok {
                    fail_count = 0;
                } else if fail_count < cfg.client_fail_cap as u32 {
                    fail_count += 1;
                }
                delay = update_delay(base.unwrap_or(default_delay), fail_count, max);
            }
        });
    }

    /// One UpdateTask run: returns (cacheMillis on success, success).
    async fn update_task_run(
        self: &Arc<Self>,
        key: &str,
        grouped: &str,
        clusters: &str,
        remembered: &mut Millis,
    ) -> (Option<u64>, bool) {
        let cached = self.host.lock().unwrap().cache.get(key).cloned();
        let Some(info) = cached else {
            let ok = self.update_service_now(grouped, clusters).await.is_ok();
            return (None, ok);
        };
        if info.last_ref_time <= *remembered {
            if self.update_service_now(grouped, clusters).await.is_err() {
                return (None, false);
            }
        } else {
            // A push came in since the last run: query only to keep the push client alive.
            let params = ListParams {
                namespace_id: self.namespace.clone(),
                service_name: grouped.to_string(),
                clusters: clusters.to_string(),
                client_ip: self.ctx.addr.ip().to_string(),
                udp_port: self.ctx.addr.port(),
                healthy_only: false,
            };
            let _ = self.req_api(Api::ListInstances(params)).await;
        }
        let info = self
            .host
            .lock()
            .unwrap()
            .cache
            .get(key)
            .cloned()
            .unwrap_or_default();
        *remembered = info.last_ref_time;
        if info.hosts.is_empty() {
            return (None, false);
        }
        (Some(info.cache_millis), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(ip: &str, healthy: bool) -> HostView {
        HostView::for_test(ip, healthy, 1.0, true)
    }

    #[test]
    fn backoff_doubles_from_the_base_and_caps_at_sixty_seconds() {
        assert_eq!(update_delay(10_000, 0, 60_000), 10_000);
        assert_eq!(update_delay(1_000, 1, 60_000), 2_000);
        assert_eq!(update_delay(1_000, 5, 60_000), 32_000);
        assert_eq!(update_delay(1_000, 6, 60_000), 60_000);
        assert_eq!(update_delay(10_000, 6, 60_000), 60_000);
    }

    #[test]
    fn diff_finds_added_removed_and_modified() {
        let old = vec![host("1.1.1.1", true), host("2.2.2.2", true)];
        let new = vec![host("2.2.2.2", false), host("3.3.3.3", true)];
        let (a, r, m) = diff_hosts(&old, &new);
        assert_eq!(a, vec!["3.3.3.3:80"]);
        assert_eq!(r, vec!["1.1.1.1:80"]);
        assert_eq!(m, vec!["2.2.2.2:80"]);
        let (a, r, m) = diff_hosts(&new, &new);
        assert!(a.is_empty() && r.is_empty() && m.is_empty());
    }

    #[test]
    fn cache_key_and_validate() {
        assert_eq!(cache_key("g@@s", ""), "g@@s");
        assert_eq!(cache_key("g@@s", "c1,c2"), "g@@s@@c1,c2");
        let mut info = ServiceInfo {
            hosts: vec![host("1.1.1.1", false)],
            ..Default::default()
        };
        assert!(!info.validate());
        info.hosts.push(host("2.2.2.2", true));
        assert!(info.validate());
    }
}
