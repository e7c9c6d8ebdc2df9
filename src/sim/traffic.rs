//! Consumer traffic (issue 13): each `[[client]]` with `traffic` is also an application that
//! calls its service at a rate. A call picks an instance from the client's cache with the
//! client's own selection code (`selectOneHealthyInstance`'s weighted pick, or
//! `selectInstances(healthy)` taken round robin) and succeeds when that instance's process is
//! up and reachable from the consumer. Calls are counted into a [`Tally`], not logged: only
//! the start and the end of an outage are events.
//!
//! The driver is a harness task (like the view sampler), not a task of the consumer's node:
//! it reads the cache as the application's thread would and judges each call against the
//! harness's fault state. The first call of a consumer process (at start, after a restart)
//! goes through the real `getAllInstances` on the consumer's node, which queries the server,
//! subscribes to pushes and starts the update task; calls wait until that query is answered.
//! A paused or crashed consumer makes no calls.
//!
//! The gaps between calls are drawn from a generator of the traffic's own, seeded by one draw
//! from madsim's RNG when the driver starts: a scenario without traffic spawns no task and
//! draws nothing, so its runs are unchanged.

use super::world::World;
use crate::check::availability::{CallEnd, Change, Tally};
use crate::check::Samples;
use crate::client::{pick_index_by_weight, selected};
use crate::io::{EnvState, NoConnect};
use crate::model::HostView;
use crate::scenario::{Action, ClientOp, Pick, Scenario, Traffic};
use crate::trace::{emit, Ev};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The process behind an instance, as a call from the consumer meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    pub ip: IpAddr,
    pub up: bool,
    pub paused: bool,
}

/// How a call from `consumer` to `instance` ends. `provider` is the node that registered the
/// instance (`None`: no node of the scenario did, so only a closed port can fail it).
pub fn judge(
    instance: &str,
    provider: Option<Provider>,
    consumer: IpAddr,
    env: &EnvState,
) -> CallEnd {
    if let Some(p) = provider {
        if !p.up {
            // The process is gone: its host's kernel answers the SYN with a RST.
            return CallEnd::Refused;
        }
        if p.paused || env.cut.contains(&(consumer, p.ip)) || env.cut.contains(&(p.ip, consumer)) {
            return CallEnd::Timeout;
        }
        match env.no_connect.get(&(consumer, p.ip)) {
            Some(NoConnect::Timeout) => return CallEnd::Timeout,
            Some(NoConnect::Refused) => return CallEnd::Refused,
            None => {}
        }
    }
    if env.closed_ports.contains(instance) {
        return CallEnd::Refused;
    }
    CallEnd::Ok
}

/// Which cached host a call goes to (an index into `hosts`), by the client's selection code.
/// `r` is uniform in [0, 1); `turn` counts the consumer's calls (round robin).
pub fn pick(hosts: &[HostView], how: Pick, r: f64, turn: u64) -> Option<usize> {
    match how {
        Pick::OneHealthy => pick_index_by_weight(hosts, r),
        Pick::AllHealthyRoundRobin => {
            let n = hosts.iter().filter(|h| selected(h, true)).count();
            if n == 0 {
                return None;
            }
            let k = (turn % n as u64) as usize;
            hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| selected(h, true))
                .nth(k)
                .map(|(i, _)| i)
        }
    }
}

/// SplitMix64: the traffic's own generator of call gaps and picks.
#[derive(Debug, Clone)]
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The gap before the next call: uniform in [0.5, 1.5) × 1 / rate (mean 1 / rate).
    pub fn gap(&mut self, rate: f64) -> Duration {
        Duration::from_secs_f64((0.5 + self.unit()) / rate)
    }
}

/// One instance of the consumer's service that a scenario client registers.
struct Known {
    ip_port: String,
    ip: String,
    port: u16,
    /// The registering node's index in the world.
    node: usize,
}

/// Spawns one driver per client with traffic; each records into `samples`' tallies.
pub fn start_traffic(
    sc: &Scenario,
    world: Arc<Mutex<World>>,
    samples: Samples,
    start: tokio::time::Instant,
) {
    for c in &sc.clients {
        let Some(traffic) = c.traffic.clone() else {
            continue;
        };
        let known = {
            let w = world.lock().unwrap();
            known_instances(sc, &w, &traffic)
        };
        let seed = madsim::rand::random::<u64>();
        let (name, end, world, samples) =
            (c.name.clone(), sc.duration, world.clone(), samples.clone());
        tokio::spawn(async move {
            drive(
                name,
                traffic,
                known,
                Gen::new(seed),
                end,
                world,
                samples,
                start,
            )
            .await
        });
    }
}

fn known_instances(sc: &Scenario, w: &World, t: &Traffic) -> Vec<Known> {
    let mut out: Vec<Known> = vec![];
    for s in &sc.steps {
        if let Action::Client {
            client,
            op: ClientOp::Register(r),
        } = &s.action
        {
            let ip_port = format!("{}:{}", r.ip, r.port);
            let wanted = r.service == t.service.service && r.group == t.service.group;
            if wanted && !out.iter().any(|k| k.ip_port == ip_port) {
                out.push(Known {
                    ip_port,
                    ip: r.ip.clone(),
                    port: r.port,
                    node: w.idx(client),
                });
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    name: String,
    traffic: Traffic,
    known: Vec<Known>,
    mut gen: Gen,
    end: Duration,
    world: Arc<Mutex<World>>,
    samples: Samples,
    start: tokio::time::Instant,
) {
    let key = (name.clone(), traffic.service.cache_key());
    let grouped = traffic.service.grouped();
    let clusters = traffic.service.clusters.join(",");
    samples.traffic(|m| m.insert(key.clone(), Tally::default()));
    let me_idx = world.lock().unwrap().idx(&name);
    let mut turn = 0u64;
    let mut t = traffic.from;
    loop {
        t += gen.gap(traffic.rate);
        if t > end {
            break;
        }
        tokio::time::sleep_until(start + t).await;
        let w = world.lock().unwrap();
        let me = &w.nodes[me_idx];
        let Some(client) = w.client_at(me_idx).filter(|_| me.up && !me.paused) else {
            continue;
        };
        let r = gen.unit();
        let env = w.env.state();
        let consumer = me.addr.ip();
        let t_us = t.as_micros() as u64;
        let provider = |k: &Known| {
            let n = &w.nodes[k.node];
            Provider {
                ip: n.addr.ip(),
                up: n.up,
                paused: n.paused,
            }
        };
        // No fault that could fail a call is in force (the common case): every instance is
        // alive, and nothing needs judging one by one.
        let quiet = env.cut.is_empty()
            && env.no_connect.is_empty()
            && env.closed_ports.is_empty()
            && known.iter().all(|k| {
                let n = &w.nodes[k.node];
                n.up && !n.paused
            });
        let change = samples.traffic(|m| {
            let tally = m.get_mut(&key)?;
            client.with_cached(&key.1, |info| {
                // Deaths (and ends of deaths) of the instances in the cache.
                let judging = !quiet || tally.has_deaths();
                for k in known.iter().filter(|_| judging) {
                    if info.hosts.iter().any(|h| h.port == k.port && h.ip == k.ip) {
                        let alive =
                            judge(&k.ip_port, Some(provider(k)), consumer, &env) == CallEnd::Ok;
                        tally.observe(t_us, &k.ip_port, alive);
                    }
                }
                match pick(&info.hosts, traffic.pick, r, turn) {
                    None => tally.record(t_us, None, CallEnd::NoInstance),
                    Some(i) => {
                        let h = &info.hosts[i];
                        // A known instance's name is at hand; only a stranger's is built.
                        match known.iter().find(|k| k.port == h.port && k.ip == h.ip) {
                            Some(k) if quiet => tally.record(t_us, Some(&k.ip_port), CallEnd::Ok),
                            Some(k) => {
                                let end = judge(&k.ip_port, Some(provider(k)), consumer, &env);
                                tally.record(t_us, Some(&k.ip_port), end)
                            }
                            None => {
                                let target = h.ip_port();
                                let end = judge(&target, None, consumer, &env);
                                tally.record(t_us, Some(&target), end)
                            }
                        }
                    }
                }
            })
        });
        drop(w);
        // `None`: the first query is still in flight, or this consumer process has not made
        // it yet (at start, after a restart): the call waits.
        let Some(change) = change else {
            let w = world.lock().unwrap();
            let me = &w.nodes[me_idx];
            if client.cached(&grouped, &clusters).is_none() {
                if let Some(node) = w.handle.get_node(me.id) {
                    let (g, c) = (grouped.clone(), clusters.clone());
                    node.spawn(async move {
                        let _ = client.get_all_instances(&g, &c).await;
                    });
                }
            }
            continue;
        };
        turn += 1;
        match change {
            Some(Change::Failing { cause }) => emit(
                &name,
                Ev::TrafficFailing {
                    service: key.1.clone(),
                    cause: cause.as_str(),
                },
            ),
            Some(Change::Recovered {
                since_us,
                recovered_us,
                failed,
            }) => emit(
                &name,
                Ev::TrafficRecovered {
                    service: key.1.clone(),
                    since_ms: since_us / 1000,
                    recovered_ms: recovered_us / 1000,
                    failed,
                },
            ),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(ip: &str, healthy: bool, weight: f64) -> HostView {
        HostView::for_test(ip, healthy, weight, true)
    }

    #[test]
    fn picks_follow_the_client_selection() {
        let hosts = vec![
            host("1.1.1.1", true, 1.0),
            host("2.2.2.2", false, 1.0),
            host("3.3.3.3", true, 3.0),
        ];
        assert_eq!(pick(&hosts, Pick::OneHealthy, 0.1, 0), Some(0));
        assert_eq!(pick(&hosts, Pick::OneHealthy, 0.5, 0), Some(2));
        let rr: Vec<_> = (0..4)
            .map(|t| pick(&hosts, Pick::AllHealthyRoundRobin, 0.0, t))
            .collect();
        assert_eq!(rr, vec![Some(0), Some(2), Some(0), Some(2)]);
        let none = vec![host("2.2.2.2", false, 1.0)];
        assert_eq!(pick(&none, Pick::OneHealthy, 0.5, 0), None);
        assert_eq!(pick(&none, Pick::AllHealthyRoundRobin, 0.5, 0), None);
        assert_eq!(pick(&[], Pick::OneHealthy, 0.5, 0), None);
    }

    #[test]
    fn judging_a_call() {
        let c: IpAddr = "10.1.0.1".parse().unwrap();
        let p = Provider {
            ip: "10.1.0.2".parse().unwrap(),
            up: true,
            paused: false,
        };
        let mut env = EnvState::default();
        assert_eq!(judge("x:1", Some(p), c, &env), CallEnd::Ok);
        let down = Provider { up: false, ..p };
        assert_eq!(judge("x:1", Some(down), c, &env), CallEnd::Refused);
        let paused = Provider { paused: true, ..p };
        assert_eq!(judge("x:1", Some(paused), c, &env), CallEnd::Timeout);
        env.cut.insert((p.ip, c));
        assert_eq!(judge("x:1", Some(p), c, &env), CallEnd::Timeout);
        env.cut.clear();
        env.no_connect.insert((c, p.ip), NoConnect::Refused);
        assert_eq!(judge("x:1", Some(p), c, &env), CallEnd::Refused);
        env.no_connect.clear();
        env.closed_ports.insert("x:1".into());
        assert_eq!(judge("x:1", Some(p), c, &env), CallEnd::Refused);
        assert_eq!(judge("x:1", None, c, &env), CallEnd::Refused);
        assert_eq!(judge("y:1", None, c, &env), CallEnd::Ok);
    }

    #[test]
    fn gaps_average_the_rate() {
        let mut g = Gen::new(7);
        let total: Duration = (0..10_000).map(|_| g.gap(20.0)).sum();
        let mean = total.as_secs_f64() / 10_000.0;
        assert!((mean - 0.05).abs() < 0.001, "{mean}");
        let mut a = Gen::new(7);
        let mut b = Gen::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
