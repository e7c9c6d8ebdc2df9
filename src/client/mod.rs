//! One Nacos naming client: the Java SDK's NamingService (spec §13).

pub mod beat;
pub mod host;
pub mod proxy;

use crate::io::net::BoxFuture;
use crate::io::{Handler, NodeCtx};
use crate::model::{keys, HostView, Millis};
use crate::wire::{Api, BeatInfo, Datagram, InstanceParams, Request, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use host::ServiceInfo;
pub use proxy::NacosError;

/// An instance as the application registers it; a scenario's `register` and `deregister`
/// steps hold one too.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub service: String,
    pub group: String,
    pub ip: String,
    pub port: u16,
    pub cluster: String,
    pub weight: f64,
    pub enabled: bool,
    pub ephemeral: bool,
    pub metadata: BTreeMap<String, String>,
}

impl Registration {
    pub fn grouped(&self) -> String {
        keys::grouped_name(&self.group, &self.service)
    }

    fn params(&self, namespace: &str) -> InstanceParams {
        InstanceParams {
            namespace_id: namespace.to_string(),
            service_name: self.grouped(),
            ip: self.ip.clone(),
            port: self.port,
            cluster_name: self.cluster.clone(),
            weight: self.weight,
            enabled: self.enabled,
            healthy: true,
            ephemeral: self.ephemeral,
            metadata: self.metadata.clone(),
        }
    }

    fn meta_ms(&self, key: &str, default: Millis) -> Millis {
        match self.metadata.get(key) {
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                v.parse().unwrap_or(default)
            }
            _ => default,
        }
    }
}

/// `NamingUtils.checkInstanceIsLegal`: the heartbeat timeout and the delete timeout must not be
/// shorter than the beat interval (§1).
pub fn check_instance_is_legal(
    interval: Millis,
    timeout: Millis,
    delete_timeout: Millis,
) -> Result<(), NacosError> {
    if timeout < interval || delete_timeout < interval {
        return Err(NacosError {
            code: 400,
            msg: "Instance 'heart beat interval' must less than 'heart beat timeout' and 'ip delete timeout'.".into(),
        });
    }
    Ok(())
}

/// A running client process.
pub struct NamingClient {
    pub ctx: NodeCtx,
    /// The serverAddr list.
    pub servers: Vec<SocketAddr>,
    pub namespace: String,
    beats: Mutex<beat::BeatState>,
    host: Mutex<host::HostState>,
}

impl NamingClient {
    pub fn start(ctx: NodeCtx, servers: Vec<SocketAddr>) -> Arc<NamingClient> {
        let client = Arc::new(NamingClient {
            ctx,
            servers,
            namespace: keys::DEFAULT_NAMESPACE.to_string(),
            beats: Mutex::default(),
            host: Mutex::default(),
        });
        // The push receiver shares the node's endpoint; its port is the udpPort sent in queries.
        client.ctx.net.serve(client.clone());
        client
    }

    /// `registerInstance`: an ephemeral instance's beat is scheduled before the request (§13).
    pub async fn register_instance(self: &Arc<Self>, r: &Registration) -> Result<(), NacosError> {
        let cfg = &self.ctx.cfg;
        let interval = r.meta_ms(
            "preserved.heart.beat.interval",
            cfg.heartbeat_interval.as_millis() as Millis,
        );
        check_instance_is_legal(
            interval,
            r.meta_ms(
                "preserved.heart.beat.timeout",
                cfg.heartbeat_timeout.as_millis() as Millis,
            ),
            r.meta_ms(
                "preserved.ip.delete.timeout",
                cfg.ip_delete_timeout.as_millis() as Millis,
            ),
        )?;
        if r.ephemeral {
            self.add_beat(BeatInfo {
                ip: r.ip.clone(),
                port: r.port,
                cluster: r.cluster.clone(),
                service_name: r.grouped(),
                weight: r.weight,
                metadata: r.metadata.clone(),
                period: interval,
            });
        }
        self.req_api(Api::RegisterInstance(r.params(&self.namespace)))
            .await
            .map(|_| ())
    }

    /// `deregisterInstance`: stop the beat, then DELETE.
    pub async fn deregister_instance(self: &Arc<Self>, r: &Registration) -> Result<(), NacosError> {
        if r.ephemeral {
            self.remove_beat(&r.grouped(), &r.ip, r.port);
        }
        self.req_api(Api::DeregisterInstance(r.params(&self.namespace)))
            .await
            .map(|_| ())
    }

    /// `subscribe`: register the listener, then get the service info (whose first change event
    /// the listener receives).
    pub async fn subscribe(self: &Arc<Self>, grouped: &str, clusters: &str) -> Vec<HostView> {
        let key = host::cache_key(grouped, clusters);
        *self.host.lock().unwrap().listeners.entry(key).or_default() += 1;
        self.get_service_info(grouped, clusters).await.hosts
    }

    /// `unsubscribe`: drop the listener; in 1.4.1 the update task keeps running.
    pub fn unsubscribe(&self, grouped: &str, clusters: &str) {
        let key = host::cache_key(grouped, clusters);
        let mut st = self.host.lock().unwrap();
        if let Some(n) = st.listeners.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                st.listeners.remove(&key);
            }
        }
    }

    /// `getAllInstances` (subscribe = true): the cache as it is.
    pub async fn get_all_instances(
        self: &Arc<Self>,
        grouped: &str,
        clusters: &str,
    ) -> Vec<HostView> {
        self.get_service_info(grouped, clusters).await.hosts
    }

    /// `selectInstances(healthy)`: `healthy == flag && enabled && weight > 0` (§13).
    pub async fn select_instances(
        self: &Arc<Self>,
        grouped: &str,
        clusters: &str,
        healthy: bool,
    ) -> Vec<HostView> {
        let hosts = self.get_service_info(grouped, clusters).await.hosts;
        select(&hosts, healthy)
    }

    /// `selectOneHealthyInstance`: random by weight among the healthy hosts.
    pub async fn select_one_healthy(
        self: &Arc<Self>,
        grouped: &str,
        clusters: &str,
    ) -> Result<HostView, NacosError> {
        let hosts = self.get_service_info(grouped, clusters).await.hosts;
        let r = madsim::rand::random::<f64>();
        pick_by_weight(&hosts, r)
            .cloned()
            .ok_or_else(|| NacosError {
                code: 500,
                msg: format!("no host to srv for serviceInfo: {grouped}"),
            })
    }
}

impl NamingClient {
    /// NamingMaintainService `createService` (POST /service).
    pub async fn create_service(
        self: &Arc<Self>,
        grouped: &str,
        protect_threshold: f32,
    ) -> Result<(), NacosError> {
        let api = Api::CreateService {
            namespace_id: self.namespace.clone(),
            service_name: grouped.to_string(),
            protect_threshold,
        };
        self.req_api(api).await.map(|_| ())
    }

    /// `updateService` (PUT /service).
    pub async fn update_service(
        self: &Arc<Self>,
        grouped: &str,
        protect_threshold: f32,
    ) -> Result<(), NacosError> {
        let api = Api::UpdateService {
            namespace_id: self.namespace.clone(),
            service_name: grouped.to_string(),
            protect_threshold,
        };
        self.req_api(api).await.map(|_| ())
    }

    /// `deleteService` (DELETE /service).
    pub async fn delete_service(self: &Arc<Self>, grouped: &str) -> Result<(), NacosError> {
        let api = Api::DeleteService {
            namespace_id: self.namespace.clone(),
            service_name: grouped.to_string(),
        };
        self.req_api(api).await.map(|_| ())
    }
}

/// The client-side filter of `selectInstances`.
pub fn select(hosts: &[HostView], healthy: bool) -> Vec<HostView> {
    hosts
        .iter()
        .filter(|h| selected(h, healthy))
        .cloned()
        .collect()
}

/// Whether `selectInstances(healthy)` keeps the host.
pub fn selected(h: &HostView, healthy: bool) -> bool {
    h.healthy == healthy && h.enabled && h.weight > 0.0
}

/// Weighted random choice among healthy hosts with positive weight; `r` is uniform in [0, 1).
pub fn pick_by_weight(hosts: &[HostView], r: f64) -> Option<&HostView> {
    pick_index_by_weight(hosts, r).map(|i| &hosts[i])
}

/// [`pick_by_weight`] as an index into `hosts`.
pub fn pick_index_by_weight(hosts: &[HostView], r: f64) -> Option<usize> {
    let candidate = |h: &HostView| h.healthy && h.weight > 0.0;
    let total: f64 = hosts
        .iter()
        .filter(|h| candidate(h))
        .map(|h| h.weight)
        .sum();
    let target = r * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, h) in hosts.iter().enumerate().filter(|(_, h)| candidate(h)) {
        acc += h.weight;
        if target < acc {
            return Some(i);
        }
        last = Some(i);
    }
    last
}

impl Handler for NamingClient {
    fn handle(self: Arc<Self>, _from: SocketAddr, _req: Request) -> BoxFuture<Response> {
        Box::pin(async { Response::error(404, "not a server") })
    }

    /// PushReceiver (§10): apply the pushed data and ack it.
    fn datagram(self: Arc<Self>, from: SocketAddr, d: Datagram) {
        if let Datagram::Push {
            data,
            last_ref_time,
        } = d
        {
            let ev = crate::trace::Ev::ClientPushReceived {
                service: data.name.clone(),
                from,
            };
            crate::trace::emit(&*self.ctx.name, ev);
            self.process_service(*data, crate::trace::Via::Push);
            tokio::spawn(async move {
                self.ctx
                    .net
                    .send_datagram(from, Datagram::PushAck { last_ref_time })
                    .await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(ip: &str, healthy: bool, weight: f64, enabled: bool) -> HostView {
        HostView::for_test(ip, healthy, weight, enabled)
    }

    #[test]
    fn select_instances_filters_on_health_enabled_and_weight() {
        let hosts = vec![
            host("1.1.1.1", true, 1.0, true),
            host("2.2.2.2", false, 1.0, true),
            host("3.3.3.3", true, 0.0, true),
            host("4.4.4.4", true, 1.0, false),
        ];
        let healthy: Vec<_> = select(&hosts, true).iter().map(|h| h.ip.clone()).collect();
        assert_eq!(healthy, vec!["1.1.1.1"]);
        let unhealthy: Vec<_> = select(&hosts, false).iter().map(|h| h.ip.clone()).collect();
        assert_eq!(unhealthy, vec!["2.2.2.2"]);
    }

    #[test]
    fn weighted_pick_respects_weights_and_health() {
        let hosts = vec![
            host("1.1.1.1", true, 1.0, true),
            host("2.2.2.2", false, 5.0, true),
            host("3.3.3.3", true, 3.0, true),
        ];
        assert_eq!(pick_by_weight(&hosts, 0.0).unwrap().ip, "1.1.1.1");
        assert_eq!(pick_by_weight(&hosts, 0.24).unwrap().ip, "1.1.1.1");
        assert_eq!(pick_by_weight(&hosts, 0.26).unwrap().ip, "3.3.3.3");
        assert_eq!(pick_by_weight(&hosts, 0.999).unwrap().ip, "3.3.3.3");
        assert!(pick_by_weight(&[host("2.2.2.2", false, 5.0, true)], 0.5).is_none());
    }

    #[test]
    fn legal_instance_timing() {
        assert!(check_instance_is_legal(5000, 15000, 30000).is_ok());
        assert!(check_instance_is_legal(5000, 3000, 30000).is_err());
        assert!(check_instance_is_legal(5000, 15000, 3000).is_err());
    }
}
