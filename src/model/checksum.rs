//! Checksums (spec §2): MD5 over UTF-8, 32 lowercase hex digits, and the Java orderings they
//! depend on. The service checksum (`Service.recalculateChecksum`) is with the Service, in
//! `service.rs`.

use super::instance::{java_double, Instance};
use super::keys::java_string_hash;
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
