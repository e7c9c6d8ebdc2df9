//! Java's hash codes and `HashMap`/`HashSet` iteration order, where Nacos's behaviour depends
//! on them: which Distro execute worker a task goes to (`tag.hashCode()`), and the order in
//! which the delay engine hands out the tasks due in one scan (spec §3 "Distro execute
//! workers", §6 "Threads and timeouts of the pipeline"). The expected values in the tests were
//! printed by a JDK 17.

use super::keys::java_string_hash;

/// `Objects.hash(a, b, …)` / `Arrays.hashCode` / `List.hashCode` over the elements' hash
/// codes: `31 · h + e`, from 1.
pub fn objects_hash(hashes: impl IntoIterator<Item = i32>) -> i32 {
    hashes
        .into_iter()
        .fold(1i32, |h, e| h.wrapping_mul(31).wrapping_add(e))
}

/// `HashMap.hash`: the hash code with its high half folded into the low one; its low bits pick
/// the bucket.
pub fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// The table size of a `HashMap`/`HashSet` created with the default 16 buckets after `n`
/// insertions: it doubles whenever its size exceeds three quarters of the table.
pub fn hash_set_capacity(n: usize) -> usize {
    let mut cap = 16;
    while n > cap / 4 * 3 {
        cap *= 2;
    }
    cap
}

/// `DistroKey.hashCode`: `Objects.hash(resourceKey, resourceType, targetServer)`.
pub fn distro_key_hash(resource_key: &str, resource_type: &str, target: &str) -> i32 {
    objects_hash([
        java_string_hash(resource_key),
        java_string_hash(resource_type),
        java_string_hash(target),
    ])
}

/// The iteration order of a `HashSet<String>` of `cap` buckets holding `items`, given
/// newest-first within a bucket (a set rebuilt on every merge as `{new key} ∪ old set` keeps
/// the most recently added key first in its bucket): by bucket, then in the given order.
pub fn hash_set_order<'a>(items: &[&'a str], cap: usize) -> Vec<&'a str> {
    let mut v: Vec<(usize, usize, &str)> = items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bucket = (spread(java_string_hash(s)) as usize) & (cap - 1);
            (bucket, i, *s)
        })
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, _, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "com.alibaba.nacos.naming.iplist.";
    const ORDERS: &str = "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@orders";
    const USERS: &str = "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@users";

    #[test]
    fn distro_keys_hash_as_java_does() {
        // JDK 17: Objects.hash(ORDERS, PREFIX, "10.0.0.2:8848")
        assert_eq!(distro_key_hash(ORDERS, PREFIX, "10.0.0.2:8848"), -505004534);
        assert_eq!(
            distro_key_hash(
                "DistroHttpCombinedKey-0",
                "DistroHttpCombinedKeyDelayTask",
                "10.0.0.3:8848"
            ),
            532652654
        );
        // DistroHttpCombinedKey: Objects.hash(super.hashCode(), actualResourceTypes), the list
        // in the set's order.
        let keys = hash_set_order(&[USERS, ORDERS], hash_set_capacity(2));
        assert_eq!(keys, vec![ORDERS, USERS]);
        let list = objects_hash(keys.iter().map(|k| java_string_hash(k)));
        let sup = distro_key_hash("DistroHttpCombinedKey-0", PREFIX, "10.0.0.2:8848");
        assert_eq!(objects_hash([sup, list]), -875618557);
    }

    #[test]
    fn a_hash_set_iterates_by_bucket_then_newest_first() {
        // JDK 17: twenty sets, each `{"svc" + i} ∪ previous`, iterate as below.
        let names: Vec<String> = (0..20).rev().map(|i| format!("svc{i}")).collect();
        let newest_first: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let order = hash_set_order(&newest_first, hash_set_capacity(20));
        let want = "svc6 svc7 svc4 svc19 svc5 svc2 svc3 svc0 svc1 svc14 svc13 svc12 svc11 svc18 \
                    svc17 svc16 svc8 svc15 svc9 svc10";
        assert_eq!(order.join(" "), want);
        assert_eq!(
            objects_hash(order.iter().map(|k| java_string_hash(k))),
            -241636871
        );
        assert_eq!(hash_set_capacity(12), 16);
        assert_eq!(hash_set_capacity(13), 32);
        assert_eq!(hash_set_capacity(0), 16);
    }
}
