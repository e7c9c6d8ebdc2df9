//! Every Nacos constant the simulator uses, in one place, with its default from the spec.
//!
//! A scenario's `[config]` table overrides any of them by key (`heartbeat_timeout = "15s"`).
//! Durations are written as `"500ms"`, `"15s"`, `"2m"` or `"1h"` in scenarios; integers and
//! floats and booleans as themselves.

use std::fmt;
use std::time::Duration;

mod bounds;
#[cfg(test)]
mod pinned;
pub use bounds::{bound, Bound, MAX_CONFIG_DURATION};

/// The value kinds a config key can hold; used for parsing overrides and for the README table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Duration,
    Bool,
    Int,
    Float,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Duration => "a duration such as \"5s\" or \"500ms\"",
            Kind::Bool => "true or false",
            Kind::Int => "a non-negative integer",
            Kind::Float => "a number",
        })
    }
}

/// A parsed override value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Duration(Duration),
    Bool(bool),
    Int(u64),
    Float(f64),
}

/// Parses `"500ms"`, `"15s"`, `"2m"`, `"1h"` (also `"1.5s"`, and sums such as `"1m30s"`)
/// into a Duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an empty duration: write e.g. \"15s\"".into());
    }
    let mut rest = s;
    let mut total_ms = 0.0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{s}` has no unit: write e.g. \"{s}s\" or \"{s}ms\""))?;
        let (num, tail) = rest.split_at(split);
        let n: f64 = num.parse().map_err(|_| {
            format!("`{s}` is not a duration: expected e.g. \"500ms\", \"15s\", \"2m\", \"1m30s\"")
        })?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        total_ms += match unit {
            "ms" => n,
            "s" => n * 1000.0,
            "m" | "min" => n * 60_000.0,
            "h" => n * 3_600_000.0,
            _ => {
                return Err(format!(
                    "unknown unit `{unit}` in `{s}`: expected ms, s, m or h"
                ))
            }
        };
        rest = next;
    }
    if !(total_ms.is_finite() && total_ms >= 0.0) {
        return Err(format!("`{s}` is not a valid duration"));
    }
    Ok(Duration::from_micros((total_ms * 1000.0).round() as u64))
}

/// Formats a duration the way scenarios write it ("500ms", "15s", "2m").
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms >= 60_000 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) && ms > 0 {
        format!("{}s", ms / 1000)
    } else if ms > 1000 {
        let s = format!("{:.3}", ms as f64 / 1000.0);
        format!("{}s", s.trim_end_matches('0'))
    } else {
        format!("{ms}ms")
    }
}

macro_rules! nacos_config {
    ($( $(#[doc = $doc:literal])* $field:ident : $kind:ident = $default:expr, $spec:literal; )*) => {
        /// Every timing constant and switch of the simulated Nacos 1.4.1 cluster.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Config {
            $( $(#[doc = $doc])* #[doc = concat!("Spec ", $spec, ".")] pub $field: nacos_config!(@ty $kind), )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $field: $default, )* }
            }
        }

        impl Config {
            /// Every key with its kind, spec section and one-line description (for errors and docs).
            pub const KEYS: &'static [(&'static str, Kind, &'static str, &'static str)] = &[
                $( (stringify!($field), Kind::$kind, $spec, concat!($($doc),*)), )*
            ];

            /// Applies one override, within the key's range ([`bound`]). The caller has
            /// already parsed the value to the key's kind.
            pub fn set(&mut self, key: &str, value: Value) -> Result<(), String> {
                if let Some((b, why)) = bound(key) {
                    b.check(value).map_err(|range| {
                        format!("`{key}` = {} is out of range: {range} ({why})", show_value(value))
                    })?;
                }
                match key {
                    $( stringify!($field) => {
                        self.$field = nacos_config!(@get $kind, value, key)?;
                        Ok(())
                    } )*
                    _ => Err(format!("unknown config key `{key}`")),
                }
            }

            /// The current value of a key, formatted as a scenario would write it.
            pub fn get(&self, key: &str) -> Option<String> {
                match key {
                    $( stringify!($field) => Some(nacos_config!(@show $kind, self.$field)), )*
                    _ => None,
                }
            }
        }
    };
    (@ty Duration) => { Duration };
    (@ty Bool) => { bool };
    (@ty Int) => { u64 };
    (@ty Float) => { f64 };
    (@get Duration, $v:expr, $k:expr) => { match $v { Value::Duration(d) => Ok(d), _ => Err(format!("`{}` expects {}", $k, Kind::Duration)) } };
    (@get Bool, $v:expr, $k:expr) => { match $v { Value::Bool(b) => Ok(b), _ => Err(format!("`{}` expects {}", $k, Kind::Bool)) } };
    (@get Int, $v:expr, $k:expr) => { match $v { Value::Int(i) => Ok(i), _ => Err(format!("`{}` expects {}", $k, Kind::Int)) } };
    (@get Float, $v:expr, $k:expr) => { match $v { Value::Float(f) => Ok(f), Value::Int(i) => Ok(i as f64), _ => Err(format!("`{}` expects {}", $k, Kind::Float)) } };
    (@show Duration, $v:expr) => { fmt_duration($v) };
    (@show Bool, $v:expr) => { $v.to_string() };
    (@show Int, $v:expr) => { $v.to_string() };
    (@show Float, $v:expr) => { format!("{:?}", $v) };
}

/// A value as a scenario writes it.
fn show_value(v: Value) -> String {
    match v {
        Value::Duration(d) => bounds::show_dur(d),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
    }
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

nacos_config! {
    // --- instance timing (§1, §3, §8) ---
    /// Default client heartbeat period (`preserved.heart.beat.interval` overrides per instance).
    heartbeat_interval: Duration = ms(5000), "§3";
    /// An instance turns unhealthy when now - lastBeat is strictly greater than this.
    heartbeat_timeout: Duration = ms(15000), "§3, §8";
    /// An instance is deleted when now - lastBeat is strictly greater than this.
    ip_delete_timeout: Duration = ms(30000), "§3, §8";
    /// First run of a service's ClientBeatCheckTask after the service is created.
    beat_check_initial_delay: Duration = ms(5000), "§3";
    /// Fixed delay between ClientBeatCheckTask runs.
    beat_check_period: Duration = ms(5000), "§3";
    /// Switch clientBeatInterval: the beat period a server tells clients.
    client_beat_interval: Duration = ms(5000), "§3, §8";
    /// Switch lightBeatEnabled, returned in beat replies.
    light_beat_enabled: Bool = true, "§3";
    /// checkTimes: consecutive probe results needed to flip a persistent instance's health
    /// (a refused connect needs only one to make it unhealthy).
    health_check_times: Int = 3, "§3, §8";
    /// TCP probe connect timeout (TcpSuperSenseProcessor.CONNECT_TIMEOUT_MS).
    tcp_probe_connect_timeout: Duration = ms(500), "§3, §8";
    /// tcpHealthParams min: the shortest probe interval (checkRtNormalized's floor).
    tcp_probe_interval_min: Duration = ms(1000), "§3, §8";
    /// tcpHealthParams max: the longest probe interval, the rt of a refused or failed probe,
    /// and the bound of the first delay's random part.
    tcp_probe_interval_max: Duration = ms(5000), "§3, §8";
    /// tcpHealthParams factor: weight of the old interval when a probe's rt is folded in.
    tcp_probe_factor: Float = 0.75, "§3, §8";
    /// The fixed part of the first probe's delay (2000 + rand(0, rand(0, max))).
    tcp_probe_first_delay: Duration = ms(2000), "§3, §8";
    /// Switch healthCheckEnabled: the beat check runs at all.
    health_check_enabled: Bool = true, "§3, §8";
    /// GlobalConfig expireInstance: expired instances are deleted, not only marked unhealthy.
    expire_instance: Bool = true, "§3, §8";

    // --- push (§10) ---
    /// Switch pushEnabled.
    push_enabled: Bool = true, "§3";
    /// defaultCacheMillis: cacheMillis of a list reply without a push client.
    default_cache_millis: Duration = ms(3000), "§3, §11";
    /// defaultPushCacheMillis: cacheMillis with push, and the push-client zombie TTL.
    push_cache_millis: Duration = ms(10000), "§3, §10";
    /// Coalescing delay between serviceChanged and the push.
    push_delay: Duration = ms(1000), "§10";
    /// ACK_TIMEOUT: a push not acked within this is resent.
    push_ack_timeout: Duration = ms(10000), "§10";
    /// MAX_RETRY_TIMES: resends after the first send (1 = two sends in all).
    push_max_retry: Int = 1, "§10";
    /// Period of the zombie push-client sweep.
    push_zombie_sweep: Duration = ms(20000), "§10";

    // --- membership, Distro and health channel (§4-§7) ---
    /// First member report after boot.
    member_report_initial: Duration = ms(5000), "§4";
    /// Delay between member reports.
    member_report_period: Duration = ms(2000), "§4";
    /// A member is DOWN once its failure count is greater than this.
    member_fail_limit: Int = 3, "§4";
    /// Read timeout of a member report (DefaultHttpClientFactory); its connect timeout is
    /// `server_connect_timeout`.
    member_report_read_timeout: Duration = ms(2500), "§3, §4";
    /// Distro sync delay (taskDispatchPeriod / 2).
    distro_sync_delay: Duration = ms(1000), "§6";
    /// Distro retry delay after a failed sync.
    distro_retry_delay: Duration = ms(5000), "§6";
    /// Distro checksum verify period (first run after the same delay).
    distro_verify_period: Duration = ms(5000), "§6";
    /// Distro startup-load retry delay.
    distro_load_retry: Duration = ms(30000), "§6";
    /// Distro combined-batch key limit.
    distro_batch_keys: Int = 1000, "§6";
    /// Delay-task engine scan interval.
    delay_engine_scan: Duration = ms(100), "§6";
    /// Processors of a server (`Runtime.availableProcessors()`): Distro runs its sync
    /// pipeline on the smallest power of two ≥ this of execute workers, one FIFO each.
    server_cores: Int = 2, "§3, §6";
    /// EmptyServiceAutoClean: on (the shipped application.properties turns it on).
    empty_service_clean: Bool = true, "§6";
    /// EmptyServiceAutoClean's first run after start (shipped: 50 s).
    empty_service_clean_initial: Duration = ms(50000), "§6";
    /// EmptyServiceAutoClean's period (shipped: 30 s).
    empty_service_clean_period: Duration = ms(30000), "§6";
    /// A service is removed on the pass after its count of empty passes exceeds this.
    empty_service_finalize_count: Int = 3, "§6";
    /// ServiceReporter first run after boot.
    service_status_initial: Duration = ms(60000), "§7";
    /// ServiceReporter period.
    service_status_period: Duration = ms(5000), "§7";

    // --- server HTTP timeouts (§3, §5) ---
    /// DistroFilter proxy connect timeout.
    distro_proxy_connect_timeout: Duration = ms(2000), "§5";
    /// DistroFilter proxy read timeout.
    distro_proxy_read_timeout: Duration = ms(2000), "§5";
    /// Server internal HTTP connect timeout.
    server_connect_timeout: Duration = ms(5000), "§3";
    /// Server internal HTTP read timeout.
    server_read_timeout: Duration = ms(10000), "§3";

    // --- legacy Raft (§9) ---
    /// Raft election tick.
    raft_tick: Duration = ms(500), "§9";
    /// Raft leader timeout (base of the election due).
    raft_leader_timeout: Duration = ms(15000), "§9";
    /// Raft random part of the election due.
    raft_random: Duration = ms(5000), "§9";
    /// Raft leader heartbeat period.
    raft_heartbeat: Duration = ms(5000), "§9";
    /// Raft publish majority wait.
    raft_publish_timeout: Duration = ms(5000), "§9";
    /// Raft: keys a follower fetches per `GET /raft/datum` after a beat.
    raft_fetch_batch: Int = 50, "§3, §9";
    /// Raft: pause after each beat-fetch batch.
    raft_fetch_pause: Duration = ms(200), "§3, §9";

    // --- JRaft (nacos-jraft-spec §J4.3, §J13.6) ---
    /// JRaft election timeout (Nacos uses at least 5 s); heartbeat, lease and step-down
    /// period derive from it in sofa-jraft.
    jraft_election_timeout: Duration = ms(5000), "§J4.3";
    /// JRaft random extra on each arming of the election and vote timers: uniform in [0, this).
    jraft_max_election_delay: Duration = ms(1000), "§J4.3";
    /// JRaft replicator heartbeat period (election timeout / 10).
    jraft_heartbeat: Duration = ms(500), "§J4.3";
    /// JRaft leader lease as a share of the election timeout (0.9: 4.5 s).
    jraft_lease_ratio: Float = 0.9, "§J4.3, §J5.5";
    /// JRaft default RPC timeout (entries, probes, a forwarded read index) and Nacos's own.
    jraft_rpc_timeout: Duration = ms(5000), "§J4.3";
    /// JRaft connect timeout of its RPC client (sofa-jraft's default, UNVERIFIED in Nacos).
    jraft_connect_timeout: Duration = ms(1000), "§J4.3";
    /// First refresh of the JRaft route table after the group is created.
    jraft_route_refresh_initial: Duration = ms(5000), "§J4.3, §J6.3";
    /// Route-table refresh period: 5 s plus a uniform draw in [0, this), once per boot.
    jraft_route_refresh_jitter: Duration = ms(5000), "§J4.3, §J6.3";
    /// How long JRaftProtocol.write waits for a write's result.
    jraft_write_wait: Duration = ms(10000), "§J4.3, §J6.1";
    /// How long JRaftProtocol.getData waits for a read.
    jraft_read_wait: Duration = ms(5000), "§J4.3, §J7.1";
    /// ClusterVersionJudgement: first run after boot and period (re-armed after each run).
    version_judge_period: Duration = ms(5000), "§J1.1";
    /// ServerStatusUpdater period (first run at boot).
    server_status_period: Duration = ms(5000), "§J9.1";

    // --- client (§13) ---
    /// Client HTTP connect timeout.
    client_connect_timeout: Duration = ms(3000), "§3, §13";
    /// Client HTTP read timeout.
    client_read_timeout: Duration = ms(50000), "§3, §13";
    /// Tries against a single configured server (domain mode).
    client_domain_retry: Int = 3, "§13";
    /// HostReactor DEFAULT_DELAY: first UpdateTask run after a service is first queried.
    client_update_delay: Duration = ms(1000), "§13";
    /// HostReactor UPDATE_HOLD_INTERVAL: how long getServiceInfo waits for an update in flight.
    client_update_hold: Duration = ms(5000), "§13";
    /// HostReactor failCount cap.
    client_fail_cap: Int = 6, "§13";
    /// HostReactor maximum update delay.
    client_max_update_delay: Duration = ms(60000), "§13";
    /// HostReactor pushEmptyProtection: a list with no healthy, positive-weight host never
    /// replaces the cache (what-if for a consumer whose server restarted empty; the 1.4.1
    /// client has the switch, off by default).
    client_push_empty_protection: Bool = false, "§13";

    // --- what-if switches (issue 13): each a proposed fix, off = Nacos 1.4.1 as it is ---
    /// What-if: lastBeat handover. A server that becomes the owner of a service judges the
    /// instances it inherits from the moment it took over (one heartbeat timeout of grace),
    /// not by the lastBeat of the last Distro put (flaw §16.2: live instances deleted).
    whatif_beat_handover: Bool = false, "§8, §16.2 (what-if)";
    /// What-if: ownership check on receive. A server ignores Distro sync data for keys it
    /// owns (flaw §6, §16.1: no ownership check, the last arrival wins even at the owner).
    whatif_distro_owner_check: Bool = false, "§6, §16.1 (what-if)";
    /// What-if: versioned Distro data. A local write of an ephemeral key stores the held
    /// datum timestamp + 1 instead of 1, and a receiver ignores data older than what it holds
    /// (flaw §6, §16: every timestamp is 1, so the last arrival wins, even a stale one).
    whatif_distro_versions: Bool = false, "§6, §16 (what-if)";
    /// What-if: persisted legacy-Raft votes. The term and the vote cast in it are written
    /// before a vote is answered, and reloaded at boot (flaw §9, §16.4: only the term is
    /// stored, only with data, so a restarted node votes or stands again in an old term).
    whatif_raft_persist_votes: Bool = false, "§9, §16.4 (what-if)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_spec_constants() {
        let c = Config::default();
        // spec §3: 5000 / 15000 / 30000
        assert_eq!(c.heartbeat_interval, ms(5000));
        assert_eq!(c.heartbeat_timeout, ms(15000));
        assert_eq!(c.ip_delete_timeout, ms(30000));
        // spec §10: 1 s push delay, 10 s ack timeout, two sends
        assert_eq!(c.push_delay, ms(1000));
        assert_eq!(c.push_ack_timeout, ms(10000));
        assert_eq!(c.push_max_retry, 1);
        // spec §13: HostReactor 1000 / 60000 / cap 6
        assert_eq!(c.client_update_delay, ms(1000));
        assert_eq!(c.client_max_update_delay, ms(60000));
        assert_eq!(c.client_fail_cap, 6);
        // spec §3: member report read 2500; Raft beat fetch in batches of 50, 200 ms apart
        assert_eq!(c.member_report_read_timeout, ms(2500));
        assert_eq!(c.raft_fetch_batch, 50);
        assert_eq!(c.raft_fetch_pause, ms(200));
    }

    #[test]
    fn set_and_get_by_key() {
        let mut c = Config::default();
        c.set("heartbeat_timeout", Value::Duration(ms(3000)))
            .unwrap();
        assert_eq!(c.get("heartbeat_timeout").as_deref(), Some("3s"));
        assert!(c.set("heartbeat_timeout", Value::Bool(true)).is_err());
        assert!(c.set("no_such_key", Value::Bool(true)).is_err());
        c.set("light_beat_enabled", Value::Bool(false)).unwrap();
        assert!(!c.light_beat_enabled);
        assert_eq!(
            Config::KEYS.len(),
            Config::KEYS.iter().filter(|k| c.get(k.0).is_some()).count()
        );
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(parse_duration("500ms").unwrap(), ms(500));
        assert_eq!(parse_duration("15s").unwrap(), ms(15000));
        assert_eq!(parse_duration("2m").unwrap(), ms(120000));
        assert_eq!(parse_duration("1.5s").unwrap(), ms(1500));
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("15x").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_duration("1m30s").unwrap(), ms(90_000));
        assert_eq!(parse_duration("1h2m3s4ms").unwrap(), ms(3_723_004));
        assert!(parse_duration("1m30").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(fmt_duration(ms(120000)), "2m");
        assert_eq!(fmt_duration(ms(1500)), "1.5s");
        assert_eq!(fmt_duration(ms(15100)), "15.1s");
        assert_eq!(fmt_duration(ms(500)), "500ms");
        assert_eq!(fmt_duration(ms(15000)), "15s");
    }
}
