//! A TOML document as a tree of values that remember where they were written.
//!
//! `toml::Table` forgets positions and `toml::Spanned<T>` fails outright where toml has no
//! position to give (keys and tables created implicitly by dotted keys), so the scenario
//! parser reads the file into this tree instead. It uses the same hook as `Spanned` (a struct
//! with serde_spanned's reserved name) but accepts an unspanned value as well.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;

// The reserved names toml's deserializer recognises (serde_spanned's `__unstable` protocol).
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];
// toml hands a datetime over as a one-entry map under this key.
const DATETIME_KEY: &str = "$__toml_private_datetime";

/// A value and the byte range it occupies in the source, when toml knows it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub span: Option<Range<usize>>,
    pub val: Val,
}

#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    /// Entries in file order.
    Table(Vec<(Key, Node)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub span: Option<Range<usize>>,
}

/// Parses a whole document.
pub(crate) fn parse_document(src: &str) -> Result<Node, toml::de::Error> {
    toml::from_str::<Node>(src)
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_owned(),
            span: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let (span, name) = read_spanned::<A, String>(&mut map, None)?;
        Ok(Key {
            name,
            span: Some(span),
        })
    }
}

/// Reads the rest of a spanned triple (start, end, value); `first` is the key already taken.
fn read_spanned<'de, A, T>(
    map: &mut A,
    first: Option<String>,
) -> Result<(Range<usize>, T), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    let mut start = None;
    let mut end = None;
    let mut value = None;
    let mut next = match first {
        Some(k) => Some(k),
        None => map.next_key::<String>()?,
    };
    while let Some(k) = next {
        match k.as_str() {
            SPANNED_START => start = Some(map.next_value::<usize>()?),
            SPANNED_END => end = Some(map.next_value::<usize>()?),
            SPANNED_VALUE => value = Some(map.next_value::<T>()?),
            other => return Err(de::Error::custom(format!("unexpected key `{other}`"))),
        }
        next = map.next_key::<String>()?;
    }
    match (start, end, value) {
        (Some(s), Some(e), Some(v)) => Ok((s..e.max(s), v)),
        _ => Err(de::Error::custom("incomplete spanned value")),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

/// The value inside a spanned triple.
struct Bare(Val);

impl<'de> Deserialize<'de> for Bare {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(|n| Bare(n.val))
    }
}

struct NodeVisitor;

fn bare(val: Val) -> Node {
    Node { span: None, val }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(bare(Val::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(bare(Val::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        // toml integers are i64; saturate rather than wrap if a larger one ever arrives.
        Ok(bare(Val::Int(i64::try_from(v).unwrap_or(i64::MAX))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(bare(Val::Float(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(bare(Val::Str(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(bare(Val::Str(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(bare(Val::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(bare(Val::Table(Vec::new())));
        };
        match first.name.as_str() {
            SPANNED_START => {
                let (span, Bare(val)) = read_spanned::<A, Bare>(&mut map, Some(first.name))?;
                Ok(Node {
                    span: Some(span),
                    val,
                })
            }
            DATETIME_KEY => {
                let text = map.next_value::<String>()?;
                Ok(bare(Val::Datetime(text)))
            }
            _ => {
                let mut entries = vec![(first, map.next_value::<Node>()?)];
                while let Some(k) = map.next_key::<Key>()? {
                    let v = map.next_value::<Node>()?;
                    entries.push((k, v));
                }
                Ok(bare(Val::Table(entries)))
            }
        }
    }
}

impl Node {
    /// Byte offset where the value starts (after `fill_spans`, always meaningful).
    pub fn at(&self) -> usize {
        self.span.as_ref().map_or(0, |s| s.start)
    }
}

impl Key {
    pub fn at(&self) -> usize {
        self.span.as_ref().map_or(0, |s| s.start)
    }
}

/// Gives every key and value a position: a key toml could not place takes its table's, an
/// implicit table (from a dotted key) takes its key's, an array element its array's.
pub(crate) fn fill_spans(node: &mut Node, fallback: &Range<usize>) {
    if node.span.is_none() {
        node.span = Some(fallback.clone());
    }
    let own = node.span.clone().unwrap_or_else(|| fallback.clone());
    match &mut node.val {
        Val::Array(items) => {
            for item in items {
                fill_spans(item, &own);
            }
        }
        Val::Table(entries) => {
            for (key, value) in entries {
                if key.span.is_none() {
                    key.span = Some(own.clone());
                }
                let key_span = key.span.clone().unwrap_or_else(|| own.clone());
                fill_spans(value, &key_span);
            }
        }
        _ => {}
    }
}
