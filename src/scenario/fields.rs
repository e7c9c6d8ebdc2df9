//! Typed reading of tree values, with the error messages a scenario author sees.

use super::tree::{Key, Node, Val};
use crate::config::parse_duration;
use std::time::Duration;

/// An error before it is given a line and column: a byte offset into the source.
#[derive(Debug)]
pub(crate) struct Fail {
    pub at: usize,
    pub message: String,
}

pub(crate) type R<T> = Result<T, Fail>;

pub(crate) fn fail<T>(at: usize, message: impl Into<String>) -> R<T> {
    Err(Fail {
        at,
        message: message.into(),
    })
}

/// Describes a value for "found ..." in type errors.
pub(crate) fn found(val: &Val) -> String {
    match val {
        Val::Str(s) => format!("string {s:?}"),
        Val::Int(i) => format!("integer {i}"),
        Val::Float(f) => format!("float {f}"),
        Val::Bool(b) => format!("boolean {b}"),
        Val::Datetime(d) => format!("date-time {d}"),
        Val::Array(a) if a.is_empty() => "an empty array".to_owned(),
        Val::Array(_) => "an array".to_owned(),
        Val::Table(_) => "a table".to_owned(),
    }
}

/// "`label`: expected WHAT, found ..." at the value.
pub(crate) fn expected<T>(label: &str, node: &Node, what: &str) -> R<T> {
    let mut msg = format!("`{label}`: expected {what}, found {}", found(&node.val));
    if matches!(node.val, Val::Datetime(_)) && what.contains("duration") {
        msg.push_str(" (TOML reads an unquoted time as a date-time; quote durations)");
    }
    fail(node.at(), msg)
}

pub(crate) fn as_str<'a>(label: &str, node: &'a Node) -> R<&'a str> {
    match &node.val {
        Val::Str(s) => Ok(s),
        _ => expected(label, node, "a string"),
    }
}

pub(crate) fn as_nonempty_str<'a>(label: &str, node: &'a Node) -> R<&'a str> {
    let s = as_str(label, node)?;
    if s.trim().is_empty() {
        return fail(node.at(), format!("`{label}` must not be empty"));
    }
    Ok(s)
}

pub(crate) fn as_bool(label: &str, node: &Node) -> R<bool> {
    match node.val {
        Val::Bool(b) => Ok(b),
        _ => expected(label, node, "true or false"),
    }
}

pub(crate) fn as_uint(label: &str, node: &Node) -> R<u64> {
    match node.val {
        Val::Int(i) if i >= 0 => Ok(i as u64),
        _ => expected(label, node, "a non-negative integer"),
    }
}

/// A float or an integer, finite.
pub(crate) fn as_number(label: &str, node: &Node) -> R<f64> {
    let f = match node.val {
        Val::Float(f) => f,
        Val::Int(i) => i as f64,
        _ => return expected(label, node, "a number"),
    };
    if !f.is_finite() {
        return fail(
            node.at(),
            format!("`{label}` must be a finite number, found {f}"),
        );
    }
    Ok(f)
}

pub(crate) fn as_duration(label: &str, node: &Node) -> R<Duration> {
    match &node.val {
        Val::Str(s) => parse_duration(s).map_err(|e| Fail {
            at: node.at(),
            message: format!("`{label}`: {e}"),
        }),
        _ => expected(label, node, "a duration such as \"15s\""),
    }
}

pub(crate) fn as_array<'a>(label: &str, node: &'a Node, what: &str) -> R<&'a [Node]> {
    match &node.val {
        Val::Array(items) => Ok(items),
        _ => expected(label, node, what),
    }
}

/// An array of non-empty strings, each with its node (for positions).
pub(crate) fn as_strings<'a>(
    label: &str,
    node: &'a Node,
    what: &str,
) -> R<Vec<(&'a str, &'a Node)>> {
    let items = as_array(label, node, what)?;
    items
        .iter()
        .map(|item| match &item.val {
            Val::Str(_) => as_nonempty_str(label, item).map(|s| (s, item)),
            _ => expected(label, item, "a string in the list"),
        })
        .collect()
}

/// `["35s", "40s"]`: two durations, the second not before the first.
pub(crate) fn as_range(label: &str, node: &Node, example: &str) -> R<(Duration, Duration)> {
    let what = format!("two durations such as {example}");
    let items = as_array(label, node, &what)?;
    if items.len() != 2 {
        return fail(
            node.at(),
            format!(
                "`{label}`: expected {what}, found an array of {} value{}",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            ),
        );
    }
    let start = as_duration(label, &items[0])?;
    let end = as_duration(label, &items[1])?;
    if end < start {
        return fail(
            items[1].at(),
            format!(
                "`{label}`: the end ({}) is before the start ({})",
                show(end),
                show(start)
            ),
        );
    }
    Ok((start, end))
}

/// A duration as a scenario would write it (exact to the microsecond).
pub(crate) fn show(d: Duration) -> String {
    let us = d.as_micros();
    if !us.is_multiple_of(1000) {
        format!("{}ms", us as f64 / 1000.0)
    } else {
        crate::config::fmt_duration(d)
    }
}

/// One key of a table, as found.
pub(crate) struct Field<'a> {
    /// How messages name it: `at`, or `register.port` inside an inline table.
    pub label: String,
    pub key: &'a Key,
    pub node: &'a Node,
}

impl<'a> Field<'a> {
    pub fn at(&self) -> usize {
        self.node.at()
    }
    /// The value's text if it is a string (trimmed), else empty.
    pub fn str_trimmed(&self) -> String {
        match &self.node.val {
            Val::Str(s) => s.trim().to_owned(),
            _ => String::new(),
        }
    }
    pub fn nonempty_str(&self) -> R<&'a str> {
        as_nonempty_str(&self.label, self.node)
    }
    pub fn bool(&self) -> R<bool> {
        as_bool(&self.label, self.node)
    }
    pub fn uint(&self) -> R<u64> {
        as_uint(&self.label, self.node)
    }
    pub fn number(&self) -> R<f64> {
        as_number(&self.label, self.node)
    }
    pub fn duration(&self) -> R<Duration> {
        as_duration(&self.label, self.node)
    }
    pub fn strings(&self, what: &str) -> R<Vec<(&'a str, &'a Node)>> {
        as_strings(&self.label, self.node, what)
    }
    pub fn range(&self, example: &str) -> R<(Duration, Duration)> {
        as_range(&self.label, self.node, example)
    }
    pub fn expected<T>(&self, what: &str) -> R<T> {
        expected(&self.label, self.node, what)
    }
}

/// A table being read: knows how to name itself in messages and rejects unknown keys.
pub(crate) struct Table<'a> {
    /// `[[step]]`, `[cluster]`, `` `register` ``, `the top level`.
    pub what: String,
    /// Prefix for field labels (`register` gives `register.port`); empty for header tables.
    pub prefix: String,
    pub at: usize,
    pub entries: &'a [(Key, Node)],
}

impl<'a> Table<'a> {
    /// `node` must be a table; otherwise "`label`: expected EXAMPLE, found ...".
    pub fn of(node: &'a Node, label: &str, what: String, prefix: &str, example: &str) -> R<Self> {
        match &node.val {
            Val::Table(entries) => Ok(Table {
                what,
                prefix: prefix.to_owned(),
                at: node.at(),
                entries,
            }),
            _ => expected(label, node, example),
        }
    }

    fn label(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// Every key must be in `allowed`. `hint` may explain a key that is valid elsewhere.
    pub fn check_keys(&self, allowed: &[&str], hint: impl Fn(&str) -> Option<String>) -> R<()> {
        for (key, _) in self.entries {
            if allowed.contains(&key.name.as_str()) {
                continue;
            }
            let head = format!("unknown key `{}` in {}", key.name, self.what);
            let msg = if let Some(h) = hint(&key.name) {
                format!("{head}: {h}")
            } else {
                with_suggestion(head, &key.name, allowed.iter().copied(), "expected one of")
            };
            return fail(key.at(), msg);
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<Field<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, n)| Field {
                label: self.label(key),
                key: k,
                node: n,
            })
    }

    /// A required key; `example` shows how to write it.
    pub fn require(&self, key: &str, example: &str) -> R<Field<'a>> {
        match self.get(key) {
            Some(f) => Ok(f),
            None => fail(
                self.at,
                format!("{} is missing `{key}` (e.g. {example})", self.what),
            ),
        }
    }

    /// The keys out of `keys` that are present, in file order.
    pub fn present(&self, keys: &[&str]) -> Vec<Field<'a>> {
        self.entries
            .iter()
            .filter(|(k, _)| keys.contains(&k.name.as_str()))
            .map(|(k, n)| Field {
                label: self.label(&k.name),
                key: k,
                node: n,
            })
            .collect()
    }
}

/// An inline table under a key (`register = { ... }`); `example` shows one.
pub(crate) fn sub_table<'a>(f: &Field<'a>, example: &str) -> R<Table<'a>> {
    Table::of(
        f.node,
        &f.label,
        format!("`{}`", f.label),
        &f.label,
        example,
    )
}

/// Service, group and cluster names: non-empty strings without surrounding spaces.
pub(crate) fn name_str(f: &Field) -> R<String> {
    let s = f.nonempty_str()?;
    if s.trim() != s {
        return fail(
            f.at(),
            format!("`{}`: {s:?} has leading or trailing spaces", f.label),
        );
    }
    Ok(s.to_owned())
}

/// A list of distinct cluster names.
pub(crate) fn clusters(f: &Field) -> R<Vec<String>> {
    let items = f.strings("a list of cluster names such as [\"DEFAULT\"]")?;
    let mut out: Vec<String> = Vec::new();
    for (name, node) in items {
        if out.iter().any(|c| c == name) {
            return fail(
                node.at(),
                format!("`{}`: `{name}` is listed twice", f.label),
            );
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// `head` + ": did you mean `x`?" when a candidate is close, else `head` + ": {otherwise} a, b, c".
pub(crate) fn with_suggestion<'c>(
    head: String,
    word: &str,
    candidates: impl Iterator<Item = &'c str> + Clone,
    otherwise: &str,
) -> String {
    let close = suggest(word, candidates.clone());
    if close.is_empty() {
        let all: Vec<&str> = candidates.collect();
        if all.is_empty() {
            head
        } else {
            format!("{head}: {otherwise} {}", all.join(", "))
        }
    } else {
        format!("{head}: did you mean {}?", or_list(&close))
    }
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
pub(crate) fn or_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Candidates close to `word`: within an edit distance that grows with the candidate's length
/// (1 for short names, at most 3), or sharing a prefix of at least three characters. Only the
/// closest ones are returned (up to three).
pub(crate) fn suggest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Vec<&'c str> {
    let w: Vec<char> = word.to_lowercase().chars().collect();
    let mut scored: Vec<(usize, &'c str)> = Vec::new();
    for cand in candidates {
        let c: Vec<char> = cand.to_lowercase().chars().collect();
        let limit = (c.len().max(w.len()) / 3).clamp(1, 3);
        let d = distance(&w, &c);
        let prefix = w.len().min(c.len()) >= 3 && (c.starts_with(&w) || w.starts_with(&c));
        let score = if d <= limit {
            d
        } else if prefix {
            limit + 1
        } else {
            continue;
        };
        scored.push((score, cand));
    }
    let Some(best) = scored.iter().map(|s| s.0).min() else {
        return Vec::new();
    };
    let mut out: Vec<&str> = Vec::new();
    for (score, cand) in scored {
        if score == best && !out.contains(&cand) && out.len() < 3 {
            out.push(cand);
        }
    }
    out
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["at", "client", "instances", "healthy", "within", "always"];
        assert_eq!(suggest("instnces", keys.iter().copied()), vec!["instances"]);
        assert_eq!(suggest("ta", keys.iter().copied()), vec!["at"]);
        assert!(suggest("foo", keys.iter().copied()).is_empty());
        assert_eq!(suggest("Client", keys.iter().copied()), vec!["client"]);
        let nodes = ["s1", "s2", "s3", "provider"];
        assert_eq!(suggest("s4", nodes.iter().copied()), vec!["s1", "s2", "s3"]);
        assert_eq!(suggest("provdier", nodes.iter().copied()), vec!["provider"]);
        assert_eq!(suggest("prov", nodes.iter().copied()), vec!["provider"]);
        assert_eq!(or_list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
