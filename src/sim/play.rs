//! Playing a scenario's timeline: each step at its time, a client action on the client's own
//! node (`run_op`) or a fault applied to the world (`faults.rs`), while `observe.rs` samples
//! the views the expectations look at.

use super::observe::start_sampler;
use super::world::World;
use crate::check::Samples;
use crate::client::NamingClient;
use crate::scenario::{Action, ClientOp, Scenario};
use crate::trace::{emit, CallResult, Ev};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let sampler = start_sampler(sc, world.clone(), samples.clone(), start);
    super::traffic::start_traffic(sc, world.clone(), samples.clone(), start);
    for step in &sc.steps {
        tokio::time::sleep_until(start + step.at).await;
        let mut w = world.lock().unwrap();
        match &step.action {
            Action::Client { client, op } => start_client_op(&w, client, op),
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

/// Starts one client action on the client's own node; it runs concurrently with the timeline.
fn start_client_op(w: &World, name: &str, op: &ClientOp) {
    let info = &w.nodes[w.idx(name)];
    let node = w.handle.get_node(info.id).expect("node exists");
    let Some(client) = w.client(name) else {
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
        ClientOp::Register(i) | ClientOp::Deregister(i) => i.grouped(),
        ClientOp::Subscribe(r)
        | ClientOp::Unsubscribe(r)
        | ClientOp::GetAllInstances(r)
        | ClientOp::SelectInstances(r, _)
        | ClientOp::SelectOneHealthy(r)
        | ClientOp::CreateService(r, _)
        | ClientOp::UpdateService(r, _)
        | ClientOp::DeleteService(r) => r.grouped(),
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
    let done = |r: Result<(), crate::client::NacosError>| match r {
        Ok(()) => CallResult::Ok,
        Err(e) => error(e),
    };
    match op {
        ClientOp::Register(i) => done(client.register_instance(i).await),
        ClientOp::Deregister(i) => done(client.deregister_instance(i).await),
        ClientOp::Subscribe(r) => {
            list(&client.subscribe(&r.grouped(), &r.clusters.join(",")).await)
        }
        ClientOp::Unsubscribe(r) => {
            client.unsubscribe(&r.grouped(), &r.clusters.join(","));
            CallResult::Ok
        }
        ClientOp::GetAllInstances(r) => list(
            &client
                .get_all_instances(&r.grouped(), &r.clusters.join(","))
                .await,
        ),
        ClientOp::SelectInstances(r, healthy) => list(
            &client
                .select_instances(&r.grouped(), &r.clusters.join(","), *healthy)
                .await,
        ),
        ClientOp::SelectOneHealthy(r) => match client
            .select_one_healthy(&r.grouped(), &r.clusters.join(","))
            .await
        {
            Ok(h) => CallResult::Instance(h.ip_port()),
            Err(e) => error(e),
        },
        ClientOp::CreateService(r, t) => done(client.create_service(&r.grouped(), *t).await),
        ClientOp::UpdateService(r, t) => done(client.update_service(&r.grouped(), *t).await),
        ClientOp::DeleteService(r) => done(client.delete_service(&r.grouped()).await),
    }
}
