//! A node's persistent store: survives crash and restart because the harness keeps it, not the
//! process. Legacy Raft (§9) keeps its term and datums here; madsim's own fs has no faults and
//! madsim-tokio's fs is real, so persistence lives in this type instead.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Files by name. Cloning shares the same disk.
#[derive(Clone, Default, Debug)]
pub struct Disk(Arc<Mutex<BTreeMap<String, String>>>);

impl Disk {
    pub fn write(&self, file: &str, contents: impl Into<String>) {
        self.0
            .lock()
            .unwrap()
            .insert(file.to_string(), contents.into());
    }

    pub fn read(&self, file: &str) -> Option<String> {
        self.0.lock().unwrap().get(file).cloned()
    }

    pub fn remove(&self, file: &str) {
        self.0.lock().unwrap().remove(file);
    }

    /// File names with the given prefix, sorted.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let d = self.0.lock().unwrap();
        d.range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_contents_and_list_is_sorted() {
        let d = Disk::default();
        let d2 = d.clone();
        d.write("raft/b", "2");
        d.write("raft/a", "1");
        d.write("meta", "x");
        assert_eq!(d2.read("raft/a").as_deref(), Some("1"));
        assert_eq!(d2.list("raft/"), vec!["raft/a", "raft/b"]);
        d2.remove("raft/a");
        assert_eq!(d.list("raft/"), vec!["raft/b"]);
    }
}
