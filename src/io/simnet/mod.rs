//! The simulated wire behind [`crate::io::Net`]: the network's fault state, each process's
//! inbox, calls and their timeouts, all in madsim's virtual time.
//!
//! Requests behave like Nacos's HTTP calls: a crashed process refuses new connections at once
//! and resets the ones it had accepted, a cut link (partition, isolation, one-way) makes the
//! connect time out, and a node that accepts but does not answer (paused, or a reply lost to a
//! new cut) makes the read time out. Datagrams (UDP push and acks, §10) may also be lost at the
//! configured rate.
//!
//! Delivery is direct: a message waits in the destination process's inbox until its one-way
//! delay has passed, and the inbox task, which runs on the destination node, hands it to the
//! handler (see [`inbox`]). madsim's scheduler is thus what stops a killed process from
//! answering (its tasks never run again) and a paused one from answering before it resumes.
//! A link is judged when a call connects and again when each message lands (when it lands, or
//! when a paused process resumes): a message whose link was cut meanwhile is lost.
//!
//! Modules, each importing only those listed before it:
//! - `state`: the fault state ([`EnvState`]) and the rules judging a message against it;
//! - `timer`: `wake_at`, the one madsim timer primitive (and a test pinning its behaviour);
//! - `gate`: which runs first when a paused process resumes ([`ResumeOrder`]);
//! - `exchange`: where a call's reply, reset or give-up lands;
//! - `deadline`: the per-node watchdog for read timeouts;
//! - `inbox`: each process's mail, and the calls it has accepted;
//! - `env`: [`NetEnv`], what the harness holds and changes;
//! - `endpoint`: one process's end of the wire ([`Endpoint`]);
//! - `call`: the future of one call ([`Call`]).
//!
//! (Named `simnet`, not `wire`: `crate::wire` is the typed Nacos messages that travel on it.)

mod call;
mod deadline;
mod endpoint;
mod env;
mod exchange;
mod gate;
mod inbox;
mod state;
#[cfg(test)]
mod tests;
mod timer;

pub use crate::io::api::{NoConnect, ResumeOrder};
pub use call::Call;
pub use endpoint::{Endpoint, GatedSleep};
pub use env::NetEnv;
pub use gate::TIMERS_FIRST_HOLD;
pub use state::EnvState;
