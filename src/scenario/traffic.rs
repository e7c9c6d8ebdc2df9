//! Consumer traffic (issue 13): a `[[client]]`'s `traffic = { ... }`, and the two expectations
//! about it, `availability = { ... }` and `stale_routing = { ... }`.

use super::ctx::{Ctx, Want};
use super::fields::{clusters, fail, name_str, or_list, sub_table, suggest, Field, Table, R};
use super::types::*;
use std::time::Duration;

const TRAFFIC_KEYS: &[&str] = &["service", "group", "clusters", "rate", "pick", "from"];
const AVAILABILITY_KEYS: &[&str] = &["client", "service", "group", "clusters", "min", "within"];
const STALE_KEYS: &[&str] = &["client", "service", "group", "clusters", "max"];
/// The most calls a second one consumer may make.
pub const MAX_RATE: f64 = 1000.0;

/// `traffic = { service = "orders", rate = "20/s", pick = "one_healthy" }`.
pub(crate) fn read_traffic(f: &Field, duration: Duration) -> R<Traffic> {
    let t = sub_table(f, "traffic = { service = \"orders\", rate = \"20/s\" }")?;
    t.check_keys(TRAFFIC_KEYS, |_| None)?;
    let service = service_ref(&t)?;
    let rate_field = t.require("rate", "rate = \"20/s\"")?;
    let rate_text = rate_field.nonempty_str()?.trim().to_owned();
    let rate = parse_rate(&rate_text).map_err(|why| super::fields::Fail {
        at: rate_field.at(),
        message: format!("`{}`: {why}", rate_field.label),
    })?;
    let pick = match t.get("pick") {
        None => Pick::OneHealthy,
        Some(p) => {
            let w = p.nonempty_str()?;
            match PICKS.iter().find(|(n, _)| *n == w) {
                Some((_, pick)) => *pick,
                None => {
                    let words: Vec<&str> = PICKS.iter().map(|p| p.0).collect();
                    let near = suggest(w, words.iter().copied());
                    let hint = if near.is_empty() {
                        format!("the strategies are {}", or_list(&words))
                    } else {
                        format!("did you mean {}?", or_list(&near))
                    };
                    return fail(p.at(), format!("`{}`: unknown pick `{w}`: {hint}", p.label));
                }
            }
        }
    };
    let from = match t.get("from") {
        None => Duration::ZERO,
        Some(w) => {
            let d = w.duration()?;
            if d > duration {
                return fail(w.at(), format!("`{}` is after the end of the run", w.label));
            }
            d
        }
    };
    Ok(Traffic {
        service,
        rate,
        rate_text,
        pick,
        from,
    })
}

/// `"20/s"`, `"0.5/s"`, `"30/m"`: calls per second, above 0 and at most [`MAX_RATE`].
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (n, per) = s.split_once('/').ok_or_else(|| {
        format!("`{s}` is not a rate: write calls per second or minute, e.g. \"20/s\" or \"30/m\"")
    })?;
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: `{n}` is not a number (e.g. \"20/s\")"))?;
    let per_s = match per.trim() {
        "s" => n,
        "m" | "min" => n / 60.0,
        other => return Err(format!("`{s}`: unknown unit `{other}`: expected s or m")),
    };
    if !(per_s.is_finite() && per_s > 0.0 && per_s <= MAX_RATE) {
        return Err(format!(
            "`{s}` is out of range: above 0 and at most {MAX_RATE}/s"
        ));
    }
    Ok(per_s)
}

fn service_ref(t: &Table) -> R<ServiceRef> {
    let service = t.require("service", "service = \"orders\"")?;
    Ok(ServiceRef {
        service: name_str(&service)?,
        group: match t.get("group") {
            Some(g) => name_str(&g)?,
            None => DEFAULT_GROUP.to_owned(),
        },
        clusters: match t.get("clusters") {
            Some(c) => clusters(&c)?,
            None => Vec::new(),
        },
    })
}

/// The keys an `[[expect]]` with `availability` or `stale_routing` has, for suggestions.
pub(crate) const EXPECT_KINDS: &[&str] = &["availability", "stale_routing"];

/// `availability = { client, service, min, within }` or `stale_routing = { client, service,
/// max }`; `f` is the field holding the inline table.
pub(crate) fn traffic_expect(ctx: &Ctx, top: &Table, f: &Field, line: usize) -> R<Expect> {
    top.check_keys(&["name", &f.key.name], |k| {
        Some(format!(
            "an `{}` expectation takes only `{}` and `name`, not `{k}`",
            f.key.name, f.key.name
        ))
    })?;
    let label = top
        .get("name")
        .map(|n| n.nonempty_str().map(str::to_owned))
        .transpose()?;
    let stale = f.key.name == "stale_routing";
    let example = if stale {
        "stale_routing = { client = \"c\", service = \"orders\", max = \"20s\" }"
    } else {
        "availability = { client = \"c\", service = \"orders\", min = 0.99 }"
    };
    let t = sub_table(f, example)?;
    t.check_keys(if stale { STALE_KEYS } else { AVAILABILITY_KEYS }, |_| None)?;
    let cf = t.require("client", "client = \"consumer\"")?;
    let wrong = |n: &str| format!("`{n}` is a server; traffic comes from a [[client]]");
    let client = ctx.node(&cf.label, cf.node, Want::Client, &wrong)?;
    let service = service_ref(&t)?;
    // The client must send traffic to exactly this service.
    match ctx.traffic.iter().find(|(c, _)| *c == client) {
        None => {
            return fail(
                cf.at(),
                format!(
                    "`{}`: client `{client}` sends no traffic: give its [[client]] \
                     `traffic = {{ service = \"{}\", rate = \"20/s\" }}`",
                    cf.label, service.service
                ),
            )
        }
        Some((_, r)) if *r != service => {
            let at = t.get("service").map_or(t.at, |s| s.at());
            return fail(
                at,
                format!(
                    "client `{client}` sends traffic to `{}`{}, not to this service",
                    r.grouped(),
                    if r.clusters.is_empty() {
                        String::new()
                    } else {
                        format!(" (clusters {})", r.clusters.join(","))
                    }
                ),
            );
        }
        Some(_) => {}
    }
    if stale {
        let mf = t.require("max", "max = \"20s\"")?;
        let max: Duration = mf.duration()?;
        return Ok(Expect::StaleRouting {
            label,
            client,
            service,
            max,
            line,
        });
    }
    let mf = t.require("min", "min = 0.99")?;
    let min = mf.number()?;
    if !(0.0..=1.0).contains(&min) {
        return fail(
            mf.at(),
            format!(
                "`{}` = {min} is out of range: 0 to 1 (a share of the calls)",
                mf.label
            ),
        );
    }
    let window = t
        .get("within")
        .map(|w| ctx.window(&w, "[\"60s\", \"120s\"]"))
        .transpose()?;
    Ok(Expect::Availability {
        label,
        client,
        service,
        min,
        window,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("20/s"), Ok(20.0));
        assert_eq!(parse_rate("30/m"), Ok(0.5));
        assert_eq!(parse_rate(" 2.5 / s"), Ok(2.5));
        assert!(parse_rate("20").unwrap_err().contains("not a rate"));
        assert!(parse_rate("0/s").unwrap_err().contains("out of range"));
        assert!(parse_rate("1001/s").unwrap_err().contains("out of range"));
        assert!(parse_rate("5/h").unwrap_err().contains("unknown unit"));
        assert!(parse_rate("x/s").unwrap_err().contains("not a number"));
    }
}
