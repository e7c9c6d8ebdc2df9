//! The always-on convergence checker (a liveness property): once every fault has healed and a
//! quiet period has passed, every up server must list the same instances with the same health
//! for every service. Nacos can legitimately fail it (spec §16); a scenario then expects
//! `anomaly = "divergence"`.

use std::collections::{BTreeMap, BTreeSet};

/// server → service → `ip:port` with its health, e.g. `10.0.0.1:80(healthy)`.
pub type Registries = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// One description per service on which the servers disagree (a missing service counts as
/// an empty one), naming each server's list.
pub fn divergences(reg: &Registries) -> Vec<String> {
    let services: BTreeSet<&String> = reg.values().flat_map(|m| m.keys()).collect();
    let empty = BTreeSet::new();
    let mut out = vec![];
    for svc in services {
        let views: BTreeMap<&String, &BTreeSet<String>> = reg
            .iter()
            .map(|(server, m)| (server, m.get(svc).unwrap_or(&empty)))
            .collect();
        let distinct: BTreeSet<&&BTreeSet<String>> = views.values().collect();
        if distinct.len() > 1 {
            let parts: Vec<String> = views
                .iter()
                .map(|(s, v)| format!("{s}=[{}]", v.iter().cloned().collect::<Vec<_>>().join(",")))
                .collect();
            out.push(format!("{svc}: {}", parts.join(" ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(rows: &[(&str, &str, &[&str])]) -> Registries {
        let mut r = Registries::new();
        for (server, svc, hosts) in rows {
            let m = r.entry(server.to_string()).or_default();
            if !svc.is_empty() {
                m.insert(
                    svc.to_string(),
                    hosts.iter().map(|h| h.to_string()).collect(),
                );
            }
        }
        r
    }

    #[test]
    fn equal_views_converge_and_a_missing_service_equals_an_empty_one() {
        let r = reg(&[
            ("s1", "a", &["1(healthy)"]),
            ("s2", "a", &["1(healthy)"]),
            ("s1", "b", &[]),
            ("s2", "", &[]),
        ]);
        assert!(divergences(&r).is_empty());
    }

    #[test]
    fn health_or_membership_differences_are_reported_per_service() {
        let r = reg(&[
            ("s1", "a", &["1(healthy)"]),
            ("s2", "a", &["1(unhealthy)"]),
            ("s1", "b", &["2(healthy)"]),
            ("s2", "", &[]),
        ]);
        let d = divergences(&r);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], "a: s1=[1(healthy)] s2=[1(unhealthy)]");
        assert_eq!(d[1], "b: s1=[2(healthy)] s2=[]");
    }
}
