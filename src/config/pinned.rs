//! Every config default pinned to the value the spec gives for Nacos 1.4.1 (issue 14 part 1):
//! a default changed by accident fails here, with the spec line it should match.

use super::Config;

/// (key, default as `nacos-sim config` prints it, where the spec states it).
const PINNED: &[(&str, &str, &str)] = &[
    ("heartbeat_interval", "5s", "§3 DEFAULT_HEART_BEAT_INTERVAL"),
    ("heartbeat_timeout", "15s", "§3 DEFAULT_HEART_BEAT_TIMEOUT"),
    ("ip_delete_timeout", "30s", "§3 DEFAULT_IP_DELETE_TIMEOUT"),
    (
        "beat_check_initial_delay",
        "5s",
        "§3 ClientBeatCheckTask first run",
    ),
    (
        "beat_check_period",
        "5s",
        "§3 ClientBeatCheckTask fixed delay",
    ),
    ("client_beat_interval", "5s", "§3 clientBeatInterval"),
    ("light_beat_enabled", "true", "§3 lightBeatEnabled"),
    ("health_check_times", "3", "§3 checkTimes"),
    (
        "tcp_probe_connect_timeout",
        "500ms",
        "§3, §8 TCP probe connect timeout",
    ),
    (
        "tcp_probe_interval_min",
        "1s",
        "§3, §8 TCP probe interval min",
    ),
    (
        "tcp_probe_interval_max",
        "5s",
        "§3, §8 TCP probe interval max",
    ),
    ("tcp_probe_factor", "0.75", "§3, §8 TCP probe factor"),
    (
        "tcp_probe_first_delay",
        "2s",
        "§3, §8 TCP probe first delay",
    ),
    (
        "member_report_read_timeout",
        "2.5s",
        "§3, §4 member report HTTP read",
    ),
    (
        "server_cores",
        "2",
        "§3 Distro execute workers: W from #cores (a 2-core server, not a Nacos constant)",
    ),
    ("raft_fetch_batch", "50", "§3, §9 beat-fetch batch size"),
    ("raft_fetch_pause", "200ms", "§3, §9 sleep after each fetch"),
    ("health_check_enabled", "true", "§3 healthCheckEnabled"),
    ("expire_instance", "true", "§3 expireInstance"),
    ("push_enabled", "true", "§3 pushEnabled"),
    ("default_cache_millis", "3s", "§3 defaultCacheMillis"),
    ("push_cache_millis", "10s", "§3 defaultPushCacheMillis"),
    ("push_delay", "1s", "§3, §10 push delay"),
    ("push_ack_timeout", "10s", "§3, §10 ACK_TIMEOUT_NANOS"),
    ("push_max_retry", "1", "§3, §10 MAX_RETRY_TIMES"),
    ("push_zombie_sweep", "20s", "§3, §10 zombie sweep"),
    (
        "member_report_initial",
        "5s",
        "§3, §4 member report first at",
    ),
    ("member_report_period", "2s", "§3, §4 member report every"),
    ("member_fail_limit", "3", "§3, §4 DOWN once count > 3"),
    ("distro_sync_delay", "1s", "§3 taskDispatchPeriod/2"),
    ("distro_retry_delay", "5s", "§3 syncRetryDelay"),
    ("distro_verify_period", "5s", "§3 DistroConfig verify"),
    ("distro_load_retry", "30s", "§3 loadDataRetryDelayMillis"),
    ("distro_batch_keys", "1000", "§3 batchSyncKeyCount"),
    (
        "delay_engine_scan",
        "100ms",
        "§3 delay-engine scan interval",
    ),
    (
        "empty_service_clean",
        "true",
        "§3 empty-service clean, shipped conf",
    ),
    (
        "empty_service_clean_initial",
        "50s",
        "§3 empty-service clean initial, shipped conf",
    ),
    (
        "empty_service_clean_period",
        "30s",
        "§3 empty-service clean period, shipped conf",
    ),
    ("empty_service_finalize_count", "3", "§3 finalizeCount > 3"),
    (
        "service_status_initial",
        "1m",
        "§3 ServiceReporter first run",
    ),
    ("service_status_period", "5s", "§3 ServiceReporter period"),
    (
        "distro_proxy_connect_timeout",
        "2s",
        "§3 DistroFilter proxy connect",
    ),
    (
        "distro_proxy_read_timeout",
        "2s",
        "§3 DistroFilter proxy read",
    ),
    (
        "server_connect_timeout",
        "5s",
        "§3 server internal HTTP connect",
    ),
    ("server_read_timeout", "10s", "§3 server internal HTTP read"),
    ("raft_tick", "500ms", "§3 TICK_PERIOD_MS"),
    ("raft_leader_timeout", "15s", "§3 LEADER_TIMEOUT_MS"),
    ("raft_random", "5s", "§3 RANDOM_MS"),
    ("raft_heartbeat", "5s", "§3 HEARTBEAT_INTERVAL_MS"),
    ("raft_publish_timeout", "5s", "§3 RAFT_PUBLISH_TIMEOUT"),
    ("jraft_election_timeout", "5s", "§J4.3 election timeout"),
    ("jraft_max_election_delay", "1s", "§J4.3 max election delay"),
    ("jraft_heartbeat", "500ms", "§J4.3 heartbeat"),
    ("jraft_lease_ratio", "0.9", "§J4.3 leader lease ratio"),
    ("jraft_rpc_timeout", "5s", "§J4.3 rpc timeout"),
    ("jraft_connect_timeout", "1s", "§J4.3 connect timeout"),
    (
        "jraft_route_refresh_initial",
        "5s",
        "§J4.3, §J6.3 route refresh first",
    ),
    (
        "jraft_route_refresh_jitter",
        "5s",
        "§J4.3, §J6.3 route refresh jitter",
    ),
    ("jraft_write_wait", "10s", "§J4.3, §J6.1 write wait"),
    ("jraft_read_wait", "5s", "§J4.3, §J7.1 read wait"),
    (
        "version_judge_period",
        "5s",
        "§3, §J1.1 version judge period",
    ),
    (
        "server_status_period",
        "5s",
        "§3, §J9.1 ServerStatusUpdater",
    ),
    ("client_connect_timeout", "3s", "§3 client HTTP connect"),
    ("client_read_timeout", "50s", "§3 client HTTP read"),
    ("client_domain_retry", "3", "§3 client domain retry count"),
    ("client_update_delay", "1s", "§3 HostReactor DEFAULT_DELAY"),
    ("client_update_hold", "5s", "§3 UPDATE_HOLD_INTERVAL"),
    ("client_fail_cap", "6", "§3 failCount cap"),
    ("client_max_update_delay", "1m", "§3 max delay"),
    (
        "client_push_empty_protection",
        "false",
        "§13 push-empty protection (off in 1.4.1)",
    ),
    (
        "whatif_beat_handover",
        "false",
        "what-if, off: Nacos 1.4.1 as it is (§8, §16.2)",
    ),
    (
        "whatif_distro_owner_check",
        "false",
        "what-if, off: Nacos 1.4.1 as it is (§6, §16.1)",
    ),
    (
        "whatif_distro_versions",
        "false",
        "what-if, off: Nacos 1.4.1 as it is (§6: every datum has timestamp 1, §16)",
    ),
    (
        "whatif_raft_persist_votes",
        "false",
        "what-if, off: Nacos 1.4.1 as it is (§9, §16.4)",
    ),
];

#[test]
fn every_default_is_the_value_the_spec_gives() {
    let d = Config::default();
    for (key, want, spec) in PINNED {
        let got = d
            .get(key)
            .unwrap_or_else(|| panic!("`{key}` is pinned but is no config key"));
        assert_eq!(&got, want, "`{key}`: the default must be {want} ({spec})");
    }
}

#[test]
fn every_key_is_pinned() {
    for (key, ..) in Config::KEYS {
        assert!(
            PINNED.iter().any(|p| p.0 == *key),
            "`{key}` has no pinned default: add it to config/pinned.rs with its spec section"
        );
    }
}
