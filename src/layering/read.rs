//! Reading one source file for the layering check: comments and literals blanked, tokens,
//! `use` trees expanded, and what the file writes, defines, implements and calls.

use std::collections::{BTreeMap, BTreeSet};

pub(super) type ModPath = Vec<String>;

/// Item definitions the method-call rule and re-exports look at.
const DEF_KEYWORDS: &[&str] = &[
    "struct", "enum", "union", "type", "trait", "fn", "const", "static",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    Colons,
    Open,
    Close,
    Semi,
    Comma,
    Star,
    Lt,
    Gt,
    Dot,
    Paren,
    Other,
}

/// The code of a source text with comments and string/char literals blanked (newlines kept).
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let n = c.len();
    let mut out = String::with_capacity(text.len());
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    let skip = |out: &mut String, from: usize, to: usize| {
        for &ch in &c[from..to.min(n)] {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    while i < n {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            let end = (i..n).find(|&j| c[j] == '\n').unwrap_or(n);
            skip(&mut out, i, end);
            i = end;
        } else if ch == '/' && at(i + 1) == '*' {
            let (mut j, mut depth) = (i, 0);
            while j < n {
                if c[j] == '/' && at(j + 1) == '*' {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && at(j + 1) == '/' {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            skip(&mut out, i, j);
            i = j;
        } else if ch == 'r' && (i == 0 || !ident(c[i - 1])) && matches!(at(i + 1), '"' | '#') {
            let hashes = (i + 1..n).take_while(|&j| c[j] == '#').count();
            if at(i + 1 + hashes) != '"' {
                out.push(ch); // a raw identifier such as r#type
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let body = i + 2 + hashes;
            let end = (body..n)
                .find(|&j| c[j..].starts_with(&close.chars().collect::<Vec<_>>()[..]))
                .map_or(n, |j| j + close.chars().count());
            out.push('"');
            skip(&mut out, i + 1, end.saturating_sub(1));
            out.push('"');
            i = end;
        } else if ch == '"' {
            let mut j = i + 1;
            while j < n && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push('"');
            skip(&mut out, i + 1, j);
            out.push('"');
            i = j + 1;
        } else if ch == '\'' && (at(i + 1) == '\\' || (at(i + 2) == '\'' && at(i + 1) != '\'')) {
            // A char literal ('x', '\n', '\u{..}'); a lifetime ('a) has no closing quote.
            let mut j = i + 2;
            while j < n && c[j] != '\'' {
                j += 1;
            }
            out.push('\'');
            skip(&mut out, i + 1, j);
            out.push('\'');
            i = j + 1;
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

/// Tokens of blanked code, each with its 1-based line.
fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = vec![];
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        let tok = match ch {
            '\n' => {
                line += 1;
                i += 1;
                continue;
            }
            _ if ch.is_whitespace() => {
                i += 1;
                continue;
            }
            _ if ch.is_alphanumeric() || ch == '_' => {
                let end = (i..c.len())
                    .find(|&j| !(c[j].is_alphanumeric() || c[j] == '_'))
                    .unwrap_or(c.len());
                let word: String = c[i..end].iter().collect();
                i = end;
                let numeric = word.starts_with(|d: char| d.is_ascii_digit());
                out.push((if numeric { Tok::Other } else { Tok::Id(word) }, line));
                continue;
            }
            ':' if c.get(i + 1) == Some(&':') => {
                i += 1;
                Tok::Colons
            }
            '{' => Tok::Open,
            '}' => Tok::Close,
            ';' => Tok::Semi,
            ',' => Tok::Comma,
            '*' => Tok::Star,
            '<' => Tok::Lt,
            '>' => Tok::Gt,
            '.' => Tok::Dot,
            '(' => Tok::Paren,
            _ => Tok::Other,
        };
        out.push((tok, line));
        i += 1;
    }
    out
}

fn id(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Id(s), _)) => Some(s),
        _ => None,
    }
}

/// Expands one `use` tree starting at `toks[*i]` into (path, bound name) pairs.
fn use_tree(toks: &[(Tok, usize)], i: &mut usize, prefix: &[String], out: &mut Vec<ModPath>) {
    let mut segs = prefix.to_vec();
    loop {
        match toks.get(*i).map(|t| &t.0) {
            Some(Tok::Id(s)) if s != "as" => segs.push(s.clone()),
            Some(Tok::Star) => segs.push("*".into()),
            Some(Tok::Open) => {
                *i += 1;
                while !matches!(toks.get(*i).map(|t| &t.0), Some(Tok::Close) | None) {
                    use_tree(toks, i, &segs, out);
                    if toks.get(*i).map(|t| &t.0) == Some(&Tok::Comma) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            _ => break,
        }
        *i += 1;
        if toks.get(*i).map(|t| &t.0) != Some(&Tok::Colons) {
            break;
        }
        *i += 1;
    }
    if id(toks.get(*i)) == Some("as") {
        *i += 2;
    }
    if segs.last().is_some_and(|s| s == "self") {
        segs.pop();
    }
    if !segs.is_empty() {
        out.push(segs);
    }
}

/// One path reference written in a file (module it was written in, path, line).
pub(super) struct Written {
    pub(super) module: ModPath,
    pub(super) path: ModPath,
    pub(super) line: usize,
    pub(super) test: bool,
    pub(super) glob_use: bool,
}

/// One file as the checker reads it.
pub(super) struct File {
    pub(super) rel: String,
    pub(super) module: ModPath,
    pub(super) written: Vec<Written>,
    /// `use` bindings per module (inline modules included): name → path as written.
    pub(super) uses: Vec<(ModPath, ModPath)>,
    /// Identifiers used outside test code (for glob imports).
    pub(super) idents: BTreeSet<String>,
    /// Items defined (kind, name), outside test code.
    pub(super) defs: Vec<(String, String)>,
    /// Inherent impls: (type name, methods, line).
    pub(super) impls: Vec<(String, Vec<String>, usize)>,
    /// Method names called (`.m(` or `::m(`) outside test code, with a line.
    pub(super) calls: BTreeMap<String, usize>,
}

/// `src/a/b.rs` → `a::b`, `src/a/mod.rs` → `a`, `src/lib.rs` → the root; `main.rs` is another
/// crate and is skipped.
fn module_of(rel: &str) -> Option<ModPath> {
    let rel = rel.strip_suffix(".rs")?;
    if rel == "main" {
        return None;
    }
    let mut m: ModPath = rel.split('/').map(str::to_string).collect();
    if m.last().is_some_and(|l| l == "mod" || l == "lib") {
        m.pop();
    }
    Some(m)
}

pub(super) fn read(rel: &str, text: &str) -> Option<File> {
    let module = module_of(rel)?;
    let toks = tokens(&blank(text));
    // A `tests.rs` file, or any file of a `tests/` module directory.
    let file_test = rel.ends_with("/tests.rs")
        || rel == "tests.rs"
        || rel.starts_with("tests/")
        || rel.contains("/tests/");
    let mut f = File {
        rel: rel.to_string(),
        module: module.clone(),
        written: vec![],
        uses: vec![],
        idents: BTreeSet::new(),
        defs: vec![],
        impls: vec![],
        calls: BTreeMap::new(),
    };
    // Inline modules (name, depth inside them); an open impl (index in f.impls, depth inside).
    let mut inline: Vec<(String, usize)> = vec![];
    let mut open_impl: Option<(usize, usize)> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        let here: ModPath = module
            .iter()
            .chain(inline.iter().map(|m| &m.0))
            .cloned()
            .collect();
        let test = file_test || inline.iter().any(|m| m.0 == "tests");
        let line = toks[i].1;
        match &toks[i].0 {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
                if open_impl.is_some_and(|o| o.1 == depth) {
                    open_impl = None;
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Id(w) if w == "mod" => {
                if let (Some(name), Some((Tok::Open, _))) = (id(toks.get(i + 1)), toks.get(i + 2)) {
                    inline.push((name.to_string(), depth + 1));
                }
            }
            Tok::Id(w) if w == "use" => {
                let mut paths = vec![];
                i += 1;
                use_tree(&toks, &mut i, &[], &mut paths);
                for p in paths {
                    let glob_use = p.last().is_some_and(|s| s == "*");
                    if !test {
                        f.uses.push((here.clone(), p.clone()));
                    }
                    f.written.push(Written {
                        module: here.clone(),
                        path: p,
                        line,
                        test,
                        glob_use,
                    });
                }
                continue;
            }
            Tok::Id(w) if w == "impl" && !test => {
                // impl<..> Type<..> { : the type is the last name before `{`, unless `for` comes.
                let (mut j, mut angle, mut name, mut is_trait) = (i + 1, 0i32, None, false);
                while let Some((t, _)) = toks.get(j) {
                    match t {
                        Tok::Lt => angle += 1,
                        Tok::Gt => angle -= 1,
                        Tok::Id(s) if angle == 0 && s == "for" => is_trait = true,
                        Tok::Id(s) if angle == 0 && s == "where" => break,
                        Tok::Id(s) if angle == 0 => name = Some(s.clone()),
                        Tok::Open | Tok::Semi => break,
                        _ => {}
                    }
                    j += 1;
                }
                if let (Some(name), false) = (name, is_trait) {
                    f.impls.push((name, vec![], line));
                    let k = f.impls.len() - 1;
                    // The impl's `{` is the next Open; its body is one level deeper.
                    let body = toks[j..]
                        .iter()
                        .position(|t| t.0 == Tok::Open)
                        .map(|_| depth + 1);
                    open_impl = body.map(|d| (k, d));
                }
            }
            Tok::Id(w) if DEF_KEYWORDS.contains(&w.as_str()) && !test => {
                if let Some(name) = id(toks.get(i + 1)) {
                    f.defs.push((w.clone(), name.to_string()));
                    if let (Some((k, d)), "fn") = (open_impl, w.as_str()) {
                        if d == depth {
                            f.impls[k].1.push(name.to_string());
                        }
                    }
                }
            }
            Tok::Id(w) => {
                if !test {
                    f.idents.insert(w.clone());
                    let after_dot = i > 0 && matches!(toks[i - 1].0, Tok::Dot | Tok::Colons);
                    if after_dot && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Paren) {
                        f.calls.entry(w.clone()).or_insert(line);
                    }
                }
                // A path: `a::b::c` not itself after `::`.
                let starts = i == 0 || toks[i - 1].0 != Tok::Colons;
                if starts && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::Colons) {
                    let mut path = vec![w.clone()];
                    let mut j = i + 1;
                    while toks.get(j).map(|t| &t.0) == Some(&Tok::Colons) {
                        match id(toks.get(j + 1)) {
                            Some(s) => path.push(s.to_string()),
                            None => break,
                        }
                        j += 2;
                    }
                    f.written.push(Written {
                        module: here,
                        path,
                        line,
                        test,
                        glob_use: false,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    Some(f)
}
