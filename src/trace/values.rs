//! The values that event fields carry, and how each renders in an event line: the
//! [`FieldValue`] trait, the closed vocabularies (roles, results, causes: the `words!` enums)
//! and the list types. [`super::event`] declares the kinds that use them; nothing here knows
//! about kinds, so the two files import in one direction only.

use std::fmt;
use std::net::SocketAddr;

/// A field value as it appears in an event line; `None` leaves the field out.
pub trait FieldValue {
    fn render(&self) -> Option<String>;
}

macro_rules! display_fields {
    ($($t:ty),*) => {
        $(impl FieldValue for $t {
            fn render(&self) -> Option<String> {
                Some(self.to_string())
            }
        })*
    };
}
display_fields!(
    String,
    &'static str,
    u64,
    u32,
    u16,
    usize,
    i64,
    f64,
    SocketAddr
);

impl<T: FieldValue> FieldValue for Option<T> {
    fn render(&self) -> Option<String> {
        self.as_ref().and_then(|v| v.render())
    }
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($var:ident = $word:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name { $($var),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $word),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FieldValue for $name {
            fn render(&self) -> Option<String> {
                Some(self.as_str().to_string())
            }
        }
    };
}

words! {
    /// A Raft role (legacy Raft §9 and JRaft §J5 share the words).
    Role { Follower = "FOLLOWER", Candidate = "CANDIDATE", Leader = "LEADER" }
}

words! {
    /// A member's state in a server's member list (§4).
    NodeState { Up = "UP", Suspicious = "SUSPICIOUS", Down = "DOWN" }
}

words! {
    /// How data or a list reached a node: replication paths on servers, push or poll on clients.
    Via { Distro = "distro", Verify = "verify", Load = "load", Raft = "raft", Push = "push", Poll = "poll" }
}

words! {
    /// Why an instance's health changed or it was deleted.
    HealthReason { Beat = "beat", StatusSync = "status_sync", TcpProbe = "tcp_probe", Expired = "expired" }
}

words! {
    /// `fault.resume order=`: what a resumed node ran first (§16: a GC pause's overdue timers
    /// racing its queued requests).
    RunFirst { Timers = "timers-first", Requests = "requests-first" }
}

words! {
    /// `fault.no_connect mode=`: how a connection from `from` toward `to` fails.
    ConnectFail { Timeout = "timeout", Refused = "refused" }
}

words! {
    /// A server's status (ServerStatusManager, jraft spec §J9.1).
    ServerState { Starting = "STARTING", Up = "UP", Down = "DOWN" }
}

words! {
    /// What a JRaft naming write does to its key (jraft spec §J6.1).
    WriteOp { Write = "write", Delete = "delete" }
}

/// How a JRaft write ended, judged by JRaft, not by the HTTP reply (jraft spec §J13.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteResult {
    /// Committed and applied by the leader: the caller got `ok`.
    Committed,
    /// 1.4.1's flaw (jraft spec §J6.6): forwarded to a node that is not the leader, answered
    /// `success=false`, taken for success: the caller got `ok` and nothing is applied.
    OkNotApplied,
    /// Definitely not applied (no leader, leader unreachable, a read failed first).
    Rejected(String),
    /// The caller got an error but the entry may still commit (a forward or wait timed out,
    /// "Leader stepped down" for an entry already on other nodes).
    Indeterminate(String),
}

impl WriteResult {
    /// The caller was told `ok`.
    pub fn acknowledged(&self) -> bool {
        matches!(self, WriteResult::Committed | WriteResult::OkNotApplied)
    }
}

impl FieldValue for WriteResult {
    fn render(&self) -> Option<String> {
        Some(match self {
            WriteResult::Committed => "ok".into(),
            WriteResult::OkNotApplied => {
                "ok without commit (forwarded to a non-leader, 1.4.1)".into()
            }
            WriteResult::Rejected(why) => format!("rejected: {why}"),
            WriteResult::Indeterminate(why) => format!("indeterminate: {why}"),
        })
    }
}

words! {
    /// `distro.verify result=`: the round named a key this node owns and was dropped (§6).
    VerifyAbort { OwnedKey = "aborted: the checksums name a key this node owns" }
}

words! {
    /// `raft.delete reason=`: a follower dropped a key its leader's beat lacks (§9).
    BeatAbsent { AbsentFromBeat = "absent from the leader's beat" }
}

/// The end of an operation: `ok`, or `failed: <why>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Ok,
    Failed(String),
}

impl Done {
    pub fn is_ok(&self) -> bool {
        matches!(self, Done::Ok)
    }
}

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Done::Ok => f.write_str("ok"),
            Done::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl FieldValue for Done {
    fn render(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// A value, or `-` when there is none (the field is still shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrDash<T>(pub Option<T>);

impl<T: fmt::Display> FieldValue for OrDash<T> {
    fn render(&self) -> Option<String> {
        Some(match &self.0 {
            Some(v) => v.to_string(),
            None => "-".into(),
        })
    }
}

/// Why one client request to one server failed: a non-2xx reply, or no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    Status {
        code: u16,
        msg: String,
    },
    /// The transport's error, as the client sees it (`connect timed out`, ...).
    Io(String),
}

impl FieldValue for RequestError {
    fn render(&self) -> Option<String> {
        Some(match self {
            RequestError::Status { code, msg } => format!("{code} {msg}"),
            RequestError::Io(e) => e.clone(),
        })
    }
}

/// One host of a list: `ip:port`, `(unhealthy)` appended when it is not healthy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Host {
    pub instance: String,
    pub healthy: bool,
}

/// A list of hosts as a client sees it, `[a,b(unhealthy)]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostList(pub Vec<Host>);

impl fmt::Display for HostList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, h) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&h.instance)?;
            if !h.healthy {
                f.write_str("(unhealthy)")?;
            }
        }
        f.write_str("]")
    }
}

impl FieldValue for HostList {
    fn render(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// What a scenario's client call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallResult {
    Ok,
    /// A NacosException: its code and message.
    Error {
        code: u16,
        msg: String,
    },
    /// The client process was down when the step came.
    Skipped,
    /// A list (get_all_instances, select_instances, subscribe).
    Hosts(HostList),
    /// select_one_healthy's pick.
    Instance(String),
}

impl CallResult {
    /// The call did not do what it was asked (an error, or skipped).
    pub fn failed(&self) -> bool {
        matches!(self, CallResult::Error { .. } | CallResult::Skipped)
    }
}

impl FieldValue for CallResult {
    fn render(&self) -> Option<String> {
        Some(match self {
            CallResult::Ok => "ok".into(),
            CallResult::Error { code, msg } => format!("error {code} {msg}"),
            CallResult::Skipped => "skipped: the client process is down".into(),
            CallResult::Hosts(h) => h.to_string(),
            CallResult::Instance(i) => i.clone(),
        })
    }
}

/// Node names, `a,b,c` (`(none)` when a role target named nobody).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names(pub Vec<String>);

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&self.0.join(","))
        }
    }
}

impl FieldValue for Names {
    fn render(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// Groups of node names, `[a,b] | [c]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Groups(pub Vec<Names>);

impl FieldValue for Groups {
    fn render(&self) -> Option<String> {
        let g: Vec<String> = self.0.iter().map(|g| format!("[{g}]")).collect();
        Some(g.join(" | "))
    }
}

/// The anomaly kinds the always-on checkers report (`anomaly.<kind>` events; scenario
/// `anomaly = "<kind>"` expectations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anomaly {
    Divergence,
    TwoLeaders,
    DirtyWrite,
    LostWrite,
}

impl Anomaly {
    pub const ALL: &'static [Anomaly] = &[
        Anomaly::Divergence,
        Anomaly::TwoLeaders,
        Anomaly::DirtyWrite,
        Anomaly::LostWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Anomaly::Divergence => "divergence",
            Anomaly::TwoLeaders => "two_leaders",
            Anomaly::DirtyWrite => "dirty_write",
            Anomaly::LostWrite => "lost_write",
        }
    }

    pub fn parse(s: &str) -> Option<Anomaly> {
        Anomaly::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

impl serde::Serialize for Anomaly {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
