//! The range each config value must lie in (issue 10 part 11), checked by [`Config::set`]:
//! a scenario's `[config]` cannot ask for a zero period, a timer past the longest run, or a
//! retry count that would allocate or wait without end.

use super::{fmt_duration, ms, Value};
use std::fmt;
use std::time::Duration;

/// The range a config value must lie in (issue 10 part 11): every period and timeout above
/// zero, every duration at most a day (a run lasts at most 24 h, and a longer timer only risks
/// overflowing the clock), and every count and retry small enough that a run's memory and time
/// stay sane. Both ends are allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Duration(Duration, Duration),
    Int(u64, u64),
    /// A share of something: above 0, at most 1.
    Share,
    /// Any value of the kind (a switch).
    Any,
}

/// The longest duration a config key may hold.
pub const MAX_CONFIG_DURATION: Duration = Duration::from_secs(24 * 3600);

impl Bound {
    /// `Ok` when `v` lies in the range; otherwise what the range is.
    pub fn check(self, v: Value) -> Result<(), String> {
        let ok = match (self, v) {
            (Bound::Duration(lo, hi), Value::Duration(d)) => (lo..=hi).contains(&d),
            (Bound::Int(lo, hi), Value::Int(i)) => (lo..=hi).contains(&i),
            (Bound::Share, Value::Float(f)) => f > 0.0 && f <= 1.0,
            (Bound::Share, Value::Int(i)) => i == 1,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(self.to_string())
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Duration(lo, hi) => write!(f, "{} to {}", show_dur(*lo), show_dur(*hi)),
            Bound::Int(lo, hi) => write!(f, "{lo} to {hi}"),
            Bound::Share => f.write_str("above 0, at most 1"),
            Bound::Any => f.write_str("true or false"),
        }
    }
}

/// Every key's range, and why (the words after the range in an error).
pub fn bound(key: &str) -> Option<(Bound, &'static str)> {
    const DAY: Duration = MAX_CONFIG_DURATION;
    let period = Bound::Duration(ms(1), DAY);
    let delay = Bound::Duration(Duration::ZERO, DAY);
    Some(match key {
        // Tasks that run again and again: 0 would spin without ever letting time pass.
        "heartbeat_interval"
        | "beat_check_period"
        | "client_beat_interval"
        | "tcp_probe_interval_min"
        | "tcp_probe_interval_max"
        | "push_zombie_sweep"
        | "member_report_period"
        | "distro_retry_delay"
        | "distro_verify_period"
        | "distro_load_retry"
        | "delay_engine_scan"
        | "service_status_period"
        | "raft_tick"
        | "raft_heartbeat"
        | "jraft_heartbeat"
        | "client_update_delay"
        | "client_max_update_delay"
        | "empty_service_clean_period"
        | "version_judge_period"
        | "server_status_period" => (period, "a period, so above 0"),
        // The cacheMillis a list reply carries is the client's polling period (§11, §13).
        "default_cache_millis" | "push_cache_millis" => {
            (period, "the client polls at this period, so above 0")
        }
        // A resend period as well as a timeout.
        "push_ack_timeout" => (period, "the resend period, so above 0"),
        // Timeouts and thresholds: 0 would fail or expire everything at once.
        "heartbeat_timeout"
        | "ip_delete_timeout"
        | "distro_proxy_connect_timeout"
        | "distro_proxy_read_timeout"
        | "server_connect_timeout"
        | "server_read_timeout"
        | "raft_leader_timeout"
        | "raft_publish_timeout"
        | "jraft_rpc_timeout"
        | "jraft_connect_timeout"
        | "jraft_write_wait"
        | "jraft_read_wait"
        | "client_connect_timeout"
        | "client_read_timeout"
        | "tcp_probe_connect_timeout"
        | "member_report_read_timeout" => (period, "a timeout, so above 0"),
        // The step-down period and heartbeat RPC timeout are half of it (§J5.5).
        "jraft_election_timeout" => (
            Bound::Duration(ms(2), DAY),
            "a timeout whose half is a period, so at least 2ms",
        ),
        // One-off delays and random spreads: 0 means at once, or no spread.
        "beat_check_initial_delay"
        | "push_delay"
        | "member_report_initial"
        | "distro_sync_delay"
        | "service_status_initial"
        | "raft_random"
        | "jraft_max_election_delay"
        | "jraft_route_refresh_initial"
        | "jraft_route_refresh_jitter"
        | "empty_service_clean_initial"
        | "client_update_hold"
        | "tcp_probe_first_delay"
        | "raft_fetch_pause" => (delay, "a delay, at most a day"),
        "health_check_times" => (
            Bound::Int(1, 100),
            "consecutive probe results, at least one",
        ),
        "push_max_retry" => (
            Bound::Int(0, 100),
            "resends of one push, each a push_ack_timeout apart",
        ),
        "empty_service_finalize_count" => (
            Bound::Int(1, 1000),
            "passes a service must be empty on before it is removed, at least one",
        ),
        "member_fail_limit" => (Bound::Int(0, 1000), "failed reports before DOWN"),
        "distro_batch_keys" => (
            Bound::Int(1, 1_000_000),
            "keys in one sync batch, at least one",
        ),
        "client_domain_retry" => (
            Bound::Int(1, 100),
            "tries against a single server, each up to its connect and read timeouts",
        ),
        "client_fail_cap" => (
            Bound::Int(0, 63),
            "the update delay doubles per failure, and 2^63 is past any maximum",
        ),
        "jraft_lease_ratio" => (Bound::Share, "a share of the election timeout (§J4.3)"),
        "tcp_probe_factor" => (
            Bound::Share,
            "the old interval's weight in the adaptive probe interval (§8)",
        ),
        // Workers are the smallest power of two at or above it, at most 1024 (§3).
        "server_cores" => (
            Bound::Int(1, 1024),
            "processors of a server, one Distro execute worker per power of two",
        ),
        "raft_fetch_batch" => (
            Bound::Int(1, 1_000_000),
            "keys per legacy Raft beat fetch, at least one",
        ),
        "light_beat_enabled"
        | "health_check_enabled"
        | "expire_instance"
        | "push_enabled"
        | "client_push_empty_protection"
        | "whatif_beat_handover"
        | "whatif_distro_owner_check"
        | "whatif_distro_versions"
        | "whatif_raft_persist_votes"
        | "empty_service_clean" => (Bound::Any, "a switch"),
        _ => return None,
    })
}

/// A duration in an error: `0s`, `24h`, else as [`fmt_duration`] writes it.
pub(super) fn show_dur(d: Duration) -> String {
    let ms = d.as_millis();
    if d.is_zero() {
        "0s".into()
    } else if ms.is_multiple_of(3_600_000) && d.subsec_nanos() == 0 {
        format!("{}h", ms / 3_600_000)
    } else {
        fmt_duration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_duration, Config, Kind};
    use super::*;

    /// Every key has a range, and its default lies in it.
    #[test]
    fn every_key_has_a_bound_that_its_default_meets() {
        let d = Config::default();
        for (key, kind, _, _) in Config::KEYS {
            let (b, why) = bound(key).unwrap_or_else(|| panic!("`{key}` has no bound"));
            assert!(!why.is_empty());
            let fits = matches!(
                (kind, b),
                (Kind::Duration, Bound::Duration(..))
                    | (Kind::Int, Bound::Int(..))
                    | (Kind::Float, Bound::Share)
                    | (Kind::Bool, Bound::Any)
            );
            assert!(fits, "`{key}`: a {kind:?} key with bound {b:?}");
            let mut c = d.clone();
            let v = c.get(key).unwrap();
            let parsed = match kind {
                Kind::Duration => Value::Duration(parse_duration(&v).unwrap()),
                Kind::Int => Value::Int(v.parse().unwrap()),
                Kind::Float => Value::Float(v.parse().unwrap()),
                Kind::Bool => Value::Bool(v.parse().unwrap()),
            };
            c.set(key, parsed).unwrap_or_else(|e| panic!("default {e}"));
        }
    }

    /// One test per bound: each end is accepted, and one step past it is refused with the
    /// range in the message.
    #[test]
    fn each_bound_takes_its_ends_and_refuses_one_step_past_them() {
        let us = Duration::from_micros(1);
        for (key, _, _, _) in Config::KEYS {
            let (b, why) = bound(key).unwrap();
            let mut c = Config::default();
            let (inside, outside): (Vec<Value>, Vec<Value>) = match b {
                Bound::Duration(lo, hi) => (
                    vec![Value::Duration(lo), Value::Duration(hi)],
                    lo.checked_sub(us)
                        .map(Value::Duration)
                        .into_iter()
                        .chain([Value::Duration(hi + us)])
                        .collect(),
                ),
                Bound::Int(lo, hi) => (
                    vec![Value::Int(lo), Value::Int(hi)],
                    lo.checked_sub(1)
                        .map(Value::Int)
                        .into_iter()
                        .chain([Value::Int(hi + 1)])
                        .collect(),
                ),
                Bound::Share => (
                    vec![Value::Float(1e-9), Value::Float(1.0)],
                    vec![
                        Value::Float(0.0),
                        Value::Float(-0.5),
                        Value::Float(1.0 + 1e-9),
                    ],
                ),
                Bound::Any => (vec![Value::Bool(true), Value::Bool(false)], vec![]),
            };
            for v in inside {
                c.set(key, v)
                    .unwrap_or_else(|e| panic!("{key} = {v:?}: {e}"));
            }
            for v in outside {
                let e = c.set(key, v).expect_err(key);
                assert!(e.contains(&format!("`{key}` = ")), "{e}");
                assert!(e.contains(&format!("out of range: {b} ({why})")), "{e}");
            }
        }
    }

    #[test]
    fn the_values_that_used_to_abort_or_spin_are_refused() {
        let mut c = Config::default();
        // A 32 GiB allocation of server indices (issue 10 part 11).
        assert_eq!(
            c.set("client_domain_retry", Value::Int(4_294_967_296)),
            Err(
                "`client_domain_retry` = 4294967296 is out of range: 1 to 100 (tries against \
                 a single server, each up to its connect and read timeouts)"
                    .into()
            )
        );
        assert_eq!(
            c.set("beat_check_period", Value::Duration(Duration::ZERO)),
            Err(
                "`beat_check_period` = 0s is out of range: 1ms to 24h (a period, so above 0)"
                    .into()
            )
        );
        assert!(c.set("client_fail_cap", Value::Int(64)).is_err());
        assert!(c
            .set("raft_tick", Value::Duration(ms(25 * 3_600_000)))
            .is_err());
        assert!(c.set("jraft_lease_ratio", Value::Float(2.0)).is_err());
        assert!(c.set("push_delay", Value::Duration(Duration::ZERO)).is_ok());
        let want = Config {
            push_delay: Duration::ZERO,
            ..Config::default()
        };
        assert_eq!(c, want, "a refused value changes nothing");
    }
}
