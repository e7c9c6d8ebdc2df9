//! Checksums (spec §2): MD5 over UTF-8, 32 lowercase hex digits.

use super::instance::{java_double, java_float, Instance};
use super::keys::java_string_hash;
use super::service::{Cluster, Service};
use md5::{Digest, Md5};
use std::cmp::Ordering;
use std::fmt::Write;

/// spec §2: MD5 of the UTF-8 bytes, lowercase hex.
pub fn md5_hex(s: &str) -> String {
    let digest = Md5::digest(s.as_bytes());
    let mut out = String::with_capacity(32);
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Java `String.compareTo`: lexicographic over UTF-16 code units.
pub fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// spec §1/§2: instances sorted by their `toString` sort key. Stable, like
/// Java's `Collections.sort`, so equal keys keep their input order.
pub fn sorted_by_java_string<'a>(
    list: impl IntoIterator<Item = &'a Instance>,
) -> Vec<&'a Instance> {
    let mut keyed: Vec<(String, &Instance)> =
        list.into_iter().map(|i| (i.java_to_string(), i)).collect();
    keyed.sort_by(|a, b| java_string_cmp(&a.0, &b.0));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// spec §2 `Instances.getChecksum` (Distro verify): sort a copy by `toString`,
/// append `{ip}:{port}_{weight}_{healthy}_{enabled}_{clusterName}_{M},` with
/// `M` = `{k}:{v},` per metadata key in ascending order, MD5 the result.
pub fn instances_checksum(list: &[Instance]) -> String {
    let mut text = String::new();
    for i in sorted_by_java_string(list) {
        let _ = write!(
            text,
            "{}:{}_{}_{}_{}_{}_",
            i.ip,
            i.port,
            java_double(i.weight),
            i.healthy,
            i.enabled,
            i.cluster_name
        );
        // BTreeMap iterates keys ascending, as the spec requires.
        for (k, v) in &i.metadata {
            let _ = write!(text, "{k}:{v},");
        }
        text.push(',');
    }
    md5_hex(&text)
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

/// Iteration order of a default `java.util.HashMap<String, _>` holding `keys`.
///
/// Bucket index = `(h ^ (h >>> 16)) & (cap - 1)` with `h = String.hashCode`;
/// the table starts at 16 and doubles whenever size > 0.75·cap. Resizes keep
/// the relative order inside a bucket, so the final order is (bucket, insertion
/// order). The model does not record insertion order, so ties fall back to
/// the order of `keys` (the caller passes BTreeMap name order). Treeified
/// buckets (≥ 8 collisions) are not modelled.
///
/// UNVERIFIED (spec §2): Nacos' cluster ordering with more than one cluster
/// per service has not been confirmed against a real server.
pub fn java_hashmap_order<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut cap: usize = 16;
    while keys.len() * 4 > cap * 3 {
        cap *= 2;
    }
    let mut indexed: Vec<(usize, &'a str)> = keys
        .iter()
        .map(|k| {
            let h = java_string_hash(k) as u32;
            ((h ^ (h >> 16)) as usize & (cap - 1), *k)
        })
        .collect();
    // Stable sort: equal buckets keep the given order.
    indexed.sort_by_key(|(bucket, _)| *bucket);
    indexed.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(ip: &str, port: u16) -> Instance {
        Instance::new(ip, port, "DEFAULT", "DEFAULT_GROUP@@demo", 0)
    }

    #[test]
    fn md5_of_empty_string() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn instances_checksum_golden_values() {
        // spec §2 golden values
        assert_eq!(instances_checksum(&[]), "d41d8cd98f00b204e9800998ecf8427e");
        let one = inst("1.1.1.1", 8080);
        assert_eq!(
            instances_checksum(std::slice::from_ref(&one)),
            "7631f88e79d10bf2abf1da0b81748118"
        );
        let mut meta = one.clone();
        meta.metadata.insert("k2".into(), "v2".into());
        meta.metadata.insert("k1".into(), "v1".into());
        assert_eq!(
            instances_checksum(&[meta]),
            "ebe185d886fa120d6148c7f697fd78be"
        );
    }

    #[test]
    fn instances_checksum_sorts_and_covers_enabled() {
        let a = inst("1.1.1.1", 8080);
        let b = inst("1.1.1.2", 8080);
        let ab = instances_checksum(&[a.clone(), b.clone()]);
        assert_eq!(ab, instances_checksum(&[b.clone(), a.clone()]));
        let text = "1.1.1.1:8080_1.0_true_true_DEFAULT_,1.1.1.2:8080_1.0_true_true_DEFAULT_,";
        assert_eq!(ab, md5_hex(text));
        let mut disabled = a.clone();
        disabled.enabled = false;
        assert_ne!(instances_checksum(&[disabled, b]), ab);
        let mut later = a.clone();
        later.last_beat = 99;
        assert_eq!(instances_checksum(&[later]), instances_checksum(&[a]));
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

    #[test]
    fn hashmap_order_buckets() {
        // hashes: "A"=65 → bucket 1, "B"=66 → 2, "DEFAULT" → 14, "c1"=3118 → 14,
        // "c2"=3119 → 15 (capacity 16)
        let order = java_hashmap_order(&["DEFAULT", "c2", "B", "c1", "A"]);
        assert_eq!(order, vec!["A", "B", "DEFAULT", "c1", "c2"]);
        assert!(java_hashmap_order(&[]).is_empty());
        // 13 keys exceed 0.75·16, so the table has 32 buckets: "c1" (3118 → 14)
        // and "DEFAULT" (spread → 30) separate.
        let many: Vec<String> = (0..11).map(|n| format!("k{n}")).collect();
        let mut keys: Vec<&str> = many.iter().map(String::as_str).collect();
        keys.push("DEFAULT");
        keys.push("c1");
        let order = java_hashmap_order(&keys);
        let pos = |k: &str| order.iter().position(|x| *x == k).unwrap();
        assert!(pos("c1") < pos("DEFAULT"));
    }

    #[test]
    fn java_string_ordering_is_utf16() {
        assert_eq!(java_string_cmp("a", "b"), Ordering::Less);
        assert_eq!(java_string_cmp("B", "a"), Ordering::Less);
        // U+FF21 (one unit 0xFF21) sorts after U+1F600 (surrogates 0xD83D…)
        // in UTF-16, the reverse of code-point order.
        assert_eq!(java_string_cmp("\u{FF21}", "\u{1F600}"), Ordering::Greater);
    }
}
