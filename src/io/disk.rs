//! A node's persistent store: survives crash and restart because the harness keeps it, not the
//! process. Legacy Raft (§9) keeps its term and datums here; madsim's own fs has no faults and
//! madsim-tokio's fs is real, so persistence lives in this type instead.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Files by name. Cloning shares the same disk. A disk made with [`Disk::in_dir`] (live mode,
/// issue 12) also writes every file through to a real directory; the simulation's never does.
/// The simulation can stall it (fault `stall_disk`): the writes that wait for it (JRaft log
/// appends) wait until the stall ends.
#[derive(Clone, Default, Debug)]
pub struct Disk(
    Arc<Mutex<BTreeMap<String, String>>>,
    Option<Arc<std::path::PathBuf>>,
    Arc<Stall>,
);

/// Whether the disk is stalled, and the writes waiting for it. (A `Notify`, whose waiters wake
/// in order, rather than a `watch` channel, which picks among its notifiers at random.)
#[derive(Default, Debug)]
pub struct Stall {
    stalled: Mutex<bool>,
    resumed: tokio::sync::Notify,
}

/// A file name as one flat file of the directory: anything but `[A-Za-z0-9._-]` as `%XX`.
fn escape(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn unescape(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let (mut out, mut i) = (vec![], 0);
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(name.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Disk {
    /// A disk kept in `dir` (created if missing): the files already there are loaded, and
    /// every write and remove goes through to it.
    pub fn in_dir(dir: &std::path::Path) -> std::io::Result<Disk> {
        std::fs::create_dir_all(dir)?;
        let mut files = BTreeMap::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(name) = unescape(&name) {
                files.insert(name, std::fs::read_to_string(e.path())?);
            }
        }
        Ok(Disk(
            Arc::new(Mutex::new(files)),
            Some(Arc::new(dir.to_path_buf())),
            Default::default(),
        ))
    }

    /// Stalls the disk's writes, or ends the stall (fault `stall_disk` / `unstall_disk`).
    pub fn set_stalled(&self, stalled: bool) {
        *self.2.stalled.lock().unwrap() = stalled;
        if !stalled {
            self.2.resumed.notify_waiters();
        }
    }

    pub fn stalled(&self) -> bool {
        *self.2.stalled.lock().unwrap()
    }

    /// Waits until the disk completes writes again (at once when it is not stalled).
    pub async fn writable(&self) {
        loop {
            let resumed = self.2.resumed.notified();
            if !self.stalled() {
                return;
            }
            resumed.await;
        }
    }

    pub fn write(&self, file: &str, contents: impl Into<String>) {
        let contents = contents.into();
        if let Some(dir) = &self.1 {
            if let Err(e) = std::fs::write(dir.join(escape(file)), &contents) {
                eprintln!("cannot write {file} in {}: {e}", dir.display());
            }
        }
        self.0.lock().unwrap().insert(file.to_string(), contents);
    }

    pub fn read(&self, file: &str) -> Option<String> {
        self.0.lock().unwrap().get(file).cloned()
    }

    pub fn remove(&self, file: &str) {
        if let Some(dir) = &self.1 {
            let _ = std::fs::remove_file(dir.join(escape(file)));
        }
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

    #[test]
    fn a_disk_in_a_directory_survives_being_opened_again() {
        let dir = std::env::temp_dir().join(format!("nacos-sim-disk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = Disk::in_dir(&dir).unwrap();
        d.write("raft/meta.properties", "term=3");
        d.write("x y", "1");
        d.remove("x y");
        let again = Disk::in_dir(&dir).unwrap();
        assert_eq!(
            again.read("raft/meta.properties").as_deref(),
            Some("term=3")
        );
        assert_eq!(again.list(""), vec!["raft/meta.properties"]);
        assert_eq!(unescape(&escape("a/b%c")).as_deref(), Some("a/b%c"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
