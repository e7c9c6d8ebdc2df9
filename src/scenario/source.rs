//! Reading a scenario file within limits, and showing an error at its line: [`ScenarioError`],
//! its snippet of the source, and the limits every scenario is held to.

use std::fmt;
use std::path::Path;
use std::time::Duration;

/// A problem in a scenario file, at a 1-based line and column (0:0 when the file could not be
/// read at all). Displays as `path:line:col: message`, or `path: message` without a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.path, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// The offending line of `src` with a caret under the column, as compilers show it
    /// (`None` without a position or when `src` has no such line). A TOML syntax error also
    /// shows the two lines before, where an unclosed bracket or quote usually is.
    pub fn snippet(&self, src: &str) -> Option<String> {
        let i = self.line.checked_sub(1)?;
        let mut lines: Vec<&str> = src.lines().collect();
        if i == lines.len() {
            // The end of the file, after its last line break (or an empty file).
            lines.push("");
        }
        lines.get(i)?;
        let before = if self.message.starts_with("invalid TOML") {
            2
        } else {
            0
        };
        let width = self.line.to_string().len();
        let gutter = " ".repeat(width);
        let mut out = format!("{gutter} |");
        let mut caret = 0;
        for (j, l) in lines.iter().enumerate().take(i + 1).skip(i - i.min(before)) {
            let col = if j == i { self.col.max(1) - 1 } else { 0 };
            let (shown, at) = clip(l, col);
            caret = at;
            out.push_str(&format!("\n{:>width$} | {shown}", j + 1));
        }
        out.push_str(&format!("\n{gutter} | {}^", " ".repeat(caret)));
        Some(out)
    }
}

/// A source line for a snippet: at most [`SNIPPET_WIDTH`] characters around column `col`
/// (0-based), with `…` where it was cut and tabs as spaces; and the caret's column in it.
fn clip(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    if chars.len() <= SNIPPET_WIDTH {
        let at = col.min(chars.len());
        return (chars.into_iter().collect(), at);
    }
    let col = col.min(chars.len());
    let start = col.saturating_sub(SNIPPET_WIDTH / 2);
    let end = (start + SNIPPET_WIDTH).min(chars.len());
    let mut s = String::new();
    let mut at = col - start;
    if start > 0 {
        s.push('…');
        at += 1;
    }
    s.extend(&chars[start..end]);
    if end < chars.len() {
        s.push('…');
    }
    (s, at)
}

/// Widest source line a snippet shows, in characters.
const SNIPPET_WIDTH: usize = 100;

/// The largest scenario file `load` reads: 1 MiB. Real scenarios are a few KiB; a larger file
/// (or a device such as /dev/zero) is refused before it is parsed.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The longest run a scenario may ask for (`duration`).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Most faults a `[chaos]` table may draw: (end − start) / the shortest gap of `every`.
pub const MAX_CHAOS_FAULTS: u128 = 10_000;

/// Reads a scenario file's text: at most [`MAX_FILE_BYTES`], UTF-8. Errors say why in words
/// (`no such file`, `is a folder`, `larger than 1 MiB`) with no position, except an invalid
/// byte, which has one.
pub fn read_source(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let err = |message: String| ScenarioError {
        path: shown.clone(),
        line: 0,
        col: 0,
        message,
    };
    let cannot = |e: std::io::Error| {
        err(match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::PermissionDenied => {
                "cannot read the scenario file: permission denied".to_owned()
            }
            std::io::ErrorKind::IsADirectory => {
                "is a folder, not a scenario file (`nacos-sim list` lists a folder)".to_owned()
            }
            _ => format!("cannot read the scenario file: {e}"),
        })
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(cannot(std::io::ErrorKind::IsADirectory.into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!(
            "the file is larger than {} MiB, the limit for a scenario file: is it a scenario?",
            MAX_FILE_BYTES >> 20
        )));
    }
    decode(bytes, &shown)
}

/// The bytes of a file as text, or an error at the first byte that is not UTF-8.
pub(crate) fn decode(bytes: Vec<u8>, path: &str) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let good = e.utf8_error().valid_up_to();
        // The valid prefix is UTF-8 by definition.
        let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or("");
        let (line, col) = line_col(prefix, good);
        ScenarioError {
            path: path.to_owned(),
            line,
            col,
            message: "the file is not valid UTF-8".to_owned(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}
