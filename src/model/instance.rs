//! One registered instance (spec §1): defaults, identity and sort keys,
//! timing overrides, weight clamp and the legacy string form.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::javafmt::java_split;
/// Java number formatting lives in `javafmt.rs`; re-exported here.
pub use super::javafmt::{java_double, java_float};

/// Virtual epoch milliseconds.
pub type Millis = i64;

/// spec §1: default cluster name.
pub const DEFAULT_CLUSTER: &str = "DEFAULT";
/// spec §1 / §3: `UtilsAndCommons.LOCALHOST_SITE`, the fixed site part of a datumKey.
const UNKNOWN_SITE: &str = "unknown";
/// spec §1: per-instance timing metadata keys.
pub const META_HEART_BEAT_INTERVAL: &str = "preserved.heart.beat.interval";
pub const META_HEART_BEAT_TIMEOUT: &str = "preserved.heart.beat.timeout";
pub const META_IP_DELETE_TIMEOUT: &str = "preserved.ip.delete.timeout";
pub const META_INSTANCE_ID_GENERATOR: &str = "preserved.instance.id.generator";

/// spec §1: weight bounds used by the clamp.
const MAX_WEIGHT: f64 = 10000.0;
const MIN_POSITIVE_WEIGHT: f64 = 0.01;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub instance_id: String,
    pub ip: String,
    pub port: u16,
    pub weight: f64,
    pub healthy: bool,
    pub enabled: bool,
    pub ephemeral: bool,
    pub cluster_name: String,
    /// Grouped name, `group@@name`.
    pub service_name: String,
    pub metadata: BTreeMap<String, String>,
    pub marked: bool,
    pub last_beat: Millis,
}

impl Instance {
    /// spec §1 defaults: weight 1.0, healthy, enabled, ephemeral, not marked,
    /// lastBeat = creation time, instanceId from the `simple` generator.
    pub fn new(ip: &str, port: u16, cluster: &str, grouped_service: &str, now: Millis) -> Instance {
        let mut inst = Instance {
            instance_id: String::new(),
            ip: ip.to_string(),
            port,
            weight: 1.0,
            healthy: true,
            enabled: true,
            ephemeral: true,
            cluster_name: cluster.to_string(),
            service_name: grouped_service.to_string(),
            metadata: BTreeMap::new(),
            marked: false,
            last_beat: now,
        };
        inst.instance_id = inst.simple_instance_id();
        inst
    }

    /// spec §1: the `simple` id generator, `ip#port#clusterName#groupedServiceName`.
    pub fn simple_instance_id(&self) -> String {
        format!(
            "{}#{}#{}#{}",
            self.ip, self.port, self.cluster_name, self.service_name
        )
    }

    /// `ip:port`, the key that cluster-level diffs match on (spec §1).
    pub fn ip_port(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// spec §1: `ip:port:unknown:cluster`, or `ip:unknown:cluster` when port ≤ 0.
    pub fn datum_key(&self) -> String {
        if self.port > 0 {
            format!(
                "{}:{}:{}:{}",
                self.ip, self.port, UNKNOWN_SITE, self.cluster_name
            )
        } else {
            format!("{}:{}:{}", self.ip, UNKNOWN_SITE, self.cluster_name)
        }
    }

    /// spec §1 sort key: `{datumKey}_{weight}_{healthy}_{marked}_{cluster}`,
    /// weight printed as Java `Double.toString`.
    pub fn java_to_string(&self) -> String {
        format!(
            "{}_{}_{}_{}_{}",
            self.datum_key(),
            java_double(self.weight),
            self.healthy,
            self.marked,
            self.cluster_name
        )
    }

    /// spec §1: `preserved.heart.beat.interval` override, else `default`.
    pub fn heartbeat_interval(&self, default: Millis) -> Millis {
        self.meta_millis(META_HEART_BEAT_INTERVAL, default)
    }

    /// spec §1: `preserved.heart.beat.timeout` override, else `default`.
    pub fn heartbeat_timeout(&self, default: Millis) -> Millis {
        self.meta_millis(META_HEART_BEAT_TIMEOUT, default)
    }

    /// spec §1: `preserved.ip.delete.timeout` override, else `default`.
    pub fn ip_delete_timeout(&self, default: Millis) -> Millis {
        self.meta_millis(META_IP_DELETE_TIMEOUT, default)
    }

    /// spec §1: a metadata value overrides only when it matches `^\d+$`.
    /// A digit string too large for a Java long would throw in Nacos; here it
    /// falls back to the default.
    fn meta_millis(&self, key: &str, default: Millis) -> Millis {
        match self.metadata.get(key) {
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                v.parse::<Millis>().unwrap_or(default)
            }
            _ => default,
        }
    }
}

/// spec §1: weight clamp applied in `fromJson` and `Service.onChange`:
/// above 10000 → 10000, strictly between 0 and 0.01 → 0.01, below 0 → 0.
pub fn clamp_weight(w: f64) -> f64 {
    if w > MAX_WEIGHT {
        MAX_WEIGHT
    } else if w > 0.0 && w < MIN_POSITIVE_WEIGHT {
        MIN_POSITIVE_WEIGHT
    } else if w < 0.0 {
        0.0
    } else {
        w
    }
}

/// Legacy string form accepted by `Instance.fromJson` when the text is not
/// JSON (spec §15 InstanceTest): `ip[:port][_weight[_valid][_marked][_cluster]]`.
///
/// Rules (behaviour of Nacos' `fromString`):
/// - the address must match `(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):?(\d{1,5})?`
///   in full; no port group → port 0;
/// - a weight that does not parse becomes 1.0;
/// - with ≥ 3 parts, part 3 sets `healthy` when it is `true`/`false`, and the
///   last part is the cluster unless it is `true`/`false`;
/// - with ≥ 4 parts, part 4 sets `marked` when it is `true`/`false`.
///
/// The weight is then clamped as `fromJson` does. The service name is unknown
/// here, so it is left empty and the id is the `simple` id with that empty name.
pub fn parse_legacy(s: &str, now: Millis) -> Option<Instance> {
    let parts = java_split(s, "_");
    let (ip, port) = match_legacy_address(parts.first()?)?;
    let mut inst = Instance::new(&ip, port, DEFAULT_CLUSTER, "", now);
    if parts.len() > 1 {
        inst.weight = parts[1].trim().parse::<f64>().unwrap_or(1.0);
    }
    if parts.len() > 2 {
        if let Some(b) = parse_java_bool(parts[2]) {
            inst.healthy = b;
        }
        let last = parts[parts.len() - 1];
        if parse_java_bool(last).is_none() {
            inst.cluster_name = last.to_string();
        }
    }
    if parts.len() > 3 {
        if let Some(b) = parse_java_bool(parts[3]) {
            inst.marked = b;
        }
    }
    inst.weight = clamp_weight(inst.weight);
    inst.instance_id = inst.simple_instance_id();
    Some(inst)
}

fn parse_java_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Full match of `(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):?(\d{1,5})?` with
/// greedy semantics: without a colon, the last octet takes up to 3 digits and
/// the remaining digits are the port.
fn match_legacy_address(s: &str) -> Option<(String, u16)> {
    let (addr, port_str) = match s.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let octets: Vec<&str> = addr.split('.').collect();
    if octets.len() != 4 || octets.iter().any(|o| o.is_empty() || !all_digits(o)) {
        return None;
    }
    let last = octets[3];
    let (last_octet, port_digits) = match port_str {
        Some(p) => (last, p),
        None => last.split_at(last.len().min(3)),
    };
    if last_octet.len() > 3 || octets[..3].iter().any(|o| o.len() > 3) {
        return None;
    }
    if port_digits.len() > 5 || !all_digits(port_digits) {
        return None;
    }
    let port = if port_digits.is_empty() {
        0
    } else {
        port_digits.parse::<u16>().ok()?
    };
    let ip = format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], last_octet);
    Some((ip, port))
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_simple_instance_id() {
        // spec §1 defaults
        let i = Instance::new("1.1.1.1", 8080, "DEFAULT", "DEFAULT_GROUP@@demo", 42);
        assert_eq!(i.instance_id, "1.1.1.1#8080#DEFAULT#DEFAULT_GROUP@@demo");
        assert_eq!(i.weight, 1.0);
        assert!(i.healthy && i.enabled && i.ephemeral && !i.marked);
        assert_eq!(i.last_beat, 42);
        assert_eq!(i.ip_port(), "1.1.1.1:8080");
        assert_eq!(i.heartbeat_interval(5000), 5000);
        assert_eq!(i.heartbeat_timeout(15000), 15000);
        assert_eq!(i.ip_delete_timeout(30000), 30000);
    }

    #[test]
    fn datum_key_and_sort_key() {
        let mut i = Instance::new("1.1.1.1", 8080, "c1", "g@@s", 0);
        assert_eq!(i.datum_key(), "1.1.1.1:8080:unknown:c1");
        assert_eq!(
            i.java_to_string(),
            "1.1.1.1:8080:unknown:c1_1.0_true_false_c1"
        );
        i.port = 0;
        i.weight = 0.5;
        i.healthy = false;
        assert_eq!(i.datum_key(), "1.1.1.1:unknown:c1");
        assert_eq!(i.java_to_string(), "1.1.1.1:unknown:c1_0.5_false_false_c1");
    }

    #[test]
    fn metadata_overrides_only_when_all_digits() {
        let mut i = Instance::new("1.1.1.1", 1, "DEFAULT", "g@@s", 0);
        i.metadata
            .insert(META_HEART_BEAT_TIMEOUT.into(), "3".into());
        i.metadata
            .insert(META_HEART_BEAT_INTERVAL.into(), "-5".into());
        i.metadata
            .insert(META_IP_DELETE_TIMEOUT.into(), "9s".into());
        assert_eq!(i.heartbeat_timeout(15000), 3);
        assert_eq!(i.heartbeat_interval(5000), 5000);
        assert_eq!(i.ip_delete_timeout(30000), 30000);
        i.metadata
            .insert(META_IP_DELETE_TIMEOUT.into(), String::new());
        assert_eq!(i.ip_delete_timeout(30000), 30000);
        i.metadata
            .insert(META_IP_DELETE_TIMEOUT.into(), "99999999999999999999".into());
        assert_eq!(i.ip_delete_timeout(30000), 30000);
    }

    #[test]
    fn weight_clamp() {
        assert_eq!(clamp_weight(20000.0), 10000.0);
        assert_eq!(clamp_weight(0.001), 0.01);
        assert_eq!(clamp_weight(-3.0), 0.0);
        assert_eq!(clamp_weight(0.0), 0.0);
        assert_eq!(clamp_weight(0.01), 0.01);
        assert_eq!(clamp_weight(2.5), 2.5);
    }

    #[test]
    fn legacy_string_forms() {
        // spec §15 InstanceTest
        let i = parse_legacy("2.2.2.2:8888_2_TEST1", 7).unwrap();
        assert_eq!((i.ip.as_str(), i.port), ("2.2.2.2", 8888));
        assert_eq!(i.weight, 2.0);
        assert_eq!(i.cluster_name, "TEST1");
        assert_eq!(i.last_beat, 7);

        let i = parse_legacy("1.2.3.4:80", 0).unwrap();
        assert_eq!(
            (i.port, i.weight, i.cluster_name.as_str()),
            (80, 1.0, "DEFAULT")
        );
        let i = parse_legacy("1.2.3.4:80_0.5", 0).unwrap();
        assert_eq!(i.weight, 0.5);
        let i = parse_legacy("1.2.3.4:80_3_false_true_c2", 0).unwrap();
        assert!(!i.healthy && i.marked);
        assert_eq!(i.cluster_name, "c2");
        let i = parse_legacy("1.2.3.4:80_x_true", 0).unwrap();
        assert_eq!((i.weight, i.cluster_name.as_str()), (1.0, "DEFAULT"));
        let i = parse_legacy("1.2.3.4", 0).unwrap();
        assert_eq!(i.port, 0);
        // greedy octet: last octet takes three digits, the rest is the port
        let i = parse_legacy("1.2.3.4567", 0).unwrap();
        assert_eq!((i.ip.as_str(), i.port), ("1.2.3.456", 7));

        assert!(parse_legacy("host:80", 0).is_none());
        assert!(parse_legacy("1.2.3:80", 0).is_none());
        assert!(parse_legacy("1.2.3.4444:80", 0).is_none());
        assert!(parse_legacy("1.2.3.4:123456", 0).is_none());
        assert!(parse_legacy("1.2.3.4:99999", 0).is_none());
        assert!(parse_legacy("", 0).is_none());
    }
}
