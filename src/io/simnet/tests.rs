//! Unit tests of the simulated wire.
