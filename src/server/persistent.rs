//! Persistent instances (`ephemeral=false`): registered and deregistered through legacy Raft
//! (spec §1 "Service creation", §8 updateIpAddresses, §9 signalPublish).

use super::Server;
use crate::model::keys::{meta_key, persistent_key};
use crate::model::Instance;
use crate::server::raft_reply;
use crate::wire::{InstanceParams, RaftValue, Response};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Server {
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

    /// `POST /instance` with `ephemeral=false`: a new service's meta goes through Raft first,
    /// then the instance list; either publish failing answers 500 (the local write may stay).
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
            let meta = RaftValue::ServiceMeta {
                protect_threshold: 0.0,
                metadata: BTreeMap::new(),
            };
            if let Err(e) = self.raft_publish(&meta_key(&ns, &grouped), meta).await {
                return Response::error(500, e);
            }
        }
        let mut inst = self.instance_from(&p);
        let mut list = self.persistent_list(&ns, &grouped);
        if let Some(old) = list.get(&inst.datum_key()) {
            inst.instance_id = old.instance_id.clone();
        }
        list.insert(inst.datum_key(), inst);
        let value = RaftValue::Instances(list.into_values().collect());
        raft_reply(
            self.raft_publish(&persistent_key(&ns, &grouped), value)
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
        let inst = self.instance_from(&p);
        let mut list = self.persistent_list(&ns, &grouped);
        list.remove(&inst.datum_key());
        let value = RaftValue::Instances(list.into_values().collect());
        raft_reply(
            self.raft_publish(&persistent_key(&ns, &grouped), value)
                .await,
        )
    }
}
