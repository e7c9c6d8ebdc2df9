//! Tests of the JRaft core.
