//! Live mode (issue 12): N servers of the simulation's very server code, each in its own tokio
//! runtime (its "process") on 127.0.0.1, as one Distro cluster and one Raft/JRaft group over
//! real loopback HTTP; the live faults the control interface applies to them; and the event
//! log printed as it grows. The wire itself is `io::live` and `io::openapi`.
//!
//! Ports: server i listens on `base + 10·i` (8848, 8858, 8868…): Nacos names members by
//! `ip:port` and derives the JRaft port as `port - 1000` (jraft spec §J4.2), so servers sharing
//! 127.0.0.1 need distinct ports ten apart, leaving room for nothing else to collide.

pub mod control;
pub mod events;
mod extra;
pub mod scenario;

use crate::config::Config;
use crate::io::{Clock, Disk, LiveEnv, Net, NodeCtx};
use crate::server::Server;
use crate::trace::{emit, Ev};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The Nacos version every live server runs (jraft spec §J13.1: ≥ 1.4.0 runs JRaft).
pub const VERSION: &str = "1.4.1";

/// One server "process": its runtime while it is up.
struct Slot {
    name: String,
    addr: SocketAddr,
    disk: Disk,
    clock: Clock,
    rt: Option<tokio::runtime::Runtime>,
    server: Option<Arc<Server>>,
}

/// The live cluster.
pub struct Cluster {
    pub env: Arc<LiveEnv>,
    cfg: Arc<Config>,
    slots: Mutex<Vec<Slot>>,
}

/// Ports for `n` servers from `base` (0: free ports, each with its JRaft port free too).
pub fn pick_ports(n: usize, base: u16) -> std::io::Result<Vec<u16>> {
    if base != 0 {
        return (0..n)
            .map(|i| {
                let p = base as usize + 10 * i;
                if p > u16::MAX as usize || p < 1024 + 1000 {
                    Err(std::io::Error::other(format!(
                        "port {p} is out of range (the JRaft port is port - 1000)"
                    )))
                } else {
                    Ok(p as u16)
                }
            })
            .collect();
    }
    let mut out = vec![];
    let free = |p: u16| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
    while out.len() < n {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let p = l.local_addr()?.port();
        drop(l);
        if p > 2100 && !out.contains(&p) && free(p - 1000) {
            out.push(p);
        }
    }
    Ok(out)
}

impl Cluster {
    /// Boots one server per port, named `names` (`s1`, `s2`… by default), their disks in
    /// `data_dir/<name>`, with the Nacos constants of `cfg`.
    pub fn start(
        ports: &[u16],
        names: &[String],
        cfg: Config,
        data_dir: &std::path::Path,
    ) -> std::io::Result<Arc<Cluster>> {
        let members: Vec<SocketAddr> = ports
            .iter()
            .map(|p| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), *p))
            .collect();
        let mut slots = vec![];
        for (i, addr) in members.iter().enumerate() {
            let name = names[i].clone();
            let dir: PathBuf = data_dir.join(&name);
            slots.push(Slot {
                disk: Disk::in_dir(&dir)?,
                name,
                addr: *addr,
                clock: Clock::default(),
                rt: None,
                server: None,
            });
        }
        let c = Arc::new(Cluster {
            env: Arc::new(LiveEnv::new(members)),
            cfg: Arc::new(cfg),
            slots: Mutex::new(slots),
        });
        for i in 0..ports.len() {
            c.boot(i)?;
        }
        Ok(c)
    }

    pub fn names(&self) -> Vec<(String, SocketAddr)> {
        let s = self.slots.lock().unwrap();
        s.iter().map(|s| (s.name.clone(), s.addr)).collect()
    }

    /// The server index of `target`: `s2`, `2`, or `127.0.0.1:8858`.
    pub fn index(&self, target: &str) -> Option<usize> {
        let s = self.slots.lock().unwrap();
        if let Ok(n) = target.parse::<usize>() {
            if (1..=s.len()).contains(&n) {
                return Some(n - 1);
            }
        }
        s.iter().position(|s| {
            s.name == target || s.addr.to_string() == target || s.addr.port().to_string() == target
        })
    }

    /// Starts server `i` in a fresh runtime (its own worker thread).
    fn boot(self: &Arc<Self>, i: usize) -> std::io::Result<()> {
        let (name, addr, disk, clock) = {
            let s = self.slots.lock().unwrap();
            let s = &s[i];
            (s.name.clone(), s.addr, s.disk.clone(), s.clock.clone())
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("nacos-{name}"))
            .enable_all()
            .build()?;
        let (env, cfg) = (self.env.clone(), self.cfg.clone());
        let members = env.members().to_vec();
        let server = rt.block_on(async move {
            // A crashed runtime's last sockets may close a moment after it is shut down.
            let mut tries = 0;
            let net = loop {
                match Net::bind(addr, env.clone()).await {
                    Ok(net) => break net,
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 30 => {
                        tries += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(e),
                }
            };
            let ctx = NodeCtx {
                name: name.into(),
                addr,
                net: net.clone(),
                clock,
                disk,
                cfg,
            };
            // A lone server runs standalone, a cluster in cluster mode (spec §9).
            let standalone = members.len() <= 1;
            let server = Server::start(ctx, members, standalone, VERSION.to_string());
            net.set_extra(extra::answers(server.clone()));
            Ok::<_, std::io::Error>(server)
        })?;
        let mut s = self.slots.lock().unwrap();
        s[i].rt = Some(rt);
        s[i].server = Some(server);
        Ok(())
    }

    /// Ends server `i`'s runtime: its tasks stop and its sockets close (callers get refused
    /// or reset connections, as from a killed process). Its disk stays.
    pub fn crash(&self, i: usize) -> bool {
        let (rt, name) = {
            let mut s = self.slots.lock().unwrap();
            s[i].server = None;
            (s[i].rt.take(), s[i].name.clone())
        };
        let Some(rt) = rt else { return false };
        // The control thread is outside every runtime, so it can wait for the tasks to drop.
        rt.shutdown_timeout(std::time::Duration::from_secs(2));
        self.env.set_paused(self.addr(i), false);
        // As the simulation logs it: on the node, `target` only for a role (src/sim/faults.rs).
        emit(&name, Ev::FaultCrash { target: None });
        true
    }

    /// Boots a crashed server again from its disk.
    pub fn restart(self: &Arc<Self>, i: usize) -> std::io::Result<bool> {
        if self.is_up(i) {
            return Ok(false);
        }
        let name = self.slots.lock().unwrap()[i].name.clone();
        self.boot(i)?;
        emit(&name, Ev::FaultRestart { target: None });
        Ok(true)
    }

    pub fn pause(&self, i: usize, paused: bool) -> bool {
        if !self.is_up(i) || self.env.is_paused(self.addr(i)) == paused {
            return false;
        }
        self.env.set_paused(self.addr(i), paused);
        let name = self.slots.lock().unwrap()[i].name.clone();
        let target = None;
        emit(
            &name,
            if paused {
                Ev::FaultPause { target }
            } else {
                Ev::FaultResume {
                    target,
                    order: None,
                }
            },
        );
        true
    }

    pub fn isolate(&self, i: usize) {
        self.env.isolate(self.addr(i));
        let name = self.slots.lock().unwrap()[i].name.clone();
        emit(&name, Ev::FaultIsolate { target: None });
    }

    /// Cuts the directed links `from → to` between servers (a partition's or a one-way cut's).
    pub fn cut(&self, links: &[(usize, usize)]) {
        for &(a, b) in links {
            self.env.cut(self.addr(a), self.addr(b));
        }
    }

    pub fn heal(&self, i: Option<usize>) {
        self.env.heal(i.map(|i| self.addr(i)));
        let node = i.map_or("-".to_string(), |i| {
            self.slots.lock().unwrap()[i].name.clone()
        });
        emit(&node, Ev::FaultHeal {});
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.slots.lock().unwrap()[i].addr
    }

    pub fn is_up(&self, i: usize) -> bool {
        self.slots.lock().unwrap()[i].rt.is_some()
    }

    pub fn server(&self, i: usize) -> Option<Arc<Server>> {
        self.slots.lock().unwrap()[i].server.clone()
    }

    /// One line per server: up/down/paused, its cut links.
    pub fn status(&self) -> String {
        let mut out = String::new();
        for (i, (name, addr)) in self.names().into_iter().enumerate() {
            let state = if !self.is_up(i) {
                "down"
            } else if self.env.is_paused(addr) {
                "paused"
            } else {
                "up"
            };
            let cuts: Vec<String> = self
                .env
                .cut_links()
                .into_iter()
                .filter(|(a, _)| *a == addr)
                .map(|(_, b)| b.to_string())
                .collect();
            let cut = if cuts.is_empty() {
                String::new()
            } else {
                format!(" cut-to={}", cuts.join(","))
            };
            out.push_str(&format!(
                "{name} {addr} jraft={} {state}{cut}\n",
                addr.port() - 1000
            ));
        }
        out
    }

    /// Stops every server.
    pub fn shutdown(&self) {
        let mut s = self.slots.lock().unwrap();
        for slot in s.iter_mut() {
            slot.server = None;
            if let Some(rt) = slot.rt.take() {
                rt.shutdown_background();
            }
        }
    }
}
