//! The benchmark's scenario, built in code: 1 server, N providers with one ephemeral instance
//! each, M subscribers, no faults and no expectations.

use super::types::*;
use crate::config::Config;
use std::time::Duration;

pub fn bench_scenario(
    clients: usize,
    subscribers: usize,
    duration: Duration,
    seed: u64,
) -> Scenario {
    let servers = vec!["s1".to_string()];
    let mut cls = vec![];
    let mut steps = vec![];
    for i in 0..clients {
        let name = format!("p{}", i + 1);
        cls.push(ClientSpec {
            name: name.clone(),
            servers: servers.clone(),
        });
        steps.push(Step {
            // Spread the registrations over the first second, as real fleets do not start in lockstep.
            at: Duration::from_millis(1 + (i as u64 * 1000) / clients.max(1) as u64),
            action: Action::Client {
                client: name,
                op: ClientOp::Register(InstanceSpec {
                    service: format!("svc-{}", i % 10),
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
    for j in 0..subscribers {
        let name = format!("sub{}", j + 1);
        cls.push(ClientSpec {
            name: name.clone(),
            servers: servers.clone(),
        });
        steps.push(Step {
            at: Duration::from_millis(1500 + j as u64 * 10),
            action: Action::Client {
                client: name,
                op: ClientOp::Subscribe(ServiceRef {
                    service: format!("svc-{}", j % 10),
                    group: DEFAULT_GROUP.into(),
                    clusters: vec![],
                }),
            },
            line: 0,
        });
    }
    Scenario {
        path: "<bench>".into(),
        name: "bench".into(),
        about: "throughput benchmark".into(),
        seed,
        duration,
        servers,
        config: Config::default(),
        overrides: vec![],
        clients: cls,
        steps,
        expects: vec![],
        quiet: Duration::from_secs(30),
    }
}
