//! Tests of the JRaft core, each naming the spec rule it pins. `cluster` is the deterministic
//! test cluster they share; `random` runs it under seeded chaos.

mod cluster;
mod election;
mod random;
mod read;
mod replication;
