//! The simulated world: one madsim node per server and client, the step runner, and the
//! observers that sample views for the checks.

use crate::check::{Sample, Samples};
use crate::client::{NamingClient, Registration};
use crate::config::Config;
use crate::io::{Clock, Disk, Net, NetEnv, NodeCtx};
use crate::model::keys;
use crate::scenario::{Action, ClientOp, Expect, Scenario, ServiceRef, ViewTarget, When};
use crate::server::Server;
use crate::trace::{emit, CallResult, Ev};
use madsim::runtime::Handle;
use madsim::task::NodeId;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SERVER_PORT: u16 = 8848;
pub const CLIENT_PORT: u16 = 54951;
/// Window expectations are sampled at this period.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// The running process of a node, if it is up (cleared on crash, set again on boot).
pub struct Slot<T>(Arc<Mutex<Option<Arc<T>>>>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Arc::new(Mutex::new(None)))
    }
}

impl<T> Slot<T> {
    pub fn get(&self) -> Option<Arc<T>> {
        self.0.lock().unwrap().clone()
    }
    fn set(&self, v: Arc<T>) {
        *self.0.lock().unwrap() = Some(v);
    }
}

#[derive(Clone)]
pub enum Proc {
    Server(Slot<Server>),
    Client(Slot<NamingClient>),
}

impl Proc {
    fn is_set(&self) -> bool {
        match self {
            Proc::Server(s) => s.get().is_some(),
            Proc::Client(s) => s.get().is_some(),
        }
    }

    pub(crate) fn clear(&self) {
        match self {
            Proc::Server(s) => *s.0.lock().unwrap() = None,
            Proc::Client(s) => *s.0.lock().unwrap() = None,
        }
    }
}

pub struct NodeInfo {
    pub name: String,
    pub addr: SocketAddr,
    pub id: NodeId,
    pub up: bool,
    pub paused: bool,
    pub slot: Proc,
    pub clock: Clock,
}

pub struct World {
    pub handle: Handle,
    pub env: Arc<NetEnv>,
    pub nodes: Vec<NodeInfo>,
    by_name: BTreeMap<String, usize>,
    /// Directed links currently cut, by node index.
    pub cuts: BTreeSet<(usize, usize)>,
    /// When the last fault step ran (convergence is judged a quiet period after it).
    pub last_fault: Option<Duration>,
    /// The per-message latency range in force (fault `latency`).
    pub latency: std::ops::Range<Duration>,
}

fn server_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8))
}

fn client_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 1) as u8))
}

impl World {
    /// Builds every node of the scenario and boots it.
    pub fn build(sc: &Scenario) -> World {
        let handle = Handle::current();
        let env = Arc::new(NetEnv::default());
        let cfg = Arc::new(sc.config.clone());
        let members: Vec<SocketAddr> = (0..sc.servers.len())
            .map(|i| SocketAddr::new(server_ip(i), SERVER_PORT))
            .collect();
        let mut nodes = vec![];
        for (i, name) in sc.servers.iter().enumerate() {
            let addr = members[i];
            let slot = Slot::<Server>::default();
            let (clock, disk) = (Clock::default(), Disk::default());
            let boot = boot_ctx(name, addr, env.clone(), clock.clone(), disk, cfg.clone());
            let (members, s) = (members.clone(), slot.clone());
            let id = handle
                .create_node()
                .name(name)
                .ip(addr.ip())
                .init(move || {
                    let (boot, members, s) = (boot.clone(), members.clone(), s.clone());
                    async move {
                        let ctx = boot.ctx().await;
                        s.set(Server::start(ctx, members));
                        // A madsim node whose init future returns has exited: keep it running.
                        std::future::pending::<()>().await
                    }
                })
                .build()
                .id();
            nodes.push(NodeInfo {
                name: name.clone(),
                addr,
                id,
                up: true,
                paused: false,
                slot: Proc::Server(slot),
                clock,
            });
        }
        for (i, c) in sc.clients.iter().enumerate() {
            let addr = SocketAddr::new(client_ip(i), CLIENT_PORT);
            let servers: Vec<SocketAddr> = c
                .servers
                .iter()
                .map(|s| members[sc.servers.iter().position(|x| x == s).expect("validated")])
                .collect();
            let slot = Slot::<NamingClient>::default();
            let (clock, disk) = (Clock::default(), Disk::default());
            let boot = boot_ctx(&c.name, addr, env.clone(), clock.clone(), disk, cfg.clone());
            let s = slot.clone();
            let id = handle
                .create_node()
                .name(&c.name)
                .ip(addr.ip())
                .init(move || {
                    let (boot, servers, s) = (boot.clone(), servers.clone(), s.clone());
                    async move {
                        let ctx = boot.ctx().await;
                        s.set(NamingClient::start(ctx, servers));
                        std::future::pending::<()>().await
                    }
                })
                .build()
                .id();
            nodes.push(NodeInfo {
                name: c.name.clone(),
                addr,
                id,
                up: true,
                paused: false,
                slot: Proc::Client(slot),
                clock,
            });
        }
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        World {
            handle,
            env,
            nodes,
            by_name,
            cuts: BTreeSet::new(),
            last_fault: None,
            latency: super::faults::DEFAULT_LATENCY,
        }
    }

    pub fn idx(&self, name: &str) -> usize {
        self.by_name[name]
    }

    pub fn server(&self, name: &str) -> Option<Arc<Server>> {
        match &self.nodes[self.idx(name)].slot {
            Proc::Server(s) => s.get(),
            Proc::Client(_) => None,
        }
    }

    pub fn client(&self, name: &str) -> Option<Arc<NamingClient>> {
        match &self.nodes[self.idx(name)].slot {
            Proc::Client(s) => s.get(),
            Proc::Server(_) => None,
        }
    }

    /// Starts one client action on the client's own node; it runs concurrently with the timeline.
    pub fn start_client_op(&self, name: &str, op: &ClientOp) {
        let info = &self.nodes[self.idx(name)];
        let node = self.handle.get_node(info.id).expect("node exists");
        let Some(client) = self.client(name) else {
            let ev = Ev::ClientCall {
                op: op_name(op),
                service: None,
                result: CallResult::Skipped,
            };
            emit(name, ev);
            return;
        };
        let (op, name) = (op.clone(), name.to_string());
        node.spawn(async move {
            let result = run_op(&client, &op).await;
            let ev = Ev::ClientCall {
                op: op_name(&op),
                service: Some(op_service(&op)),
                result,
            };
            emit(&name, ev);
        });
    }
}

/// What a node needs to boot (again): its context minus the endpoint, which each boot binds.
#[derive(Clone)]
struct Boot {
    name: Arc<str>,
    addr: SocketAddr,
    env: Arc<NetEnv>,
    clock: Clock,
    disk: Disk,
    cfg: Arc<Config>,
}

impl Boot {
    async fn ctx(&self) -> NodeCtx {
        let net = Net::bind(self.addr, self.env.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: cannot bind {}: {e}", self.name, self.addr));
        NodeCtx {
            name: self.name.clone(),
            addr: self.addr,
            net,
            clock: self.clock.clone(),
            disk: self.disk.clone(),
            cfg: self.cfg.clone(),
        }
    }
}

fn boot_ctx(
    name: &str,
    addr: SocketAddr,
    env: Arc<NetEnv>,
    clock: Clock,
    disk: Disk,
    cfg: Arc<Config>,
) -> Boot {
    Boot {
        name: name.into(),
        addr,
        env,
        clock,
        disk,
        cfg,
    }
}

pub fn grouped(r: &ServiceRef) -> String {
    keys::grouped_name(&r.group, &r.service)
}

fn op_name(op: &ClientOp) -> &'static str {
    match op {
        ClientOp::Register(_) => "register",
        ClientOp::Deregister(_) => "deregister",
        ClientOp::Subscribe(_) => "subscribe",
        ClientOp::Unsubscribe(_) => "unsubscribe",
        ClientOp::GetAllInstances(_) => "get_all_instances",
        ClientOp::SelectInstances(..) => "select_instances",
        ClientOp::SelectOneHealthy(_) => "select_one_healthy",
        ClientOp::CreateService(..) => "create_service",
        ClientOp::UpdateService(..) => "update_service",
        ClientOp::DeleteService(_) => "delete_service",
    }
}

fn op_service(op: &ClientOp) -> String {
    match op {
        ClientOp::Register(i) | ClientOp::Deregister(i) => keys::grouped_name(&i.group, &i.service),
        ClientOp::Subscribe(r)
        | ClientOp::Unsubscribe(r)
        | ClientOp::GetAllInstances(r)
        | ClientOp::SelectInstances(r, _)
        | ClientOp::SelectOneHealthy(r)
        | ClientOp::CreateService(r, _)
        | ClientOp::UpdateService(r, _)
        | ClientOp::DeleteService(r) => grouped(r),
    }
}

fn list(hosts: &[crate::model::HostView]) -> CallResult {
    CallResult::Hosts(crate::model::HostView::list(hosts))
}

fn error(e: crate::client::NacosError) -> CallResult {
    CallResult::Error {
        code: e.code,
        msg: e.msg,
    }
}

async fn run_op(client: &Arc<NamingClient>, op: &ClientOp) -> CallResult {
    let reg = |i: &crate::scenario::InstanceSpec| Registration {
        service: i.service.clone(),
        group: i.group.clone(),
        ip: i.ip.clone(),
        port: i.port,
        cluster: i.cluster.clone(),
        weight: i.weight,
        enabled: i.enabled,
        ephemeral: i.ephemeral,
        metadata: i.metadata.clone(),
    };
    let done = |r: Result<(), crate::client::NacosError>| match r {
        Ok(()) => CallResult::Ok,
        Err(e) => error(e),
    };
    match op {
        ClientOp::Register(i) => done(client.register_instance(&reg(i)).await),
        ClientOp::Deregister(i) => done(client.deregister_instance(&reg(i)).await),
        ClientOp::Subscribe(r) => list(&client.subscribe(&grouped(r), &r.clusters.join(",")).await),
        ClientOp::Unsubscribe(r) => {
            client.unsubscribe(&grouped(r), &r.clusters.join(","));
            CallResult::Ok
        }
        ClientOp::GetAllInstances(r) => list(
            &client
                .get_all_instances(&grouped(r), &r.clusters.join(","))
                .await,
        ),
        ClientOp::SelectInstances(r, healthy) => list(
            &client
                .select_instances(&grouped(r), &r.clusters.join(","), *healthy)
                .await,
        ),
        ClientOp::SelectOneHealthy(r) => match client
            .select_one_healthy(&grouped(r), &r.clusters.join(","))
            .await
        {
            Ok(h) => CallResult::Instance(h.ip_port()),
            Err(e) => error(e),
        },
        ClientOp::CreateService(r, t) => done(client.create_service(&grouped(r), *t).await),
        ClientOp::UpdateService(r, t) => done(client.update_service(&grouped(r), *t).await),
        ClientOp::DeleteService(r) => done(client.delete_service(&grouped(r)).await),
    }
}

impl World {
    /// Every up server's registry as `ip:port(healthy|unhealthy)` per service.
    pub fn registries(&self) -> crate::check::convergence::Registries {
        let mut out = crate::check::convergence::Registries::new();
        for n in &self.nodes {
            if let (Proc::Server(s), true) = (&n.slot, n.up) {
                let Some(server) = s.get() else { continue };
                let m = server
                    .services()
                    .into_iter()
                    .map(|((_, g), svc)| {
                        let hosts = svc
                            .all_instances()
                            .iter()
                            .map(|i| {
                                format!(
                                    "{}({})",
                                    i.ip_port(),
                                    if i.healthy { "healthy" } else { "unhealthy" }
                                )
                            })
                            .collect();
                        (g, hosts)
                    })
                    .collect();
                out.insert(n.name.clone(), m);
            }
        }
        out
    }

    /// No cut, pause or datagram loss is in force.
    pub fn network_whole(&self) -> bool {
        self.cuts.is_empty()
            && !self.nodes.iter().any(|n| n.paused)
            && self.env.state().datagram_loss == 0.0
    }
}

/// One observation of a view: `None` when the node is down.
pub fn observe(world: &World, target: &ViewTarget, svc: &ServiceRef) -> Option<Sample> {
    let g = grouped(svc);
    let clusters = svc.clusters.join(",");
    let hosts = match target {
        ViewTarget::Client(c) => world
            .client(c)?
            .cached(&g, &clusters)
            .map(|i| i.hosts)
            .unwrap_or_default(),
        ViewTarget::Server(s) => {
            let server = world.server(s)?;
            server
                .view(keys::DEFAULT_NAMESPACE, &g, &svc.clusters)
                .hosts
        }
    };
    Some(Sample::of(&hosts))
}

/// Plays the scenario's timeline and samples the view expectations; returns the samples.
pub async fn play(sc: &Scenario) -> (Arc<Mutex<World>>, Samples) {
    let start = tokio::time::Instant::now();
    let world = World::build(sc);
    // Every process binds its endpoint while booting (≥ 1 ms of virtual time); steps due before
    // that run as soon as all nodes are up.
    while world.nodes.iter().any(|n| !n.slot.is_set()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let world = Arc::new(Mutex::new(world));
    let samples = Samples::default();
    // One sampler for every view expectation, waking every 100 ms of the whole run whatever the
    // expectations are: adding or removing a check must not change the interleaving of the
    // system under test (madsim picks among ready tasks with the seeded RNG).
    let sampler = {
        let (world, samples) = (world.clone(), samples.clone());
        let views: Vec<(usize, ViewTarget, ServiceRef, Duration, Duration)> = sc
            .expects
            .iter()
            .enumerate()
            .filter_map(|(k, e)| match e {
                Expect::View {
                    target,
                    service,
                    when,
                    ..
                } => {
                    let (from, to) = match *when {
                        // `at` uses the first sample at or after it.
                        When::At(t) => (t, t),
                        When::Within(a, b) | When::Always(a, b) => (a, b),
                    };
                    Some((k, target.clone(), service.clone(), from, to))
                }
                _ => None,
            })
            .collect();
        let end = sc.duration;
        tokio::spawn(async move {
            let mut t = Duration::ZERO;
            while t <= end {
                tokio::time::sleep_until(start + t).await;
                let w = world.lock().unwrap();
                for (k, target, service, from, to) in &views {
                    let due = if from == to {
                        t >= *from && samples.is_empty(*k)
                    } else {
                        t >= *from && t <= *to
                    };
                    if due {
                        samples.push(*k, t, observe(&w, target, service));
                    }
                }
                t += SAMPLE_EVERY;
            }
        })
    };
    for step in &sc.steps {
        tokio::time::sleep_until(start + step.at).await;
        let mut w = world.lock().unwrap();
        match &step.action {
            Action::Client { client, op } => w.start_client_op(client, op),
            Action::Fault(f) => {
                w.apply_fault(f);
                w.last_fault = Some(step.at);
            }
        }
    }
    tokio::time::sleep_until(start + sc.duration).await;
    // A sample due at the very end of the run is still taken.
    let _ = sampler.await;
    (world, samples)
}
