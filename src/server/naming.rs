//! ServiceManager and the instance handlers: register, deregister, update, list, get, service
//! list (spec §8 "Register and deregister", §11, §12).

use super::Server;
use crate::model::ip_update::{update_ip_addresses, IpAction};
use crate::model::keys::{self, ephemeral_key, persistent_key};
use crate::model::revision::next_timestamp;
use crate::model::service::UpdateDiff;
use crate::model::{Instance, Service};
use crate::trace::{Ev, HealthReason, Via};
use crate::wire::{Body, InstanceParams, ListParams, Note, Response, UserAgent};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The server's in-memory registry.
#[derive(Default)]
pub struct NamingState {
    /// (namespace, grouped name) → service. Sorted, like Nacos's ConcurrentSkipListMap (§1).
    pub services: BTreeMap<(String, String), Service>,
    /// The consistency layer's DataStore: instance-list key → datum timestamp (§1). In Nacos a
    /// datum's instance objects are the very objects of the service's cluster sets, so the
    /// value is read from the service; a key removed here (Distro verify's toRemove, §6) leaves
    /// the instances in memory, as 1.4.1's no-op `Service.onDelete` does.
    pub datums: BTreeMap<String, u64>,
    /// Cached `Instances.getChecksum()` per datum key (Nacos recomputes it on every verify;
    /// the value is the same as long as the instances are), dropped on every change.
    sums: BTreeMap<String, String>,
}

impl NamingState {
    /// To be called after any change to a service's instances (health included): recomputes
    /// the service checksum and drops the cached datum checksums of its keys.
    pub fn instances_changed(&mut self, ns: &str, grouped: &str) {
        if let Some(svc) = self
            .services
            .get_mut(&(ns.to_string(), grouped.to_string()))
        {
            svc.recalculate_checksum();
        }
        self.sums.remove(&ephemeral_key(ns, grouped));
        self.sums.remove(&persistent_key(ns, grouped));
    }

    /// `Instances.getChecksum()` of a datum (§2), `None` when the DataStore has no such key.
    pub fn key_checksum(&mut self, key: &str) -> Option<String> {
        if let Some(s) = self.sums.get(key) {
            if self.datums.contains_key(key) {
                return Some(s.clone());
            }
        }
        let sum = crate::model::checksum::instances_checksum(&self.datum(key)?);
        self.sums.insert(key.to_string(), sum.clone());
        Some(sum)
    }

    /// The current value of a datum: the service's instances of the key's kind; `None` when
    /// the DataStore has no such key.
    pub fn datum(&self, key: &str) -> Option<Vec<Instance>> {
        self.datums.get(key)?;
        let (ns, grouped) = keys::service_of_key(key)?;
        let svc = self.services.get(&(ns, grouped))?;
        Some(svc.instances(keys::is_ephemeral_key(key)))
    }
}

fn instance_key(ns: &str, grouped: &str, ephemeral: bool) -> String {
    if ephemeral {
        ephemeral_key(ns, grouped)
    } else {
        persistent_key(ns, grouped)
    }
}

/// Why a list changed, for the events that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A client's (or a forwarded) registration or deregistration on this node.
    Local,
    /// Data replicated from a peer (Distro put, verify, load) or applied from Raft.
    Replica(Via),
    /// The owner's beat check deleted an expired instance (§8).
    Expired,
}

impl Cause {
    fn of(note: Option<Note>) -> Cause {
        match note {
            Some(Note::Expired) => Cause::Expired,
            None => Cause::Local,
        }
    }
}

impl Server {
    /// Validates the common parameters of the instance endpoints (§1 names, §12 weight range).
    pub(crate) fn validate(p: &InstanceParams) -> Option<Response> {
        if keys::split_grouped(&p.service_name).is_none()
            || !keys::valid_service_name(&p.service_name)
        {
            return Some(Response::error(
                400,
                format!("Param 'serviceName' is illegal: {}", p.service_name),
            ));
        }
        if !keys::valid_cluster_name(&p.cluster_name) {
            return Some(Response::error(
                400,
                format!("Param 'clusterName' is illegal: {}", p.cluster_name),
            ));
        }
        // spec §12: weight outside [0, 10000] → 400
        if !(0.0..=10000.0).contains(&p.weight) {
            return Some(Response::error(
                400,
                "instance format invalid: The weights range from 0.0 to 10000.0",
            ));
        }
        None
    }

    pub(crate) fn instance_from(&self, p: &InstanceParams) -> Instance {
        let mut i = Instance::new(&p.ip, p.port, &p.cluster_name, &p.service_name, self.now());
        i.weight = p.weight;
        i.enabled = p.enabled;
        i.healthy = p.healthy;
        i.ephemeral = p.ephemeral;
        i.metadata = p.metadata.clone();
        i
    }

    /// Creates the service locally if it is missing (§1 "Service creation"), starting its beat
    /// check task.
    pub(crate) fn ensure_service(self: &Arc<Self>, ns: &str, grouped: &str) {
        let created = {
            let mut st = self.state.lock().unwrap();
            let now = self.now();
            match st.services.entry((ns.to_string(), grouped.to_string())) {
                std::collections::btree_map::Entry::Occupied(_) => false,
                std::collections::btree_map::Entry::Vacant(v) => {
                    let mut svc = Service::new(ns, grouped);
                    svc.last_modified = now;
                    v.insert(svc);
                    true
                }
            }
        };
        if created {
            let ev = Ev::ServiceCreated {
                service: grouped.to_string(),
            };
            crate::trace::emit(self.name(), ev);
            super::health::start_beat_check(self.clone(), ns.to_string(), grouped.to_string());
            super::probe::start_health_probe(self.clone(), ns.to_string(), grouped.to_string());
        }
    }

    /// `POST /instance` (§12): ok, or 400.
    pub(crate) fn register_instance(
        self: &Arc<Self>,
        p: InstanceParams,
        _ua: UserAgent,
        note: Option<Note>,
    ) -> Response {
        if let Some(r) = Self::validate(&p) {
            return r;
        }
        self.ensure_service(&p.namespace_id, &p.service_name);
        let inst = self.instance_from(&p);
        self.update_ip_addresses(
            &p.namespace_id,
            &p.service_name,
            p.ephemeral,
            IpAction::Add(inst),
            Cause::of(note),
        );
        Response::ok()
    }

    /// `DELETE /instance` (§12): ok, also when the service is unknown.
    pub(crate) fn deregister_instance(
        self: &Arc<Self>,
        p: InstanceParams,
        note: Option<Note>,
    ) -> Response {
        let known = self
            .state
            .lock()
            .unwrap()
            .services
            .contains_key(&(p.namespace_id.clone(), p.service_name.clone()));
        if !known {
            return Response::ok();
        }
        let inst = self.instance_from(&p);
        self.update_ip_addresses(
            &p.namespace_id,
            &p.service_name,
            p.ephemeral,
            IpAction::Remove(inst),
            Cause::of(note),
        );
        Response::ok()
    }

    /// `PUT /instance` (§8, §12): a Java client ≥ 1.0.0 may only update an existing instance.
    pub(crate) fn update_instance(self: &Arc<Self>, p: InstanceParams, ua: UserAgent) -> Response {
        if let Some(r) = Self::validate(&p) {
            return r;
        }
        let exists = {
            let st = self.state.lock().unwrap();
            st.services
                .get(&(p.namespace_id.clone(), p.service_name.clone()))
                .map(|s| {
                    s.all_instances()
                        .iter()
                        .any(|i| i.ip == p.ip && i.port == p.port && i.ephemeral == p.ephemeral)
                })
                .unwrap_or(false)
        };
        if ua == UserAgent::JavaClient && !exists {
            return Response::error(400, format!("instance not exist: {}:{}", p.ip, p.port));
        }
        self.register_instance(p, ua, None)
    }

    /// `ServiceManager.updateIpAddresses` (§8), under the service lock: merge the change into
    /// the current datum (`model::ip_update`) and put the result.
    fn update_ip_addresses(
        self: &Arc<Self>,
        ns: &str,
        grouped: &str,
        ephemeral: bool,
        action: IpAction,
        cause: Cause,
    ) {
        let key = instance_key(ns, grouped, ephemeral);
        let diff = {
            let mut st = self.state.lock().unwrap();
            let memory: Vec<Instance> = st
                .services
                .get(&(ns.to_string(), grouped.to_string()))
                .map(|s| s.instances(ephemeral))
                .unwrap_or_default();
            let new = update_ip_addresses(st.datum(&key), &memory, action);
            // spec §6 onPut: timestamp 1 (what-if `whatif_distro_versions`: the next revision
            // of the key; persistent keys are not Distro's and keep 1).
            let versioned = ephemeral && self.ctx.cfg.whatif_distro_versions;
            let ts = next_timestamp(st.datums.get(&key).copied(), versioned);
            self.put_locked(&mut st, ns, grouped, &key, new, ephemeral, ts)
        };
        self.after_change(ns, grouped, &diff, cause);
        // spec §6 put step 3: sync the key to every other member after 1 s.
        if ephemeral {
            self.distro_sync(&key);
        }
    }

    /// The consistency layer's put (Distro for ephemeral keys, §6): store a new datum with
    /// timestamp `ts` (1 in 1.4.1, `model::revision`) and apply it to the service
    /// (`Service.onChange`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_locked(
        &self,
        st: &mut super::NamingState,
        ns: &str,
        grouped: &str,
        key: &str,
        instances: Vec<Instance>,
        ephemeral: bool,
        ts: u64,
    ) -> UpdateDiff {
        st.datums.insert(key.to_string(), ts);
        st.sums.remove(key);
        let now = self.now();
        match st.services.get_mut(&(ns.to_string(), grouped.to_string())) {
            Some(svc) => svc.update_ips(instances, ephemeral, now),
            None => UpdateDiff::default(),
        }
    }

    /// Events and the push that follow an applied change.
    pub(crate) fn after_change(
        self: &Arc<Self>,
        ns: &str,
        grouped: &str,
        diff: &UpdateDiff,
        cause: Cause,
    ) {
        // Replicas applying Distro or Raft data say so (`via=...`); the owner's own writes do not.
        let via = match cause {
            Cause::Replica(v) => Some(v),
            _ => None,
        };
        let service = || grouped.to_string();
        for i in &diff.added {
            let ev = Ev::InstanceRegistered {
                service: service(),
                instance: i.clone(),
                via,
            };
            crate::trace::emit(self.name(), ev);
        }
        for i in &diff.removed {
            let ev = match cause {
                Cause::Expired => Ev::InstanceDeleted {
                    service: service(),
                    instance: i.clone(),
                    reason: HealthReason::Expired,
                },
                _ => Ev::InstanceDeregistered {
                    service: service(),
                    instance: i.clone(),
                    via,
                },
            };
            crate::trace::emit(self.name(), ev);
        }
        // Service.onChange always ends in a push (§6 "Applying a change").
        self.push.service_changed(self.clone(), ns, grouped);
    }

    /// `GET /instance/list` (§11).
    pub(crate) fn list_instances(
        self: &Arc<Self>,
        _from: SocketAddr,
        l: ListParams,
        ua: UserAgent,
    ) -> Response {
        let cfg = &self.ctx.cfg;
        let mut cache_millis = cfg.default_cache_millis.as_millis() as u64;
        // spec §11 step 1 / §10: a push-capable client with a UDP port becomes a push client,
        // even for an unknown service.
        if l.udp_port > 0 && cfg.push_enabled && ua == UserAgent::JavaClient {
            let target: SocketAddr = match l.client_ip.parse() {
                Ok(ip) => SocketAddr::new(ip, l.udp_port),
                Err(_) => return Response::error(400, format!("bad clientIP {}", l.client_ip)),
            };
            self.push.add_client(
                &l.namespace_id,
                &l.service_name,
                &l.clusters,
                target,
                self.now(),
            );
            cache_millis = cfg.push_cache_millis.as_millis() as u64;
        }
        let clusters: Vec<String> = l
            .clusters
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let st = self.state.lock().unwrap();
        let svc = st
            .services
            .get(&(l.namespace_id.clone(), l.service_name.clone()));
        match crate::model::view::list_view(
            svc,
            &l.service_name,
            &clusters,
            l.healthy_only,
            cache_millis,
            self.now(),
        ) {
            Ok(v) => Response::with(Body::List(Box::new(v))),
            Err(_) => Response::error(500, format!("service is disabled: {}", l.service_name)),
        }
    }

    /// `GET /instance` (§12): the instance, or 404.
    pub(crate) fn get_instance(
        &self,
        ns: &str,
        grouped: &str,
        ip: &str,
        port: u16,
        cluster: &str,
    ) -> Response {
        let st = self.state.lock().unwrap();
        let Some(svc) = st.services.get(&(ns.to_string(), grouped.to_string())) else {
            return Response::error(404, format!("no service {grouped} found!"));
        };
        let found = svc
            .all_instances()
            .into_iter()
            .find(|i| i.ip == ip && i.port == port && i.cluster_name == cluster);
        match found {
            Some(i) => Response::with(Body::Instance {
                service: grouped.to_string(),
                ip: i.ip.clone(),
                port: i.port,
                cluster_name: i.cluster_name.clone(),
                weight: i.weight,
                healthy: i.healthy,
                instance_id: i.instance_id.clone(),
                metadata: i.metadata.clone(),
            }),
            None => Response::error(404, "no matched ip found!"),
        }
    }

    /// `GET /service/list` (§12): ungrouped names, paged; group `*` = all.
    pub(crate) fn list_services(
        &self,
        ns: &str,
        group: &str,
        page_no: u32,
        page_size: u32,
    ) -> Response {
        let st = self.state.lock().unwrap();
        let names: Vec<String> = st
            .services
            .keys()
            .filter(|(n, _)| n == ns)
            .filter_map(|(_, g)| keys::split_grouped(g))
            .filter(|(g, _)| group == "*" || g == group)
            .map(|(_, name)| name)
            .collect();
        let start = (page_no.max(1) as usize - 1) * page_size as usize;
        let doms = names
            .iter()
            .skip(start)
            .take(page_size as usize)
            .cloned()
            .collect();
        Response::with(Body::ServiceList {
            count: names.len(),
            doms,
        })
    }
}
