//! Service and cluster (spec §1), the service checksum (spec §2, `Service.recalculateChecksum`)
//! and applying an instance-list change (spec §6 "Applying a change": `Service.onChange` →
//! `Cluster.updateIps`).

use super::checksum::{java_hashmap_order, md5_hex, sorted_by_java_string};
use super::instance::{clamp_weight, java_double, java_float, Instance, Millis, DEFAULT_CLUSTER};
use super::keys::{split_grouped, DEFAULT_GROUP};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// spec §1 Cluster: `defCkport` 80, `defIPPort` 80, `useIPPort4Check` true,
/// `sitegroup` "", health checker TCP (implicit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub ephemeral: Vec<Instance>,
    pub persistent: Vec<Instance>,
    pub def_ck_port: u16,
    pub def_ip_port: u16,
    pub use_ip_port_for_check: bool,
    pub sitegroup: String,
}

impl Cluster {
    pub fn new(name: &str) -> Cluster {
        Cluster {
            name: name.to_string(),
            ephemeral: Vec::new(),
            persistent: Vec::new(),
            def_ck_port: 80,
            def_ip_port: 80,
            use_ip_port_for_check: true,
            sitegroup: String::new(),
        }
    }

    /// The set of one kind.
    pub fn kind(&self, ephemeral: bool) -> &Vec<Instance> {
        if ephemeral {
            &self.ephemeral
        } else {
            &self.persistent
        }
    }

    fn kind_mut(&mut self, ephemeral: bool) -> &mut Vec<Instance> {
        if ephemeral {
            &mut self.ephemeral
        } else {
            &mut self.persistent
        }
    }

    /// spec §6 `Cluster.updateIps`: replace the kind's set with `incoming`.
    /// An instance present before and after (same ip, port and ephemeral flag,
    /// i.e. Java `equals` without the port-0 wildcard) whose `toString`
    /// changed and which is not marked keeps its previous `healthy`.
    /// Everything else, `lastBeat` included, comes from `incoming`.
    fn update_ips(&mut self, incoming: Vec<Instance>, ephemeral: bool, diff: &mut UpdateDiff) {
        let old = std::mem::take(self.kind_mut(ephemeral));
        let same = |a: &Instance, b: &Instance| {
            a.ip == b.ip && a.port == b.port && a.ephemeral == b.ephemeral
        };
        let mut next: Vec<Instance> = Vec::with_capacity(incoming.len());
        for mut inst in incoming {
            // The Java set (HashSet of the list) keeps the first of duplicates.
            if next.iter().any(|n| same(n, &inst)) {
                continue;
            }
            match old.iter().find(|o| same(o, &inst)) {
                Some(prev) => {
                    // spec §6: health never travels through a datum update.
                    if !inst.marked && inst.java_to_string() != prev.java_to_string() {
                        inst.healthy = prev.healthy;
                    }
                    if inst.healthy != prev.healthy {
                        diff.health_changed.push(inst.ip_port());
                    }
                }
                None => diff.added.push(inst.ip_port()),
            }
            next.push(inst);
        }
        for prev in &old {
            if !next.iter().any(|n| same(n, prev)) {
                diff.removed.push(prev.ip_port());
            }
        }
        *self.kind_mut(ephemeral) = next;
    }
}

/// What an update changed, as sorted `ip:port` strings, so the caller can emit
/// events. An instance that moved between clusters appears in both `added`
/// and `removed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub health_changed: Vec<String>,
}

impl UpdateDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.health_changed.is_empty()
    }
}

/// spec §1 Service. `clusters` is keyed by name; the Java HashMap order that
/// the checksum needs is derived by `checksum::java_hashmap_order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Grouped name, `group@@name`.
    pub name: String,
    pub group_name: String,
    pub namespace_id: String,
    pub protect_threshold: f32,
    pub metadata: BTreeMap<String, String>,
    pub enabled: bool,
    pub clusters: BTreeMap<String, Cluster>,
    pub checksum: String,
    pub last_modified: Millis,
}

impl Service {
    /// spec §1 defaults: protect threshold 0.0, enabled, no clusters. The group
    /// comes from the grouped name (`DEFAULT_GROUP` when it has no `@@`); the
    /// checksum is computed at once; `last_modified` starts at 0.
    pub fn new(namespace_id: &str, grouped_name: &str) -> Service {
        let group_name = split_grouped(grouped_name)
            .map(|(g, _)| g)
            .unwrap_or_else(|| DEFAULT_GROUP.to_string());
        let mut svc = Service {
            name: grouped_name.to_string(),
            group_name,
            namespace_id: namespace_id.to_string(),
            protect_threshold: 0.0,
            metadata: BTreeMap::new(),
            enabled: true,
            clusters: BTreeMap::new(),
            checksum: String::new(),
            last_modified: 0,
        };
        svc.recalculate_checksum();
        svc
    }

    /// Every instance of every cluster (cluster name order; ephemeral, then
    /// persistent within a cluster).
    pub fn all_instances(&self) -> Vec<&Instance> {
        self.clusters
            .values()
            .flat_map(|c| c.ephemeral.iter().chain(c.persistent.iter()))
            .collect()
    }

    /// Copies of every instance of one kind, in cluster name order.
    pub fn instances(&self, ephemeral: bool) -> Vec<Instance> {
        self.clusters
            .values()
            .flat_map(|c| c.kind(ephemeral).iter().cloned())
            .collect()
    }

    /// True when no cluster holds any instance.
    pub fn is_empty(&self) -> bool {
        self.clusters
            .values()
            .all(|c| c.ephemeral.is_empty() && c.persistent.is_empty())
    }

    /// spec §2 `Service.recalculateChecksum`.
    pub fn recalculate_checksum(&mut self) {
        self.checksum = service_checksum(self);
    }

    /// Instances of one kind matching ip and port, optionally only in `cluster`.
    pub fn find_mut(
        &mut self,
        ip: &str,
        port: u16,
        cluster: Option<&str>,
        ephemeral: bool,
    ) -> Vec<&mut Instance> {
        self.clusters
            .values_mut()
            .filter(|c| cluster.is_none_or(|name| c.name == name))
            .flat_map(|c| c.kind_mut(ephemeral).iter_mut())
            .filter(|i| i.ip == ip && i.port == port)
            .collect()
    }

    /// spec §6 "Applying a change" (`Service.onChange` + `Cluster.updateIps`):
    /// - weights are clamped (spec §1), an empty cluster name becomes `DEFAULT`;
    /// - instances are grouped by cluster, creating missing clusters;
    /// - every existing cluster absent from `incoming` gets an empty list of
    ///   this kind, so the kind's set of every cluster is replaced;
    /// - then the checksum is recomputed and `last_modified = now`.
    pub fn update_ips(
        &mut self,
        incoming: Vec<Instance>,
        ephemeral: bool,
        now: Millis,
    ) -> UpdateDiff {
        let mut groups: BTreeMap<String, Vec<Instance>> = self
            .clusters
            .keys()
            .map(|name| (name.clone(), Vec::new()))
            .collect();
        for mut inst in incoming {
            inst.weight = clamp_weight(inst.weight);
            if inst.cluster_name.is_empty() {
                inst.cluster_name = DEFAULT_CLUSTER.to_string();
            }
            groups
                .entry(inst.cluster_name.clone())
                .or_default()
                .push(inst);
        }
        let mut diff = UpdateDiff::default();
        for (name, list) in groups {
            self.clusters
                .entry(name.clone())
                .or_insert_with(|| Cluster::new(&name))
                .update_ips(list, ephemeral, &mut diff);
        }
        diff.added.sort();
        diff.removed.sort();
        diff.health_changed.sort();
        self.last_modified = now;
        self.recalculate_checksum();
        diff
    }
}

/// spec §2 `Service.recalculateChecksum`: the service JSON, then every
/// instance sorted by `toString` as `{ip}:{port}_{weight}_{healthy}_{clusterName},`.
/// Includes `healthy`; excludes `enabled`, metadata and `lastBeat`.
pub fn service_checksum(svc: &Service) -> String {
    let mut text = service_string(svc);
    for i in sorted_by_java_string(svc.all_instances()) {
        let _ = write!(
            text,
            "{}:{}_{}_{}_{},",
            i.ip,
            i.port,
            java_double(i.weight),
            i.healthy,
            i.cluster_name
        );
    }
    md5_hex(&text)
}

/// spec §2 `getServiceString()`: compact JSON of a Java HashMap with key order
/// `invalidIPCount, name, ipCount, owners, protectThreshold, clusters, token`.
/// The model has no token, which is null by default and then omitted.
/// `owners` is always empty in the simulator.
fn service_string(svc: &Service) -> String {
    let all = svc.all_instances();
    let invalid = all.iter().filter(|i| !i.healthy).count();
    let mut out = format!(
        "{{\"invalidIPCount\":{},\"name\":{},\"ipCount\":{},\"owners\":[],\"protectThreshold\":{},\"clusters\":[",
        invalid,
        json_str(&svc.name),
        all.len(),
        java_float(svc.protect_threshold)
    );
    let names: Vec<&str> = svc.clusters.keys().map(String::as_str).collect();
    for (n, name) in java_hashmap_order(&names).into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&cluster_json(&svc.clusters[name]));
    }
    out.push_str("]}");
    out
}

/// spec §2: one cluster object, keys
/// `healthChecker, defIPPort, defCkport, name, useIPPort4Check, sitegroup`;
/// the health checker is always TCP (spec §1).
fn cluster_json(c: &Cluster) -> String {
    format!(
        "{{\"healthChecker\":{{\"type\":\"TCP\"}},\"defIPPort\":{},\"defCkport\":{},\"name\":{},\"useIPPort4Check\":{},\"sitegroup\":{}}}",
        c.def_ip_port,
        c.def_ck_port,
        json_str(&c.name),
        c.use_ip_port_for_check,
        json_str(&c.sitegroup)
    )
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: &str = "DEFAULT_GROUP@@demo";

    fn inst(ip: &str, port: u16, cluster: &str) -> Instance {
        Instance::new(ip, port, cluster, SVC, 0)
    }

    #[test]
    fn new_service_defaults() {
        let svc = Service::new("public", SVC);
        assert_eq!(svc.group_name, "DEFAULT_GROUP");
        assert_eq!(svc.protect_threshold, 0.0);
        assert!(svc.enabled && svc.clusters.is_empty() && svc.is_empty());
        assert_eq!(Service::new("ns", "g1@@x").group_name, "g1");
        assert_eq!(Service::new("ns", "plain").group_name, "DEFAULT_GROUP");
        let c = Cluster::new("c1");
        assert_eq!((c.def_ck_port, c.def_ip_port), (80, 80));
        assert!(c.use_ip_port_for_check && c.sitegroup.is_empty());
    }

    #[test]
    fn update_creates_clusters_and_reports_diff() {
        let mut svc = Service::new("public", SVC);
        let d = svc.update_ips(
            vec![inst("1.1.1.2", 80, "c1"), inst("1.1.1.1", 80, "DEFAULT")],
            true,
            7,
        );
        assert_eq!(d.added, vec!["1.1.1.1:80", "1.1.1.2:80"]);
        assert!(d.removed.is_empty() && d.health_changed.is_empty());
        assert_eq!(
            svc.clusters.keys().collect::<Vec<_>>(),
            vec!["DEFAULT", "c1"]
        );
        assert_eq!(svc.last_modified, 7);
        assert_eq!(svc.all_instances().len(), 2);
    }

    #[test]
    fn clusters_missing_from_incoming_are_emptied_per_kind() {
        let mut svc = Service::new("public", SVC);
        svc.update_ips(vec![inst("1.1.1.1", 80, "c1")], true, 1);
        let mut p = inst("2.2.2.2", 80, "c1");
        p.ephemeral = false;
        svc.update_ips(vec![p], false, 2);
        let d = svc.update_ips(vec![inst("3.3.3.3", 80, "c2")], true, 3);
        assert_eq!(d.added, vec!["3.3.3.3:80"]);
        assert_eq!(d.removed, vec!["1.1.1.1:80"]);
        assert!(svc.clusters["c1"].ephemeral.is_empty());
        // the persistent set of c1 is untouched by an ephemeral update
        assert_eq!(svc.clusters["c1"].persistent.len(), 1);
        assert_eq!(svc.instances(true).len(), 1);
        assert_eq!(svc.instances(false)[0].ip, "2.2.2.2");
        // an empty update empties every cluster of that kind but keeps them
        svc.update_ips(vec![], true, 4);
        assert!(svc.instances(true).is_empty());
        assert_eq!(svc.clusters.len(), 2);
    }

    #[test]
    fn previous_health_is_kept_unless_marked() {
        let mut svc = Service::new("public", SVC);
        svc.update_ips(
            vec![
                inst("1.1.1.1", 80, "DEFAULT"),
                inst("1.1.1.2", 80, "DEFAULT"),
            ],
            true,
            1,
        );
        for i in svc.find_mut("1.1.1.1", 80, None, true) {
            i.healthy = false;
        }
        for i in svc.find_mut("1.1.1.2", 80, Some("DEFAULT"), true) {
            i.healthy = false;
            i.marked = true;
        }
        // incoming claims healthy, with a new lastBeat
        let mut a = inst("1.1.1.1", 80, "DEFAULT");
        a.last_beat = 500;
        let mut b = inst("1.1.1.2", 80, "DEFAULT");
        b.marked = true;
        let d = svc.update_ips(vec![a, b], true, 600);
        let c = &svc.clusters["DEFAULT"].ephemeral;
        assert!(!c[0].healthy, "unmarked keeps previous healthy=false");
        assert_eq!(c[0].last_beat, 500, "lastBeat comes from incoming");
        assert!(c[1].healthy, "marked takes incoming health");
        assert_eq!(d.health_changed, vec!["1.1.1.2:80"]);

        // an unhealthy incoming copy does not make a healthy replica unhealthy
        let mut svc = Service::new("public", SVC);
        svc.update_ips(vec![inst("1.1.1.1", 80, "DEFAULT")], true, 1);
        let mut sick = inst("1.1.1.1", 80, "DEFAULT");
        sick.healthy = false;
        svc.update_ips(vec![sick.clone()], true, 2);
        assert!(svc.clusters["DEFAULT"].ephemeral[0].healthy);
        // …but a brand-new instance takes the incoming health
        let mut svc = Service::new("public", SVC);
        svc.update_ips(vec![sick], true, 2);
        assert!(!svc.clusters["DEFAULT"].ephemeral[0].healthy);
    }

    #[test]
    fn weights_are_clamped_and_duplicates_dropped() {
        let mut svc = Service::new("public", SVC);
        let mut big = inst("1.1.1.1", 80, "");
        big.weight = 50000.0;
        let mut tiny = inst("1.1.1.2", 80, "DEFAULT");
        tiny.weight = 0.001;
        let mut neg = inst("1.1.1.3", 80, "DEFAULT");
        neg.weight = -1.0;
        let mut dup = inst("1.1.1.3", 80, "DEFAULT");
        dup.weight = 7.0;
        svc.update_ips(vec![big, tiny, neg, dup], true, 1);
        let w: Vec<f64> = svc.instances(true).iter().map(|i| i.weight).collect();
        assert_eq!(w, vec![10000.0, 0.01, 0.0]);
        assert_eq!(svc.instances(true)[0].cluster_name, "DEFAULT");
    }

    #[test]
    fn find_mut_filters_cluster_and_kind() {
        let mut svc = Service::new("public", SVC);
        svc.update_ips(
            vec![inst("1.1.1.1", 80, "a"), inst("1.1.1.1", 80, "b")],
            true,
            1,
        );
        assert_eq!(svc.find_mut("1.1.1.1", 80, None, true).len(), 2);
        assert_eq!(svc.find_mut("1.1.1.1", 80, Some("b"), true).len(), 1);
        assert_eq!(svc.find_mut("1.1.1.1", 81, None, true).len(), 0);
        assert_eq!(svc.find_mut("1.1.1.1", 80, None, false).len(), 0);
    }

    #[test]
    fn checksum_follows_health() {
        let mut svc = Service::new("public", SVC);
        let empty = svc.checksum.clone();
        svc.update_ips(vec![inst("1.1.1.1", 80, "DEFAULT")], true, 1);
        let one = svc.checksum.clone();
        assert_ne!(one, empty);
        svc.find_mut("1.1.1.1", 80, None, true)[0].healthy = false;
        svc.recalculate_checksum();
        assert_ne!(svc.checksum, one);
    }

    #[test]
    fn names_iterate_sorted() {
        // spec §15 ServiceManagerTest: names "0".."31" iterate lexicographically.
        let mut m = BTreeMap::new();
        for n in (0..32).rev() {
            m.insert(n.to_string(), Service::new("public", &n.to_string()));
        }
        let names: Vec<&String> = m.keys().collect();
        assert_eq!(names[..4], ["0", "1", "10", "11"]);
        assert_eq!(names[31], "9");
    }

    #[test]
    fn service_checksum_golden_values() {
        // spec §2: ServiceTest empty-service checksum, name as given
        let svc = Service::new("public", "test-service");
        assert_eq!(svc.checksum, "394c845e1160bb880e7f26fb2149ed6d");
        assert_eq!(service_checksum(&svc), "394c845e1160bb880e7f26fb2149ed6d");

        // spec §2 derived value: one DEFAULT cluster holding 10.0.0.1:8080
        let mut svc = Service::new("public", "DEFAULT_GROUP@@demo");
        let i = Instance::new("10.0.0.1", 8080, "DEFAULT", "DEFAULT_GROUP@@demo", 5);
        svc.update_ips(vec![i], true, 5);
        assert_eq!(svc.checksum, "628bddb3cb3d6655e909c5a15d2b07df");
    }

    #[test]
    fn service_checksum_inputs() {
        let mut svc = Service::new("public", "DEFAULT_GROUP@@demo");
        let i = Instance::new("10.0.0.1", 8080, "DEFAULT", "DEFAULT_GROUP@@demo", 5);
        svc.update_ips(vec![i], true, 5);
        let base = service_checksum(&svc);
        // metadata, enabled and lastBeat are not inputs
        for inst in svc
            .clusters
            .get_mut("DEFAULT")
            .unwrap()
            .ephemeral
            .iter_mut()
        {
            inst.enabled = false;
            inst.last_beat = 1234;
            inst.metadata.insert("k".into(), "v".into());
        }
        assert_eq!(service_checksum(&svc), base);
        // healthy is
        svc.clusters.get_mut("DEFAULT").unwrap().ephemeral[0].healthy = false;
        assert_ne!(service_checksum(&svc), base);
        // protect threshold prints as a Java float
        svc.clusters.get_mut("DEFAULT").unwrap().ephemeral[0].healthy = true;
        svc.protect_threshold = 0.8;
        let want = "{\"invalidIPCount\":0,\"name\":\"DEFAULT_GROUP@@demo\",\"ipCount\":1,\"owners\":[],\"protectThreshold\":0.8,\"clusters\":[{\"healthChecker\":{\"type\":\"TCP\"},\"defIPPort\":80,\"defCkport\":80,\"name\":\"DEFAULT\",\"useIPPort4Check\":true,\"sitegroup\":\"\"}]}10.0.0.1:8080_1.0_true_DEFAULT,";
        assert_eq!(service_checksum(&svc), md5_hex(want));
    }
}
