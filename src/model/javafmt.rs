//! Java text forms the checksums and sort keys depend on (spec §1, §2):
//! `Double.toString`, `Float.toString` and `String.split`.

/// Java `Double.toString` (spec §2): plain decimal with at least one fractional
/// digit for 10^-3 ≤ |v| < 10^7, otherwise `d.dddE±n`.
///
/// Uses the shortest round-trip digits (Rust's formatter). Pre-JDK-19 Java can
/// emit a longer digit string for a few rare doubles; none of the weights the
/// simulator produces are affected.
pub fn java_double(v: f64) -> String {
    // Fast path for the integral weights nearly every instance has (1.0, 2.0, 100.0): checksums
    // format every weight on every verify round.
    if v.fract() == 0.0 && v.abs() >= 1.0 && v.abs() < 1e7 {
        return format!("{}.0", v as i64);
    }
    java_decimal(v.is_nan(), v.is_infinite(), v == 0.0, v.abs(), || {
        (format!("{v}"), format!("{v:e}"))
    })
}

/// Java `Float.toString`: same layout rules as [`java_double`], float digits.
pub fn java_float(v: f32) -> String {
    java_decimal(
        v.is_nan(),
        v.is_infinite(),
        v == 0.0,
        v.abs() as f64,
        || (format!("{v}"), format!("{v:e}")),
    )
}

fn java_decimal(
    nan: bool,
    inf: bool,
    zero: bool,
    abs: f64,
    render: impl Fn() -> (String, String),
) -> String {
    let (plain, sci) = render();
    let negative = plain.starts_with('-');
    if nan {
        return "NaN".to_string();
    }
    if inf {
        return if negative { "-Infinity" } else { "Infinity" }.to_string();
    }
    if zero {
        return if negative { "-0.0" } else { "0.0" }.to_string();
    }
    if (1e-3..1e7).contains(&abs) {
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        // Rust renders `1e7` / `1.5e-4`; Java wants `1.0E7` / `1.5E-4`.
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exp}")
        } else {
            format!("{mantissa}.0E{exp}")
        }
    }
}

/// Java `String.split` on a literal separator: trailing empty strings dropped
/// (and a string made only of separators gives no parts).
pub(crate) fn java_split<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
        parts.clear();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_cases() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (2.0, "2.0"),
            (10000.0, "10000.0"),
            (0.01, "0.01"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.001, "0.001"),
            (9999999.0, "9999999.0"),
            (1.0e7, "1.0E7"),
            (1.5e7, "1.5E7"),
            (1.0e-4, "1.0E-4"),
            (2.5e-5, "2.5E-5"),
            (-2.0, "-2.0"),
            (-1.0e7, "-1.0E7"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(java_double(v), want, "java_double({v})");
        }
    }

    #[test]
    fn java_float_cases() {
        let cases = [
            (0.0f32, "0.0"),
            (0.5, "0.5"),
            (0.8, "0.8"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.0e7, "1.0E7"),
            (1.0e-4, "1.0E-4"),
        ];
        for (v, want) in cases {
            assert_eq!(java_float(v), want, "java_float({v})");
        }
    }

    #[test]
    fn java_split_drops_trailing_empties() {
        assert_eq!(java_split("a@@b@@", "@@"), vec!["a", "b"]);
        assert_eq!(java_split("@@b", "@@"), vec!["", "b"]);
        assert_eq!(java_split("", "@@"), vec![""]);
        assert!(java_split("@@@@", "@@").is_empty());
    }
}
