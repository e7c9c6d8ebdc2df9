//! One Nacos naming server node: wires its components and routes requests to them.

pub mod consistency;
pub mod distro;
pub mod empty_service_clean;
pub mod health;
pub mod jraft_server;
pub mod member;
pub mod naming;
pub mod persistent;
pub mod persistent_processor;
pub mod probe;
pub mod push;
pub mod raft;
pub mod server_status;
pub mod service;
pub mod status;
pub mod version_judge;

use crate::io::net::BoxFuture;
use crate::io::{Handler, NodeCtx};
use crate::model::{ListView, Millis, Service};
use crate::wire::{Api, Datagram, Request, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use naming::NamingState;

/// A Raft write's outcome as the HTTP reply: `ok`, or 500 with the reason (§9: a failed or
/// timed-out publish is an exception for the caller).
pub(crate) fn raft_reply(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => Response::ok(),
        Err(e) => Response::error(500, e),
    }
}

/// A running server process. Dropped (with all its tasks) when the node crashes.
pub struct Server {
    pub ctx: NodeCtx,
    /// The Nacos version this server runs (jraft spec §J13.1); it reports it to its peers.
    pub version: String,
    /// The JRaft node of a server ≥ 1.4.0 (jraft spec §J4.1); none below.
    pub(crate) jraft: Mutex<Option<jraft_server::JraftNode>>,
    /// ClusterVersionJudgement's decision (jraft spec §J1).
    pub(crate) judgement: Mutex<version_judge::Judgement>,
    /// ServerStatusManager's status (jraft spec §J9).
    pub(crate) status: Mutex<crate::trace::ServerState>,
    pub(crate) state: Mutex<NamingState>,
    pub(crate) push: push::PushService,
    pub(crate) mapper: distro::DistroMapper,
    pub(crate) members: Mutex<member::Members>,
    pub(crate) distro: Mutex<distro::sync::DistroState>,
    pub(crate) raft: Mutex<raft::RaftState>,
    /// RaftCore's global lock: publishes and deletes are serialized (§9).
    pub(crate) raft_lock: tokio::sync::Mutex<()>,
    /// TCP probe counters of persistent instances: (service, ip:port) → (ok count, fail count).
    pub(crate) probes: Mutex<std::collections::BTreeMap<(String, String), (u64, u64)>>,
    /// EmptyServiceAutoClean's finalizeCount per owned service (naming spec §6).
    pub(crate) empty_counts: Mutex<std::collections::BTreeMap<(String, String), u64>>,
    /// `synchronized (service)` around a persistent update and its Raft publish (§8 step 1).
    pub(crate) service_locks:
        Mutex<std::collections::BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Server {
    /// Boots the server with the member list of its cluster.conf (it adds its own address when
    /// the list lacks it, spec §4 step 1), standalone (`-m standalone`: it owns everything and
    /// leads legacy Raft from boot) or in cluster mode, where a list holding only itself never
    /// elects a Raft leader (spec §9 "Single-member cluster versus standalone"). It starts
    /// serving requests and the background tasks of its components; `version` is its Nacos
    /// version (the 1.4 switch to JRaft, §9).
    pub fn start(
        ctx: NodeCtx,
        members: Vec<SocketAddr>,
        standalone: bool,
        version: String,
    ) -> Arc<Server> {
        let table = member::Members::new(ctx.addr, &members);
        let raft = raft::RaftState {
            local: ctx.addr,
            peers: members
                .iter()
                .map(|m| (*m, crate::model::raft::Peer::new(*m)))
                .collect(),
            leader: None,
            leader_due: 0,
            heartbeat_due: 0,
            datums: Default::default(),
            standalone,
            stopped: false,
            io_threads: (0..ctx.cfg.server_cores.max(1))
                .map(|_| Default::default())
                .collect(),
            fetches: 0,
        };
        let mapper = distro::DistroMapper::new(ctx.addr, members.clone());
        let server = Arc::new(Server {
            version,
            jraft: Mutex::new(None),
            judgement: Mutex::default(),
            status: Mutex::new(crate::trace::ServerState::Starting),
            state: Mutex::new(NamingState::default()),
            push: push::PushService::default(),
            mapper,
            members: Mutex::new(table),
            distro: Mutex::default(),
            raft: Mutex::new(raft),
            raft_lock: tokio::sync::Mutex::new(()),
            probes: Mutex::default(),
            empty_counts: Mutex::default(),
            service_locks: Mutex::default(),
            ctx,
        });
        let ev = crate::trace::Ev::ServerStarted {
            addr: server.ctx.addr,
        };
        crate::trace::emit(&*server.ctx.name, ev);
        server.ctx.net.serve(server.clone());
        server.start_status_updater();
        push::PushService::start_zombie_sweep(server.clone());
        server.start_raft();
        if crate::model::version::supports_jraft(Some(&server.version)) {
            // JRaft's group is the member list, this server included (§4 step 1).
            let mut group = members.clone();
            if !group.contains(&server.ctx.addr) {
                group.push(server.ctx.addr);
            }
            server.start_jraft(&group);
        }
        server.start_version_judgement();
        server.start_empty_service_clean();
        if !server.members.lock().unwrap().others().is_empty() {
            server.start_member_reports();
            server.start_distro_engine();
            server.start_distro_verify();
            server.start_distro_load();
            server.start_service_reporter();
        }
        server
    }

    /// A server-to-server call with the internal HTTP timeouts (§3: 5 s connect, 10 s read).
    pub(crate) async fn peer_call(
        &self,
        target: SocketAddr,
        api: Api,
    ) -> Result<Response, crate::io::NetError> {
        let c = &self.ctx.cfg;
        self.ctx
            .net
            .call(
                target,
                Request::server(api),
                c.server_connect_timeout,
                c.server_read_timeout,
            )
            .await
    }

    /// A server-to-server call whose result nobody waits for (Nacos's async HTTP posts).
    pub(crate) fn peer_send(self: &Arc<Self>, target: SocketAddr, api: Api) {
        let s = self.clone();
        tokio::spawn(async move {
            let _ = s.peer_call(target, api).await;
        });
    }

    pub fn now(&self) -> Millis {
        self.ctx.clock.now_ms()
    }

    pub fn name(&self) -> &str {
        &self.ctx.name
    }

    /// A single-server cluster runs standalone (naming spec §9, jraft spec §J1.2).
    pub(crate) fn standalone(&self) -> bool {
        self.raft.lock().unwrap().standalone
    }

    /// The `/instance/list` view of a service as a client would get it (for checks and reports),
    /// without registering a push client. `clusters` empty = all (§11).
    pub fn view(&self, namespace: &str, grouped: &str, clusters: &[String]) -> ListView {
        let st = self.state.lock().unwrap();
        let svc = st
            .services
            .get(&(namespace.to_string(), grouped.to_string()));
        let cache = self.ctx.cfg.default_cache_millis.as_millis() as u64;
        crate::model::view::list_view(svc, grouped, clusters, false, cache, self.now())
            // A disabled service answers 500: it shows no hosts.
            .unwrap_or_else(|_| {
                crate::model::view::list_view(None, grouped, &[], false, cache, self.now())
                    .expect("unknown service view")
            })
    }

    /// Every service this server knows, for the final views of the outcome.
    pub fn services(&self) -> BTreeMap<(String, String), Service> {
        self.state.lock().unwrap().services.clone()
    }

    /// Answers one request. A forward and the rare handlers that run a Raft round or a checksum
    /// exchange are boxed: this future is allocated once per request, and their state would make
    /// it larger than the allocator's fast path serves (about 2 KB instead of under 1 KB).
    async fn dispatch(self: Arc<Self>, from: SocketAddr, req: Request) -> Response {
        // TrafficReviseFilter runs first (order 1, jraft spec §J9.6).
        if let Some(refused) = self.traffic_revise(&req) {
            return refused;
        }
        // §J2.3: after the switch every RaftController handler throws, answered 500.
        if req.api.is_legacy_raft() && self.raft.lock().unwrap().stopped {
            return Response::error(500, raft::store::STOPPED);
        }
        if let Some(forward) = self.distro_filter(&req) {
            return forward.await;
        }
        let note = req.note;
        match req.api {
            Api::RegisterInstance(p) | Api::UpdateInstance(p) if !p.ephemeral => {
                Box::pin(self.register_persistent(p)).await
            }
            Api::DeregisterInstance(p) if !p.ephemeral => {
                Box::pin(self.deregister_persistent(p)).await
            }
            Api::RegisterInstance(p)
                if self.jraft_active() && !self.has_service(&p.namespace_id, &p.service_name) =>
            {
                Box::pin(self.register_new_service(p, req.ua, note)).await
            }
            Api::RegisterInstance(p) => self.register_instance(p, req.ua, note),
            Api::DeregisterInstance(p) => self.deregister_instance(p, note),
            Api::UpdateInstance(p) => self.update_instance(p, req.ua),
            Api::Beat(b) => self.client_beat(b),
            Api::ListInstances(l) => self.list_instances(from, l, req.ua),
            Api::GetInstance {
                namespace_id,
                service_name,
                ip,
                port,
                cluster_name,
            } => self.get_instance(&namespace_id, &service_name, &ip, port, &cluster_name),
            Api::ListServices {
                namespace_id,
                group_name,
                page_no,
                page_size,
            } => self.list_services(&namespace_id, &group_name, page_no, page_size),
            Api::CreateService {
                namespace_id,
                service_name,
                protect_threshold,
            } => {
                Box::pin(self.create_service(&namespace_id, &service_name, protect_threshold)).await
            }
            Api::UpdateService {
                namespace_id,
                service_name,
                protect_threshold,
            } => {
                Box::pin(self.update_service(&namespace_id, &service_name, protect_threshold)).await
            }
            Api::DeleteService {
                namespace_id,
                service_name,
            } => Box::pin(self.delete_service(&namespace_id, &service_name)).await,
            Api::ClusterReport { version } => self.on_member_report(from, version),
            Api::JraftRpc { from, msg } => Box::pin(self.on_jraft_rpc(from, msg)).await,
            Api::JraftWrite { op } => Box::pin(self.on_jraft_write(op)).await,
            Api::JraftGetLeader => self.on_jraft_get_leader(),
            Api::DistroDatum(data) => self.on_distro_datum(data),
            Api::DistroChecksum { source, checksums } => {
                Box::pin(self.on_distro_checksum(source, checksums)).await
            }
            Api::DistroGetDatum { keys } => self.on_distro_get(Some(keys)),
            Api::DistroGetAll => self.on_distro_get(None),
            Api::ServiceStatus { source, checksums } => {
                Box::pin(self.on_service_status(source, checksums)).await
            }
            Api::RaftVote(peer) => self.on_raft_vote(peer),
            Api::RaftBeat { peer, datums } => self.on_raft_beat(peer, datums),
            Api::RaftGetDatums { keys } => self.on_raft_get(keys),
            Api::RaftGetPeer => self.on_raft_peer(),
            Api::RaftPublish { key, value } => {
                Box::pin(self.clone().on_raft_publish(key, value)).await
            }
            Api::RaftCommit { datum, source } => self.on_raft_commit(datum, source),
            Api::RaftDelete { key } => Box::pin(self.clone().on_raft_delete(key)).await,
            Api::RaftDeleteCommit { key, source } => self.on_raft_delete_commit(key, source),
            Api::InstanceStatuses {
                namespace_id,
                service_name,
            } => self.instance_statuses(&namespace_id, &service_name),
        }
    }
}

impl Handler for Server {
    fn handle(self: Arc<Self>, from: SocketAddr, req: Request) -> BoxFuture<Response> {
        Box::pin(self.dispatch(from, req))
    }

    fn datagram(self: Arc<Self>, from: SocketAddr, d: Datagram) {
        if let Datagram::PushAck { last_ref_time } = d {
            self.push.on_ack(&self, from, last_ref_time);
        }
    }
}
