//! Nacos server versions as `ClusterVersionJudgement` compares them (jraft spec §J1.3): a
//! dotted number, compared part by part against `1.4.0`.

use std::cmp::Ordering;

/// The version every server runs unless a scenario says otherwise.
pub const DEFAULT_VERSION: &str = "1.4.1";
/// jraft spec §J1.3: a member below this version keeps the whole cluster on legacy Raft.
pub const JRAFT_SINCE: &str = "1.4.0";

/// The numeric parts of `1.4.1` (or `1.4.1-SNAPSHOT`, whose suffix is ignored); `None` when
/// the text is not a version.
pub fn parse(v: &str) -> Option<Vec<u64>> {
    let core = v.split_once('-').map_or(v, |(c, _)| c);
    if core.is_empty() {
        return None;
    }
    core.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

/// Numeric comparison part by part, missing parts counting as 0 (`1.4` = `1.4.0`).
pub fn compare(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let (x, y) = (a.get(i).unwrap_or(&0), b.get(i).unwrap_or(&0));
            x.cmp(y)
        })
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// jraft spec §J1.3: a member counts as new when its version is known and not below 1.4.0; a
/// blank (never reported) or unreadable version is not new.
pub fn supports_jraft(v: Option<&str>) -> bool {
    let since = parse(JRAFT_SINCE).expect("a version");
    v.and_then(parse)
        .is_some_and(|p| compare(&p, &since) != Ordering::Less)
}

/// jraft spec §J1.3 (ClusterVersionJudgement.judge): the cluster is all new when every member
/// of `allMembers()` (self included, DOWN ones included) has a version ≥ 1.4.0.
pub fn all_new<'a>(versions: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    versions.into_iter().all(supports_jraft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically_part_by_part() {
        // jraft spec §J1.3: "compares lower than 1.4.0 (dotted numeric compare)"
        assert!(supports_jraft(Some("1.4.0")));
        assert!(supports_jraft(Some("1.4.1")));
        assert!(supports_jraft(Some("1.10.0")), "numeric, not text: 10 > 4");
        assert!(supports_jraft(Some("2.0")));
        assert!(supports_jraft(Some("1.4.1-SNAPSHOT")));
        assert!(!supports_jraft(Some("1.3.2")));
        assert!(!supports_jraft(Some("1.3.99")));
        assert!(!supports_jraft(Some("")), "blank blocks the switch");
        assert!(
            !supports_jraft(None),
            "a member that never reported blocks it"
        );
        assert!(!supports_jraft(Some("x.y")));
        assert_eq!(compare(&[1, 4], &[1, 4, 0]), Ordering::Equal);
    }

    #[test]
    fn one_old_or_unknown_member_keeps_the_cluster_on_legacy_raft() {
        // jraft spec §J1.3, §J11.1
        assert!(all_new([Some("1.4.1"), Some("1.4.0"), Some("1.4.1")]));
        assert!(!all_new([Some("1.4.1"), Some("1.3.2"), Some("1.4.1")]));
        assert!(!all_new([Some("1.4.1"), None]));
    }

    #[test]
    fn what_parses_as_a_version() {
        assert_eq!(parse("1.4.1"), Some(vec![1, 4, 1]));
        assert_eq!(parse("1.3.2-beta"), Some(vec![1, 3, 2]));
        assert_eq!(parse("1..2"), None);
        assert_eq!(parse("v1.4"), None);
        assert_eq!(parse(""), None);
    }
}
