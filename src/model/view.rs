//! The instance-list view (spec §11 `doSrvIpxt`, `GET /v1/ns/instance/list`).

use super::instance::{Instance, Millis};
use super::service::Service;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// spec §11 step 7: one host entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostView {
    pub ip: String,
    pub port: u16,
    pub valid: bool,
    pub healthy: bool,
    pub marked: bool,
    pub instance_id: String,
    pub metadata: BTreeMap<String, String>,
    pub enabled: bool,
    pub weight: f64,
    pub cluster_name: String,
    pub service_name: String,
    pub ephemeral: bool,
}

impl HostView {
    /// A host entry for unit tests: port 80 in cluster DEFAULT of `DEFAULT_GROUP@@a`,
    /// `valid` as `healthy`.
    #[cfg(test)]
    pub fn for_test(ip: &str, healthy: bool, weight: f64, enabled: bool) -> HostView {
        HostView {
            ip: ip.into(),
            port: 80,
            valid: healthy,
            healthy,
            marked: false,
            instance_id: String::new(),
            metadata: Default::default(),
            enabled,
            weight,
            cluster_name: "DEFAULT".into(),
            service_name: "DEFAULT_GROUP@@a".into(),
            ephemeral: true,
        }
    }

    pub fn ip_port(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// The hosts as an event shows a list (`[a,b(unhealthy)]`).
    pub fn list(hosts: &[HostView]) -> crate::trace::HostList {
        crate::trace::HostList(
            hosts
                .iter()
                .map(|h| crate::trace::Host {
                    instance: h.ip_port(),
                    healthy: h.healthy,
                })
                .collect(),
        )
    }

    /// `valid` and `healthy` are both the group the host was emitted in.
    fn from_instance(i: &Instance, group: bool) -> HostView {
        HostView {
            ip: i.ip.clone(),
            port: i.port,
            valid: group,
            healthy: group,
            marked: i.marked,
            instance_id: i.instance_id.clone(),
            metadata: i.metadata.clone(),
            enabled: i.enabled,
            weight: i.weight,
            cluster_name: i.cluster_name.clone(),
            service_name: i.service_name.clone(),
            ephemeral: i.ephemeral,
        }
    }
}

/// spec §11 envelope (the fields a simulator needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListView {
    /// The grouped name as requested; stripping the group for non-Java agents
    /// (spec §11 step 8) is the caller's business.
    pub name: String,
    /// The raw `clusters` parameter (requested names joined with `,`).
    pub clusters: String,
    pub cache_millis: u64,
    pub hosts: Vec<HostView>,
    /// Server time of the answer; `None` for an unknown service (spec §11 step 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ref_time: Option<Millis>,
    /// The service's cached checksum; empty for an unknown service.
    pub checksum: String,
    /// False for an unknown service.
    pub found: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewError {
    /// spec §11 step 3: a disabled service answers 500 (Nacos' message is
    /// `service is disabled:{serviceName}`; the caller knows the name).
    Disabled,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::Disabled => write!(f, "service is disabled"),
        }
    }
}

impl std::error::Error for ViewError {}

/// spec §11 steps 2–8.
///
/// `clusters` empty means every cluster (name order); otherwise the named
/// clusters in the order given, unknown or empty names skipped (a name given
/// twice is listed twice, as in Nacos). Within a cluster, persistent
/// instances come before ephemeral ones (`Cluster.allIPs`).
pub fn list_view(
    svc: Option<&Service>,
    grouped_name: &str,
    clusters: &[String],
    healthy_only: bool,
    cache_millis: u64,
    now: Millis,
) -> Result<ListView, ViewError> {
    let mut view = ListView {
        name: grouped_name.to_string(),
        clusters: clusters.join(","),
        cache_millis,
        hosts: Vec::new(),
        last_ref_time: None,
        checksum: String::new(),
        found: false,
    };
    // spec §11 step 2: unknown service → empty hosts, no lastRefTime/checksum.
    let Some(svc) = svc else {
        return Ok(view);
    };
    // spec §11 step 3: disabled → 500.
    if !svc.enabled {
        return Err(ViewError::Disabled);
    }
    view.found = true;
    view.last_ref_time = Some(now);
    view.checksum = svc.checksum.clone();

    // spec §11 step 4: candidates from the requested clusters, both kinds.
    let candidates = candidates(svc, clusters);
    // spec §11 step 5: nothing to show → full envelope with no hosts.
    if candidates.is_empty() {
        return Ok(view);
    }

    let (mut healthy, mut unhealthy): (Vec<&Instance>, Vec<&Instance>) =
        candidates.into_iter().partition(|i| i.healthy);
    // spec §11 step 6: protect threshold, computed in float. When it fires,
    // every candidate is reported in the healthy group.
    let ratio = healthy.len() as f32 / (healthy.len() + unhealthy.len()) as f32;
    if ratio <= svc.protect_threshold {
        healthy.append(&mut unhealthy);
    }

    // spec §11 step 7: false group first, then true; the false group is
    // skipped for healthyOnly; disabled instances are never listed.
    let groups: [(bool, &Vec<&Instance>); 2] = [(false, &unhealthy), (true, &healthy)];
    for (group, members) in groups {
        if healthy_only && !group {
            continue;
        }
        view.hosts.extend(
            members
                .iter()
                .filter(|i| i.enabled)
                .map(|i| HostView::from_instance(i, group)),
        );
    }
    Ok(view)
}

fn candidates<'a>(svc: &'a Service, clusters: &[String]) -> Vec<&'a Instance> {
    let names: Vec<&str> = if clusters.is_empty() {
        svc.clusters.keys().map(String::as_str).collect()
    } else {
        clusters
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty())
            .collect()
    };
    names
        .into_iter()
        .filter_map(|n| svc.clusters.get(n))
        .flat_map(|c| c.persistent.iter().chain(c.ephemeral.iter()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: &str = "DEFAULT_GROUP@@demo";

    fn service(specs: &[(&str, &str, bool)]) -> Service {
        let mut svc = Service::new("public", SVC);
        let list = specs
            .iter()
            .map(|(ip, cluster, healthy)| {
                let mut i = Instance::new(ip, 80, cluster, SVC, 0);
                i.healthy = *healthy;
                i
            })
            .collect();
        svc.update_ips(list, true, 1);
        svc
    }

    fn hosts(v: &ListView) -> Vec<(String, bool)> {
        v.hosts.iter().map(|h| (h.ip.clone(), h.healthy)).collect()
    }

    fn pairs(p: &[(&str, bool)]) -> Vec<(String, bool)> {
        p.iter().map(|(ip, h)| (ip.to_string(), *h)).collect()
    }

    #[test]
    fn unknown_service() {
        let v = list_view(None, SVC, &["c1".to_string()], false, 3000, 9).unwrap();
        assert!(!v.found && v.hosts.is_empty());
        assert_eq!(v.last_ref_time, None);
        assert_eq!(
            (v.name.as_str(), v.clusters.as_str(), v.cache_millis),
            (SVC, "c1", 3000)
        );
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("lastRefTime"), "{json}");
    }

    #[test]
    fn disabled_service() {
        let mut svc = service(&[("1.1.1.1", "DEFAULT", true)]);
        svc.enabled = false;
        let err = list_view(Some(&svc), SVC, &[], false, 3000, 9).unwrap_err();
        assert_eq!(err, ViewError::Disabled);
    }

    #[test]
    fn unhealthy_group_first_valid_equals_group() {
        let svc = service(&[
            ("1.1.1.1", "DEFAULT", true),
            ("1.1.1.2", "DEFAULT", false),
            ("1.1.1.3", "DEFAULT", true),
        ]);
        let v = list_view(Some(&svc), SVC, &[], false, 3000, 9).unwrap();
        assert_eq!(
            hosts(&v),
            pairs(&[("1.1.1.2", false), ("1.1.1.1", true), ("1.1.1.3", true)])
        );
        assert!(v.hosts.iter().all(|h| h.valid == h.healthy));
        assert!(v.found);
        assert_eq!(v.last_ref_time, Some(9));
        assert_eq!(v.checksum, svc.checksum);
        let json = serde_json::to_string(&v.hosts[0]).unwrap();
        assert!(
            json.contains("\"instanceId\"") && json.contains("\"clusterName\""),
            "{json}"
        );
    }

    #[test]
    fn healthy_only_skips_false_group() {
        let svc = service(&[("1.1.1.1", "DEFAULT", true), ("1.1.1.2", "DEFAULT", false)]);
        let v = list_view(Some(&svc), SVC, &[], true, 3000, 9).unwrap();
        assert_eq!(hosts(&v), pairs(&[("1.1.1.1", true)]));
    }

    #[test]
    fn protect_threshold_zero_all_unhealthy_reports_all_healthy() {
        let svc = service(&[("1.1.1.1", "DEFAULT", false), ("1.1.1.2", "DEFAULT", false)]);
        let v = list_view(Some(&svc), SVC, &[], true, 3000, 9).unwrap();
        assert_eq!(hosts(&v), pairs(&[("1.1.1.1", true), ("1.1.1.2", true)]));
        assert!(v.hosts.iter().all(|h| h.valid));
    }

    #[test]
    fn protect_threshold_half() {
        let mut svc = service(&[("1.1.1.1", "DEFAULT", false), ("1.1.1.2", "DEFAULT", true)]);
        svc.protect_threshold = 0.5;
        let v = list_view(Some(&svc), SVC, &[], false, 3000, 9).unwrap();
        // healthy first, then the former unhealthy, all in the true group
        assert_eq!(hosts(&v), pairs(&[("1.1.1.2", true), ("1.1.1.1", true)]));
        // 2 of 3 healthy (0.67) is above 0.5: normal grouping
        let mut svc = service(&[
            ("1.1.1.1", "DEFAULT", false),
            ("1.1.1.2", "DEFAULT", true),
            ("1.1.1.3", "DEFAULT", true),
        ]);
        svc.protect_threshold = 0.5;
        let v = list_view(Some(&svc), SVC, &[], false, 3000, 9).unwrap();
        assert_eq!(v.hosts[0].ip, "1.1.1.1");
        assert!(!v.hosts[0].healthy);
    }

    #[test]
    fn disabled_instances_never_listed() {
        let mut svc = service(&[("1.1.1.1", "DEFAULT", true), ("1.1.1.2", "DEFAULT", true)]);
        svc.find_mut("1.1.1.1", 80, None, true)[0].enabled = false;
        let v = list_view(Some(&svc), SVC, &[], false, 3000, 9).unwrap();
        assert_eq!(hosts(&v), pairs(&[("1.1.1.2", true)]));
        // a disabled instance still counts toward the threshold's total
        svc.find_mut("1.1.1.2", 80, None, true)[0].healthy = false;
        svc.find_mut("1.1.1.1", 80, None, true)[0].healthy = false;
        let v = list_view(Some(&svc), SVC, &[], true, 3000, 9).unwrap();
        assert_eq!(hosts(&v), pairs(&[("1.1.1.2", true)]));
    }

    #[test]
    fn cluster_filter_and_kinds() {
        let mut svc = service(&[("1.1.1.1", "a", true), ("1.1.1.2", "b", true)]);
        let mut p = Instance::new("9.9.9.9", 80, "a", SVC, 0);
        p.ephemeral = false;
        svc.update_ips(vec![p], false, 2);
        let only_a = ["a".to_string()];
        let v = list_view(Some(&svc), SVC, &only_a, false, 3000, 9).unwrap();
        // persistent before ephemeral within the cluster
        assert_eq!(hosts(&v), pairs(&[("9.9.9.9", true), ("1.1.1.1", true)]));
        let both = ["b".to_string(), "zz".to_string(), "a".to_string()];
        let v = list_view(Some(&svc), SVC, &both, false, 3000, 9).unwrap();
        assert_eq!(v.hosts.len(), 3);
        assert_eq!(v.hosts[0].ip, "1.1.1.2");
        assert_eq!(v.clusters, "b,zz,a");
        // requested clusters that do not exist → full envelope, no hosts
        let none = ["zz".to_string()];
        let v = list_view(Some(&svc), SVC, &none, false, 3000, 9).unwrap();
        assert!(v.found && v.hosts.is_empty() && v.last_ref_time == Some(9));
    }
}
