//! The simulated world's nodes: one madsim node per server and client, their addresses, and
//! booting them (again after a restart). Playing the timeline is `play.rs`, applying faults
//! `faults.rs`, and looking at the nodes `observe.rs`.

use crate::client::NamingClient;
use crate::config::Config;
use crate::io::{Clock, Disk, Net, NetEnv, NodeCtx};
use crate::scenario::{client_addr, server_addr, Scenario, DEFAULT_LATENCY};
use crate::server::Server;
use madsim::runtime::Handle;
use madsim::task::NodeId;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::scenario::{CLIENT_PORT, SERVER_PORT};

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
    /// The process has booted (its endpoint is bound).
    pub fn is_set(&self) -> bool {
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
    /// The node's disk, which outlives its processes (fault `stall_disk`).
    pub disk: Disk,
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

impl World {
    /// Builds every node of the scenario and boots it.
    pub fn build(sc: &Scenario) -> World {
        let handle = Handle::current();
        let env = Arc::new(NetEnv::default());
        let cfg = Arc::new(sc.config.clone());
        let addrs: Vec<SocketAddr> = (0..sc.servers.len()).map(server_addr).collect();
        for (alias, server) in &sc.aliases {
            let to = sc.server_addr(server).expect("validated");
            env.alias(*alias, to);
        }
        let standalone = sc.standalone();
        let mut nodes = vec![];
        for (i, name) in sc.servers.iter().enumerate() {
            let addr = addrs[i];
            let slot = Slot::<Server>::default();
            let (clock, disk) = (Clock::default(), Disk::default());
            let boot = boot_ctx(
                name,
                addr,
                env.clone(),
                clock.clone(),
                disk.clone(),
                cfg.clone(),
            );
            // This server's cluster.conf (spec §4 step 1).
            let (members, s) = (sc.members_of(name), slot.clone());
            let version = sc.version_of(name).to_string();
            let id = handle
                .create_node()
                .name(name)
                .ip(addr.ip())
                .init(move || {
                    let (boot, members, s) = (boot.clone(), members.clone(), s.clone());
                    let version = version.clone();
                    async move {
                        let ctx = boot.ctx().await;
                        s.set(Server::start(ctx, members, standalone, version));
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
                disk,
            });
        }
        for (i, c) in sc.clients.iter().enumerate() {
            let addr = client_addr(i);
            let servers: Vec<SocketAddr> = c
                .servers
                .iter()
                .map(|s| sc.server_addr(s).expect("validated"))
                .collect();
            let slot = Slot::<NamingClient>::default();
            let (clock, disk) = (Clock::default(), Disk::default());
            let boot = boot_ctx(
                &c.name,
                addr,
                env.clone(),
                clock.clone(),
                disk.clone(),
                cfg.clone(),
            );
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
                disk,
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
            latency: DEFAULT_LATENCY,
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
        self.client_at(self.idx(name))
    }

    /// The running client process of the node at index `i`, if it is up.
    pub fn client_at(&self, i: usize) -> Option<Arc<NamingClient>> {
        match &self.nodes[i].slot {
            Proc::Client(s) => s.get(),
            Proc::Server(_) => None,
        }
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
