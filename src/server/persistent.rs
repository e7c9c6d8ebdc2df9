//! Persistent instances (`ephemeral=false`): registered and deregistered through the active
//! persistence protocol, legacy Raft or JRaft (spec §1 "Service creation", §8
//! updateIpAddresses, §9 signalPublish; jraft spec §J7.2, §J7.3).

use super::Server;
use crate::model::keys::{meta_key, persistent_key};
use crate::model::Instance;
use crate::server::consistency::reply;
use crate::wire::{InstanceParams, RaftValue, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Server {
    /// `POST /instance` (ephemeral) of a service new on this server once JRaft is active
    /// (jraft spec §J7.3): `putServiceAndInit` puts the empty service in the map, then listens
    /// on its persistent key, which reads it through JRaft; without a reachable leader that
    /// read fails with 40302 and the empty service stays. The next try finds the service and
    /// goes through Distro only.
    pub(crate) async fn register_new_service(
        self: &Arc<Self>,
        p: InstanceParams,
        ua: crate::wire::UserAgent,
        note: Option<crate::wire::Note>,
    ) -> Response {
        if let Some(r) = Self::validate(&p) {
            return r;
        }
        self.ensure_service(&p.namespace_id, &p.service_name);
        if let Err(e) = self.persistent_read().await {
            return e.response();
        }
        self.register_instance(p, ua, note)
    }

    /// Whether this server holds the service.
    pub(crate) fn has_service(&self, ns: &str, grouped: &str) -> bool {
        self.state
            .lock()
            .unwrap()
            .services
            .contains_key(&(ns.to_string(), grouped.to_string()))
    }

    /// The per-service lock that serializes read-modify-publish of a service's list.
    fn service_lock(&self, ns: &str, grouped: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.service_locks
            .lock()
            .unwrap()
            .entry(format!("{ns}##{grouped}"))
            .or_default()
            .clone()
    }

    /// The current persistent list of a service: the Raft datum's value, with health copied
    /// from memory (updateIpAddresses), keyed by datumKey.
    fn persistent_list(&self, ns: &str, grouped: &str) -> BTreeMap<String, Instance> {
        let key = persistent_key(ns, grouped);
        let datum = self.raft.lock().unwrap().datums.get(&key).cloned();
        let st = self.state.lock().unwrap();
        let memory: BTreeMap<String, Instance> = st
            .services
            .get(&(ns.to_string(), grouped.to_string()))
            .map(|s| {
                s.instances(false)
                    .into_iter()
                    .map(|i| (i.ip_port(), i))
                    .collect()
            })
            .unwrap_or_default();
        let mut list = BTreeMap::new();
        if let Some(crate::wire::RaftDatum {
            value: RaftValue::Instances(v),
            ..
        }) = datum
        {
            for mut i in v {
                if let Some(m) = memory.get(&i.ip_port()) {
                    i.healthy = m.healthy;
                    i.last_beat = m.last_beat;
                }
                list.insert(i.datum_key(), i);
            }
        }
        list
    }

    /// `POST /instance` with `ephemeral=false`: a new service is created here, listened on (a
    /// JRaft read, §J7.3) and its meta written; then the list is read (§J7.2) and written. Any
    /// step failing answers with its error (legacy 500, JRaft 40301/40302); what was done
    /// locally stays (an empty service, legacy Raft's local apply).
    pub(crate) async fn register_persistent(self: &Arc<Self>, p: InstanceParams) -> Response {
        if let Some(r) = Self::validate(&p) {
            return r;
        }
        let (ns, grouped) = (p.namespace_id.clone(), p.service_name.clone());
        let lock = self.service_lock(&ns, &grouped);
        let _serialized = lock.lock().await;
        let known = self
            .state
            .lock()
            .unwrap()
            .services
            .contains_key(&(ns.clone(), grouped.clone()));
        if !known {
            self.ensure_service(&ns, &grouped);
            if let Err(e) = self.persistent_read().await {
                return e.response();
            }
            let meta = RaftValue::ServiceMeta {
                protect_threshold: 0.0,
                metadata: BTreeMap::new(),
            };
            if let Err(e) = self.persistent_put(&meta_key(&ns, &grouped), meta).await {
                return e.response();
            }
        }
        if let Err(e) = self.persistent_read().await {
            return e.response();
        }
        let mut inst = self.instance_from(&p);
        let mut list = self.persistent_list(&ns, &grouped);
        if let Some(old) = list.get(&inst.datum_key()) {
            inst.instance_id = old.instance_id.clone();
        }
        list.insert(inst.datum_key(), inst);
        let value = RaftValue::Instances(list.into_values().collect());
        reply(
            self.persistent_put(&persistent_key(&ns, &grouped), value)
                .await,
        )
    }

    /// `DELETE /instance` with `ephemeral=false`: publish the shorter list.
    pub(crate) async fn deregister_persistent(self: &Arc<Self>, p: InstanceParams) -> Response {
        let (ns, grouped) = (p.namespace_id.clone(), p.service_name.clone());
        let lock = self.service_lock(&ns, &grouped);
        let _serialized = lock.lock().await;
        if !self
            .state
            .lock()
            .unwrap()
            .services
            .contains_key(&(ns.clone(), grouped.clone()))
        {
            return Response::ok();
        }
        if let Err(e) = self.persistent_read().await {
            return e.response();
        }
        let inst = self.instance_from(&p);
        let mut list = self.persistent_list(&ns, &grouped);
        list.remove(&inst.datum_key());
        let value = RaftValue::Instances(list.into_values().collect());
        reply(
            self.persistent_put(&persistent_key(&ns, &grouped), value)
                .await,
        )
    }
}
