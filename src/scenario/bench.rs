//! The benchmark's scenario, built in code: S servers, N provider clients holding I ephemeral
//! instances between them, M subscribers (each optionally calling its service: consumer
//! traffic), no faults and no expectations.

use super::types::*;
use crate::config::Config;
use std::time::Duration;

/// The shape of a benchmark run.
#[derive(Debug, Clone, Copy)]
pub struct BenchShape {
    pub servers: usize,
    pub clients: usize,
    /// Instances in all, spread round-robin over the clients.
    pub instances: usize,
    pub subscribers: usize,
    pub services: usize,
    /// Calls per second each subscriber makes to its service (consumer traffic); 0 = none.
    pub traffic: f64,
}

fn service(i: usize) -> ServiceRef {
    ServiceRef {
        service: format!("svc-{i}"),
        group: DEFAULT_GROUP.into(),
        clusters: vec![],
    }
}

pub fn bench_scenario(shape: BenchShape, duration: Duration, seed: u64) -> Scenario {
    let services = shape.services.max(1);
    let clients = shape.clients.max(1);
    let servers: Vec<String> = (1..=shape.servers.max(1))
        .map(|i| format!("s{i}"))
        .collect();
    let mut cls: Vec<ClientSpec> = (1..=clients)
        .map(|i| ClientSpec {
            name: format!("p{i}"),
            servers: servers.clone(),
            traffic: None,
        })
        .collect();
    let mut steps = vec![];
    for i in 0..shape.instances {
        steps.push(Step {
            // Spread the registrations over the first second: real fleets do not start in lockstep.
            at: Duration::from_millis(1 + (i as u64 * 1000) / shape.instances as u64),
            action: Action::Client {
                client: format!("p{}", i % clients + 1),
                op: ClientOp::Register(Registration {
                    service: service(i % services).service,
                    group: DEFAULT_GROUP.into(),
                    ip: format!("10.2.{}.{}", i / 250, i % 250 + 1),
                    port: 8080,
                    cluster: DEFAULT_CLUSTER.into(),
                    weight: 1.0,
                    enabled: true,
                    ephemeral: true,
                    metadata: Default::default(),
                }),
            },
            line: 0,
        });
    }
    for j in 0..shape.subscribers {
        let name = format!("sub{}", j + 1);
        let traffic = (shape.traffic > 0.0).then(|| Traffic {
            service: service(j % services),
            rate: shape.traffic,
            rate_text: format!("{}/s", shape.traffic),
            pick: Pick::OneHealthy,
            from: Duration::ZERO,
        });
        cls.push(ClientSpec {
            name: name.clone(),
            servers: servers.clone(),
            traffic,
        });
        steps.push(Step {
            at: Duration::from_millis(1500 + j as u64 * 10),
            action: Action::Client {
                client: name,
                op: ClientOp::Subscribe(service(j % services)),
            },
            line: 0,
        });
    }
    steps.sort_by_key(|s| s.at);
    Scenario {
        path: "<bench>".into(),
        name: "bench".into(),
        about: "throughput benchmark".into(),
        seed,
        duration,
        servers,
        versions: Default::default(),
        aliases: Default::default(),
        conf: Default::default(),
        mode: None,
        config: Config::default(),
        overrides: vec![],
        clients: cls,
        steps,
        expects: vec![],
        quiet: Duration::from_secs(30),
        pass_rate: super::types::DEFAULT_PASS_RATE,
        chaos: None,
    }
}
