//! The service endpoints of §12 (`POST/PUT/DELETE /service`): every one is a write of the
//! service-meta key through the active persistence protocol, without a read first, so under
//! JRaft a node whose route table names a non-leader answers `ok` for nothing (jraft spec
//! §J6.6).

use super::Server;
use crate::model::keys::meta_key;
use crate::server::consistency::reply;
use crate::wire::{RaftValue, Response};
use std::sync::Arc;

impl Server {
    fn meta_value(&self, ns: &str, grouped: &str) -> Option<RaftValue> {
        let st = self.state.lock().unwrap();
        let svc = st.services.get(&(ns.to_string(), grouped.to_string()))?;
        Some(RaftValue::ServiceMeta {
            protect_threshold: svc.protect_threshold,
            metadata: svc.metadata.clone(),
        })
    }

    /// `POST /service`: 400 if the service exists; otherwise its meta is published.
    pub(crate) async fn create_service(
        self: &Arc<Self>,
        ns: &str,
        grouped: &str,
        threshold: f32,
    ) -> Response {
        if self.meta_value(ns, grouped).is_some() {
            return Response::error(
                400,
                format!("specified service already exists, serviceName : {grouped}"),
            );
        }
        let meta = RaftValue::ServiceMeta {
            protect_threshold: threshold,
            metadata: Default::default(),
        };
        reply(self.persistent_put(&meta_key(ns, grouped), meta).await)
    }

    /// `PUT /service`: the local object changes first, so it stays changed here if Raft fails.
    pub(crate) async fn update_service(
        self: &Arc<Self>,
        ns: &str,
        grouped: &str,
        threshold: f32,
    ) -> Response {
        {
            let mut st = self.state.lock().unwrap();
            let Some(svc) = st.services.get_mut(&(ns.to_string(), grouped.to_string())) else {
                return Response::error(400, format!("service {grouped} not found"));
            };
            svc.protect_threshold = threshold;
            st.instances_changed(ns, grouped);
        }
        let meta = self.meta_value(ns, grouped).expect("just updated");
        reply(self.persistent_put(&meta_key(ns, grouped), meta).await)
    }

    /// `DELETE /service`: 400 if unknown (§15 DomainsManagerTest); otherwise a Raft delete of its
    /// meta, which destroys the service on every server that applies it. Instances are not
    /// checked.
    pub(crate) async fn delete_service(self: &Arc<Self>, ns: &str, grouped: &str) -> Response {
        if self.meta_value(ns, grouped).is_none() {
            return Response::error(
                400,
                format!("specified service not exist, serviceName : {grouped}"),
            );
        }
        reply(self.persistent_remove(&meta_key(ns, grouped)).await)
    }
}
