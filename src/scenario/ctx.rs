//! What steps and expectations are read against: the run's length, the node names, and what
//! the steps bring into being ([`Ctx`]); the setup, step and expectation readers all take it.

use super::fields::{as_nonempty_str, fail, or_list, show, suggest, Field, R};
use super::tree::{Node, Val};
use super::types::*;
use std::collections::BTreeSet;
use std::time::Duration;

/// What steps and expectations check names and times against.
pub(crate) struct Ctx {
    pub duration: Duration,
    /// `duration` as the file wrote it, for messages.
    pub duration_text: String,
    pub servers: Vec<String>,
    pub clients: Vec<String>,
    /// What the steps register, create or subscribe to (known once the steps are read):
    /// expectations naming anything else could never match.
    pub known: Option<Known>,
    /// (client, service) of every client that sends traffic (issue 13).
    pub traffic: Vec<(String, ServiceRef)>,
}

/// The services and instances a scenario's steps bring into being.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// (group, service) of every service a client step names.
    pub services: BTreeSet<(String, String)>,
    /// `ip:port` of every instance a step registers (or closes the port of).
    pub instances: BTreeSet<String>,
}

impl Known {
    pub fn of(steps: &[Step]) -> Known {
        let mut k = Known::default();
        for s in steps {
            match &s.action {
                Action::Client { op, .. } => {
                    let (group, service) = match op {
                        ClientOp::Register(i) | ClientOp::Deregister(i) => {
                            k.instances.insert(format!("{}:{}", i.ip, i.port));
                            (&i.group, &i.service)
                        }
                        ClientOp::Subscribe(r)
                        | ClientOp::Unsubscribe(r)
                        | ClientOp::GetAllInstances(r)
                        | ClientOp::SelectInstances(r, _)
                        | ClientOp::SelectOneHealthy(r)
                        | ClientOp::CreateService(r, _)
                        | ClientOp::UpdateService(r, _)
                        | ClientOp::DeleteService(r) => (&r.group, &r.service),
                    };
                    k.services.insert((group.clone(), service.clone()));
                }
                Action::Fault(Fault::PortDown(a) | Fault::PortUp(a)) => {
                    k.instances.insert(a.clone());
                }
                Action::Fault(_) => {}
            }
        }
        k
    }
}

/// Which kind of node a name must refer to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Any,
    Server,
    Client,
}

impl Ctx {
    /// A time that must fall within the run.
    pub fn time(&self, field: &Field) -> R<Duration> {
        let t = field.duration()?;
        if t > self.duration {
            return fail(
                field.at(),
                format!(
                    "`{}` = {} is after the end of the run (duration {})",
                    field.label,
                    show(t),
                    self.duration_text
                ),
            );
        }
        Ok(t)
    }

    /// A `[start, end]` window within the run.
    pub fn window(&self, field: &Field, example: &str) -> R<(Duration, Duration)> {
        let (start, end) = field.range(example)?;
        if end > self.duration {
            return fail(
                field.at(),
                format!(
                    "`{}` ends at {}, after the end of the run (duration {})",
                    field.label,
                    show(end),
                    self.duration_text
                ),
            );
        }
        Ok((start, end))
    }

    /// Any server or client, named by a string value.
    /// A fault target: a node name, or a role resolved when the step runs (`@leader`, the
    /// server leading legacy Raft at that moment; `@followers`, the other up servers).
    pub fn fault_target(&self, label: &str, node: &Node) -> R<String> {
        if let Val::Str(s) = &node.val {
            if s.starts_with('@') {
                return if ROLES.contains(&s.as_str()) {
                    Ok(s.clone())
                } else {
                    fail(
                        node.at(),
                        format!(
                            "`{label}`: unknown role `{s}`: the roles are {}",
                            ROLES.join(", ")
                        ),
                    )
                };
            }
        }
        self.any_node(label, node)
    }

    pub fn any_node(&self, label: &str, node: &Node) -> R<String> {
        // With `Want::Any` every known name is accepted, so `wrong_kind` is never called.
        self.node(label, node, Want::Any, &|n: &str| {
            format!("`{n}` is not a node")
        })
    }

    /// A node name from a string value; `wrong_kind` explains a name of the other kind.
    pub fn node(
        &self,
        label: &str,
        node: &Node,
        want: Want,
        wrong_kind: &dyn Fn(&str) -> String,
    ) -> R<String> {
        let name = as_nonempty_str(label, node)?;
        let is_server = self.servers.iter().any(|s| s == name);
        let is_client = self.clients.iter().any(|c| c == name);
        let ok = match want {
            Want::Any => is_server || is_client,
            Want::Server => is_server,
            Want::Client => is_client,
        };
        if ok {
            return Ok(name.to_owned());
        }
        if is_server || is_client {
            return fail(node.at(), wrong_kind(name));
        }
        let (noun, pool): (&str, Vec<&str>) = match want {
            Want::Any => (
                "node",
                self.servers
                    .iter()
                    .chain(&self.clients)
                    .map(String::as_str)
                    .collect(),
            ),
            Want::Server => ("server", self.servers.iter().map(String::as_str).collect()),
            Want::Client => ("client", self.clients.iter().map(String::as_str).collect()),
        };
        let head = format!("unknown {noun} `{name}`");
        let close = suggest(name, pool.iter().copied());
        let msg = if pool.is_empty() {
            format!("{head}: the scenario defines no [[client]]")
        } else if !close.is_empty() {
            format!("{head}: did you mean {}?", or_list(&close))
        } else {
            format!("{head}: the {noun}s are {}", pool.join(", "))
        };
        fail(node.at(), msg)
    }
}
