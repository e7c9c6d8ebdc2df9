//! Pure data model of the Nacos 1.4.1 naming server (spec §1, §2, §5, §6, §8, §11).
//!
//! Everything here is deterministic: no clocks, no randomness, and only ordered
//! maps (`BTreeMap`) wherever an iteration order could reach output.

pub mod checksum;
pub mod expiry;
pub mod instance;
pub mod ip_update;
pub mod javafmt;
pub mod javahash;
pub mod keys;
pub mod raft;
pub mod revision;
pub mod service;
pub mod version;
pub mod view;

pub use instance::{Instance, Millis};
pub use service::{Cluster, Service};
pub use view::{HostView, ListView};
