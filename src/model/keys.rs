//! Names, datum keys (spec §1) and the Distro hash (spec §5).

use super::javafmt::java_split;

pub const DEFAULT_NAMESPACE: &str = "public";
pub const DEFAULT_GROUP: &str = "DEFAULT_GROUP";
/// spec §1: separator between group and service name.
pub const GROUP_SEPARATOR: &str = "@@";
/// spec §1: separator between namespace and grouped name inside a datum key.
pub const NAMESPACE_CONNECTOR: &str = "##";

/// spec §1 datum key prefixes (KeyBuilder).
pub const INSTANCE_LIST_PREFIX: &str = "com.alibaba.nacos.naming.iplist.";
pub const EPHEMERAL_INSTANCE_LIST_PREFIX: &str = "com.alibaba.nacos.naming.iplist.ephemeral.";
pub const SERVICE_META_PREFIX: &str = "com.alibaba.nacos.naming.domains.meta.";
pub const BRIEF_INSTANCE_LIST_PREFIX: &str = "iplist.";
pub const BRIEF_SERVICE_META_PREFIX: &str = "meta.";
pub const SWITCH_KEY: &str =
    "com.alibaba.nacos.naming.domains.meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00";

/// spec §1: `group@@name`.
pub fn grouped_name(group: &str, name: &str) -> String {
    format!("{group}{GROUP_SEPARATOR}{name}")
}

/// spec §1: a grouped name must split on `@@` into at least 2 parts (Java
/// `String.split` semantics: trailing empty parts vanish). Returns
/// `(group, name)` = the first two parts.
pub fn split_grouped(grouped: &str) -> Option<(String, String)> {
    let parts = java_split(grouped, GROUP_SEPARATOR);
    if parts.len() < 2 {
        return None;
    }
    Some((parts[0].to_string(), parts[1].to_string()))
}

/// spec §1: `com.alibaba.nacos.naming.iplist.ephemeral.{ns}##{S}`.
pub fn ephemeral_key(ns: &str, grouped: &str) -> String {
    format!("{EPHEMERAL_INSTANCE_LIST_PREFIX}{ns}{NAMESPACE_CONNECTOR}{grouped}")
}

/// spec §1: `com.alibaba.nacos.naming.iplist.{ns}##{S}`.
pub fn persistent_key(ns: &str, grouped: &str) -> String {
    format!("{INSTANCE_LIST_PREFIX}{ns}{NAMESPACE_CONNECTOR}{grouped}")
}

/// spec §1: `com.alibaba.nacos.naming.domains.meta.{ns}##{S}`.
pub fn meta_key(ns: &str, grouped: &str) -> String {
    format!("{SERVICE_META_PREFIX}{ns}{NAMESPACE_CONNECTOR}{grouped}")
}

/// spec §1: only `iplist.ephemeral.*` keys (full form) go through Distro.
pub fn is_ephemeral_key(key: &str) -> bool {
    key.starts_with(EPHEMERAL_INSTANCE_LIST_PREFIX)
}

/// Instance-list key of either kind, in full or brief (`iplist.`) form.
pub fn is_instance_list_key(key: &str) -> bool {
    key.starts_with(INSTANCE_LIST_PREFIX) || key.starts_with(BRIEF_INSTANCE_LIST_PREFIX)
}

/// Service-meta key in full or brief (`meta.`) form; the switch key is excluded.
pub fn is_meta_key(key: &str) -> bool {
    key != SWITCH_KEY
        && (key.starts_with(SERVICE_META_PREFIX) || key.starts_with(BRIEF_SERVICE_META_PREFIX))
}

/// `(namespace, grouped name)` of an instance-list or service-meta key, full
/// or brief form. `None` for the switch key or anything without `##`.
pub fn service_of_key(key: &str) -> Option<(String, String)> {
    let prefixes = [
        EPHEMERAL_INSTANCE_LIST_PREFIX,
        INSTANCE_LIST_PREFIX,
        SERVICE_META_PREFIX,
        BRIEF_INSTANCE_LIST_PREFIX,
        BRIEF_SERVICE_META_PREFIX,
    ];
    let rest = prefixes.iter().find_map(|p| key.strip_prefix(p))?;
    let (ns, grouped) = rest.split_once(NAMESPACE_CONNECTOR)?;
    if grouped.is_empty() {
        return None;
    }
    Some((ns.to_string(), grouped.to_string()))
}

/// Java `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code
/// units, with 32-bit wrap-around.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// spec §5: `abs(hashCode(s) % Integer.MAX_VALUE)` on the grouped name.
/// `h % MAX` lies in (−MAX, MAX), so `abs` cannot overflow.
pub fn distro_hash(grouped: &str) -> i32 {
    (java_string_hash(grouped) % i32::MAX).abs()
}

/// spec §1: a service name must match `[0-9a-zA-Z@\.:_-]+`.
pub fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b':' | b'_' | b'-'))
}

/// spec §1: a cluster name must match `[0-9a-zA-Z-]+` (no `_`).
pub fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_hash_golden_values() {
        // spec §5 examples
        assert_eq!(distro_hash("DEFAULT_GROUP@@demo"), 1251993628);
        assert_eq!(distro_hash("DEFAULT_GROUP@@svc-a"), 142749101);
        assert_eq!(distro_hash("DEFAULT_GROUP@@svc-b"), 142749100);
    }

    #[test]
    fn java_hash_code_edge_cases() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // well-known Java value: "hello".hashCode() == 99162322
        assert_eq!(java_string_hash("hello"), 99162322);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(distro_hash("polygenelubricants"), 1);
        // a non-BMP char counts as two UTF-16 units
        let one = java_string_hash("\u{1F600}");
        assert_eq!(one, 0xD83D * 31 + 0xDE00);
        // negative hash → absolute value
        assert_eq!(java_string_hash("DEFAULT_GROUP@@svc-c"), -142749099);
        assert_eq!(distro_hash("DEFAULT_GROUP@@svc-c"), 142749099);
        assert_eq!(java_string_hash("DEFAULT"), -2032180703);
    }

    #[test]
    fn grouped_names() {
        assert_eq!(grouped_name("g", "s"), "g@@s");
        assert_eq!(split_grouped("g@@s"), Some(("g".into(), "s".into())));
        assert_eq!(split_grouped("@@s"), Some(("".into(), "s".into())));
        assert_eq!(split_grouped("a@@b@@c"), Some(("a".into(), "b".into())));
        assert_eq!(split_grouped("s"), None);
        assert_eq!(split_grouped("g@@"), None);
        assert_eq!(split_grouped(""), None);
    }

    #[test]
    fn datum_keys() {
        let e = ephemeral_key("public", "DEFAULT_GROUP@@demo");
        assert_eq!(
            e,
            "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@demo"
        );
        let p = persistent_key("public", "DEFAULT_GROUP@@demo");
        assert_eq!(
            p,
            "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo"
        );
        let m = meta_key("ns1", "g@@s");
        assert_eq!(m, "com.alibaba.nacos.naming.domains.meta.ns1##g@@s");
        assert!(is_ephemeral_key(&e) && !is_ephemeral_key(&p) && !is_ephemeral_key(&m));
        assert!(is_instance_list_key(&e) && is_instance_list_key(&p));
        assert!(is_instance_list_key("iplist.public##g@@s"));
        assert!(!is_instance_list_key(&m));
        assert!(is_meta_key(&m) && !is_meta_key(SWITCH_KEY) && !is_meta_key(&p));
        let want = Some(("public".to_string(), "DEFAULT_GROUP@@demo".to_string()));
        assert_eq!(service_of_key(&e), want);
        assert_eq!(service_of_key(&p), want);
        assert_eq!(
            service_of_key(&m),
            Some(("ns1".to_string(), "g@@s".to_string()))
        );
        assert_eq!(
            service_of_key("meta.ns1##g@@s"),
            Some(("ns1".to_string(), "g@@s".to_string()))
        );
        assert_eq!(service_of_key(SWITCH_KEY), None);
        assert_eq!(service_of_key("other.public##g@@s"), None);
    }

    #[test]
    fn name_validation() {
        assert!(valid_service_name("DEFAULT_GROUP@@demo.svc:1-a"));
        assert!(!valid_service_name(""));
        assert!(!valid_service_name("a b"));
        assert!(!valid_service_name("a#b"));
        assert!(valid_cluster_name("DEFAULT"));
        assert!(valid_cluster_name("c-1"));
        assert!(!valid_cluster_name("c_1"));
        assert!(!valid_cluster_name(""));
        assert!(!valid_cluster_name("é"));
    }
}
