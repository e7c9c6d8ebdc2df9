//! The parameters of one Open API request, as Nacos's servlet layer reads them (research
//! nacos-clients.md §4.1, spec §12): the query string and an `application/x-www-form-urlencoded`
//! body together, the query winning on a duplicate (`getParameter` takes the first value), a
//! blank value meaning absent (`WebUtils.optional`), and a missing required one answered 400
//! `Param '<name>' is required.`.

use std::collections::BTreeMap;

/// Decoded parameters: name → first value.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Params(BTreeMap<String, String>);

/// A mapping failure: the HTTP status and Nacos's plain-text body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
}

impl Refusal {
    pub fn bad(body: impl Into<String>) -> Self {
        Refusal {
            status: 400,
            body: body.into(),
        }
    }
}

/// `%XX` and `+` decoding of one `application/x-www-form-urlencoded` component; invalid UTF-8
/// is replaced, a malformed escape kept as it is (Tomcat is lenient the same way).
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Params {
    /// Query first, then the form body: a name already set by the query keeps its value.
    pub fn parse(query: &str, form: &str) -> Params {
        let mut m = BTreeMap::new();
        for part in query.split('&').chain(form.split('&')) {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            m.entry(url_decode(k)).or_insert_with(|| url_decode(v));
        }
        Params(m)
    }

    /// `WebUtils.optional`: the trimmed-blank value counts as absent.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    pub fn or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.opt(name).unwrap_or(default)
    }

    /// `WebUtils.required`: 400 `Param '<name>' is required.` when missing or blank.
    pub fn req(&self, name: &str) -> Result<&str, Refusal> {
        self.opt(name)
            .ok_or_else(|| Refusal::bad(format!("Param '{name}' is required.")))
    }

    /// A number; Java's `NumberFormatException` text as the 400 body otherwise.
    pub fn num<T: std::str::FromStr>(&self, name: &str, default: Option<T>) -> Result<T, Refusal> {
        match (self.opt(name), default) {
            (Some(v), _) => v
                .trim()
                .parse()
                .map_err(|_| Refusal::bad(format!("For input string: \"{v}\""))),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(Refusal::bad(format!("Param '{name}' is required."))),
        }
    }

    /// commons-lang `BooleanUtils.toBoolean`: `true`, `on`, `yes`, `y`, `t` in any case.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.opt(name).map_or(default, to_boolean)
    }

    /// `Boolean.parseBoolean` (the list call's `healthyOnly`): only `true`, in any case.
    pub fn parse_boolean(&self, name: &str) -> bool {
        self.opt(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

pub fn to_boolean(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "on" | "yes" | "y" | "t"
    )
}

/// `metadata`: a JSON object of strings (numbers and booleans are taken as their text, as
/// Jackson coerces them), or the legacy `k1=v1,k2=v2` form; anything else is a 400 (§12).
pub fn parse_metadata(v: Option<&str>) -> Result<BTreeMap<String, String>, Refusal> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    let v = v.trim();
    if v.starts_with('{') {
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(v)
            .map_err(|_| Refusal::bad(format!("metadata format incorrect:{v}")))?;
        return obj
            .into_iter()
            .map(|(k, val)| match val {
                serde_json::Value::String(s) => Ok((k, s)),
                serde_json::Value::Number(n) => Ok((k, n.to_string())),
                serde_json::Value::Bool(b) => Ok((k, b.to_string())),
                _ => Err(Refusal::bad(format!("metadata format incorrect:{v}"))),
            })
            .collect();
    }
    let mut m = BTreeMap::new();
    for kv in v.split(',') {
        match kv.split_once('=') {
            Some((k, val)) if !k.is_empty() => {
                m.insert(k.to_string(), val.to_string());
            }
            _ => return Err(Refusal::bad(format!("metadata format incorrect:{v}"))),
        }
    }
    Ok(m)
}
