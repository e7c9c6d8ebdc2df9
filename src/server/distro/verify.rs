//! Distro checksum verification and the startup snapshot load (spec §6).

use crate::model::keys;
use crate::server::Server;
use crate::trace::{Done, Ev, OrDash, VerifyAbort, Via};
use crate::wire::{Api, Body, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What `onReceiveChecksums` decides (§6 steps 2–4), as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyPlan {
    /// Step 2: a key the receiver owns was in the map: the whole run is dropped.
    pub aborted: bool,
    pub to_update: Vec<String>,
    pub to_remove: Vec<String>,
}

/// spec §6 onReceiveChecksums steps 2–4. `local_keys` = the receiver's DataStore keys,
/// `local_sum(key)` = its checksum of a local key (computed only for the keys the sender sent),
/// `owns(key)` = the receiver owns the key's service, `maps_to_source(key)` = `mapSrv` of the
/// key's service is the sender.
pub fn plan_verify(
    remote: &BTreeMap<String, String>,
    local_keys: &[String],
    local_sum: impl Fn(&str) -> Option<String>,
    owns: impl Fn(&str) -> bool,
    maps_to_source: impl Fn(&str) -> bool,
) -> VerifyPlan {
    if remote.keys().any(|k| owns(k)) {
        return VerifyPlan {
            aborted: true,
            ..Default::default()
        };
    }
    let to_update = remote
        .iter()
        .filter(|(k, sum)| local_sum(k).as_ref() != Some(*sum))
        .map(|(k, _)| k.clone())
        .collect();
    let to_remove = local_keys
        .iter()
        .filter(|k| maps_to_source(k) && !remote.contains_key(*k))
        .cloned()
        .collect();
    VerifyPlan {
        aborted: false,
        to_update,
        to_remove,
    }
}

fn service_name(key: &str) -> String {
    keys::service_of_key(key)
        .map(|(_, g)| g)
        .unwrap_or_default()
}

impl Server {
    /// Checksums of the ephemeral keys whose service this node owns.
    fn owned_checksums(&self) -> BTreeMap<String, String> {
        let mut st = self.state.lock().unwrap();
        let owned: Vec<String> = st
            .datums
            .keys()
            .filter(|k| keys::is_ephemeral_key(k) && self.mapper.responsible(&service_name(k)))
            .cloned()
            .collect();
        owned
            .into_iter()
            .filter_map(|k| st.key_checksum(&k).map(|s| (k, s)))
            .collect()
    }

    /// The verify task: first after 5 s, then every 5 s; nothing is sent when nothing is owned.
    pub(crate) fn start_distro_verify(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            loop {
                server.ctx.net.sleep(cfg.distro_verify_period).await;
                let sums = server.owned_checksums();
                if sums.is_empty() {
                    continue;
                }
                let targets = server.members.lock().unwrap().others();
                for t in targets {
                    // Async, result ignored.
                    server.peer_send(
                        t,
                        Api::DistroChecksum {
                            source: server.ctx.addr,
                            checksums: sums.clone(),
                        },
                    );
                }
            }
        });
    }

    /// `PUT /distro/checksum` received: `onReceiveChecksums` (§6).
    pub(crate) async fn on_distro_checksum(
        self: Arc<Self>,
        source: SocketAddr,
        remote: BTreeMap<String, String>,
    ) -> Response {
        // Step 1: a run for this source already in progress → drop this one.
        if !self.distro.lock().unwrap().verifying.insert(source) {
            return Response::ok();
        }
        let plan = {
            let mut st = self.state.lock().unwrap();
            let local_keys: Vec<String> = st
                .datums
                .keys()
                .filter(|k| keys::is_ephemeral_key(k))
                .cloned()
                .collect();
            let local_sums: BTreeMap<String, String> = remote
                .keys()
                .filter_map(|k| st.key_checksum(k).map(|s| (k.clone(), s)))
                .collect();
            plan_verify(
                &remote,
                &local_keys,
                |k| local_sums.get(k).cloned(),
                |k| self.mapper.responsible(&service_name(k)),
                |k| self.mapper.map_srv(&service_name(k)) == source,
            )
        };
        if plan.aborted {
            let ev = Ev::DistroVerify {
                source,
                updated: None,
                removed: None,
                result: Some(VerifyAbort::OwnedKey),
            };
            crate::trace::emit(self.name(), ev);
        } else {
            // Step 5: removed from the DataStore only; the instances stay in memory (1.4.1).
            if !plan.to_remove.is_empty() {
                let mut st = self.state.lock().unwrap();
                for k in &plan.to_remove {
                    st.datums.remove(k);
                }
            }
            let mut updated = 0;
            if !plan.to_update.is_empty() {
                let api = Api::DistroGetDatum {
                    keys: plan.to_update.clone(),
                };
                // Inside this handler, with no timeout (`httpGetLarge`, spec §3, §6 step 6
                // corrected): while it waits, the guard drops every later round from `source`.
                let req = crate::wire::Request::server(api);
                let fetched = self
                    .ctx
                    .net
                    .call_with(source, req, crate::io::Timeouts::none())
                    .await;
                if let Ok(Response {
                    body: Body::Datums(data),
                    ..
                }) = fetched
                {
                    updated = data.len();
                    for (k, v) in data {
                        self.apply_remote(&k, v, Via::Verify);
                    }
                }
            }
            if updated > 0 || !plan.to_remove.is_empty() {
                let ev = Ev::DistroVerify {
                    source,
                    updated: Some(updated),
                    removed: Some(plan.to_remove.len()),
                    result: None,
                };
                crate::trace::emit(self.name(), ev);
            }
        }
        self.distro.lock().unwrap().verifying.remove(&source);
        Response::ok()
    }

    /// `GET /distro/datum` and `GET /distro/datums`.
    pub(crate) fn on_distro_get(&self, keys: Option<Vec<String>>) -> Response {
        let keys = keys.unwrap_or_else(|| {
            self.state
                .lock()
                .unwrap()
                .datums
                .keys()
                .filter(|k| keys::is_ephemeral_key(k))
                .cloned()
                .collect()
        });
        Response::with(Body::Datums(self.datums_of(&keys)))
    }

    /// Startup load (§6): fetch a full snapshot from the first member that answers; retry every
    /// 30 s without limit. The node serves requests meanwhile.
    pub(crate) fn start_distro_load(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            loop {
                let others = server.members.lock().unwrap().others();
                if others.is_empty() {
                    return; // standalone: nothing to load
                }
                for m in others {
                    let api = Api::DistroGetAll;
                    if let Ok(Response {
                        status: 200,
                        body: Body::Datums(data),
                    }) = server.peer_call(m, api).await
                    {
                        let ev = Ev::DistroLoad {
                            source: OrDash(Some(m)),
                            keys: data.len(),
                            result: None,
                        };
                        crate::trace::emit(server.name(), ev);
                        for (k, v) in data {
                            server.apply_remote(&k, v, Via::Load);
                        }
                        return;
                    }
                }
                let ev = Ev::DistroLoad {
                    source: OrDash(None),
                    keys: 0,
                    result: Some(Done::Failed("no member answered".into())),
                };
                crate::trace::emit(server.name(), ev);
                server.ctx.net.sleep(cfg.distro_load_retry).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn any_owned_key_aborts_the_whole_run() {
        let p = plan_verify(
            &m(&[("a", "1"), ("b", "2")]),
            &[],
            |_| None,
            |k| k == "b",
            |_| false,
        );
        assert!(p.aborted);
        assert!(p.to_update.is_empty() && p.to_remove.is_empty());
    }

    #[test]
    fn update_missing_or_different_and_remove_what_the_source_owns_but_no_longer_lists() {
        let remote = m(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let local = m(&[("a", "1"), ("b", "X"), ("d", "4"), ("e", "5")]);
        // d maps to the source and is absent from its map → removed; e maps elsewhere → kept.
        let keys: Vec<String> = local.keys().cloned().collect();
        let p = plan_verify(
            &remote,
            &keys,
            |k| local.get(k).cloned(),
            |_| false,
            |k| k == "d",
        );
        assert!(!p.aborted);
        assert_eq!(p.to_update, vec!["b", "c"]);
        assert_eq!(p.to_remove, vec!["d"]);
    }
}
