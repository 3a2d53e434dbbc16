//! `-c config.json`: a JSON object whose keys are the long flag names (as cpuminer's config
//! files are). Values given on the command line win; `url` may be a string or a list, and
//! `cpu-affinity` a string or a number.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Args;
use crate::UsageError;

/// Largest config file read.
const MAX_CONFIG: u64 = 1 << 20;

/// Reads `path` and fills every option not given on the command line.
pub(crate) fn merge_file(args: &mut Args, path: &Path) -> Result<(), UsageError> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| UsageError(format!("config {shown}: {e}")))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_CONFIG + 1), &mut text)
        .map_err(|e| UsageError(format!("config {shown}: {e}")))?;
    if text.len() as u64 > MAX_CONFIG {
        return Err(UsageError(format!(
            "config {shown}: larger than {MAX_CONFIG} bytes"
        )));
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| UsageError(format!("config {shown}: not valid JSON ({e})")))?;
    let Value::Object(map) = value else {
        return Err(UsageError(format!("config {shown}: must be a JSON object")));
    };
    merge(args, &map).map_err(|e| UsageError(format!("config {shown}: {}", e.0)))
}

/// Fills the unset fields of `args` from `map`.
pub(crate) fn merge(args: &mut Args, map: &Map<String, Value>) -> Result<(), UsageError> {
    for (key, value) in map {
        let bad = |what: &str| UsageError(format!("{key}: expected {what}"));
        match key.as_str() {
            "url" => {
                if args.url.is_empty() {
                    args.url =
                        strings(value).ok_or_else(|| bad("a string or a list of strings"))?;
                }
            }
            "user" => fill(&mut args.user, || {
                str_of(value).ok_or_else(|| bad("a string"))
            })?,
            "pass" => fill(&mut args.pass, || {
                str_of(value).ok_or_else(|| bad("a string"))
            })?,
            "userpass" => {
                let up = str_of(value).ok_or_else(|| bad("a USER:PASS string"))?;
                let (u, p) = up
                    .split_once(':')
                    .ok_or_else(|| bad("a USER:PASS string"))?;
                // -O on the command line gives both and wins (it is split after the merge).
                if args.userpass.is_none() {
                    fill(&mut args.user, || Ok(u.to_owned()))?;
                    fill(&mut args.pass, || Ok(p.to_owned()))?;
                }
            }
            "threads" => fill(&mut args.threads, || {
                value
                    .as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| bad("a positive integer"))
            })?,
            "retries" => fill(&mut args.retries, || {
                value.as_i64().ok_or_else(|| bad("an integer"))
            })?,
            "retry-pause" => fill(&mut args.retry_pause, || {
                num(value).ok_or_else(|| bad("seconds"))
            })?,
            "timeout" => fill(&mut args.timeout, || {
                num(value).ok_or_else(|| bad("seconds"))
            })?,
            "failback-interval" => fill(&mut args.failback_interval, || {
                num(value).ok_or_else(|| bad("seconds"))
            })?,
            "report-interval" => fill(&mut args.report_interval, || {
                num(value).ok_or_else(|| bad("seconds"))
            })?,
            "suggest-diff" => fill(&mut args.suggest_diff, || {
                num(value).ok_or_else(|| bad("a number"))
            })?,
            "kernel" => fill(&mut args.kernel, || {
                str_of(value).ok_or_else(|| bad("a string"))
            })?,
            "cert" => fill(&mut args.cert, || {
                str_of(value)
                    .map(PathBuf::from)
                    .ok_or_else(|| bad("a file name"))
            })?,
            "api-bind" => fill(&mut args.api_bind, || {
                str_of(value).ok_or_else(|| bad("HOST:PORT"))
            })?,
            "algo" => fill(&mut args.algo, || {
                str_of(value).ok_or_else(|| bad("a string"))
            })?,
            "cpu-affinity" => fill(&mut args.cpu_affinity, || {
                str_of(value)
                    .or_else(|| value.as_u64().map(|n| n.to_string()))
                    .ok_or_else(|| bad("a CPU bitmask"))
            })?,
            "cpu-priority" => fill(&mut args.cpu_priority, || {
                value
                    .as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| bad("0..=5"))
            })?,
            "coinbase-addr" => fill(&mut args.coinbase_addr, || {
                str_of(value).ok_or_else(|| bad("an address"))
            })?,
            "rpc-cookie-file" => fill(&mut args.rpc_cookie_file, || {
                str_of(value)
                    .map(PathBuf::from)
                    .ok_or_else(|| bad("a file name"))
            })?,
            "data-dir" => fill(&mut args.data_dir, || {
                str_of(value)
                    .map(PathBuf::from)
                    .ok_or_else(|| bad("a directory"))
            })?,
            "no-color" => args.no_color |= value.as_bool().ok_or_else(|| bad("true or false"))?,
            "allow-redirect" => {
                args.allow_redirect |= value.as_bool().ok_or_else(|| bad("true or false"))?;
            }
            "quiet" => args.quiet |= value.as_bool().ok_or_else(|| bad("true or false"))?,
            "benchmark" => args.benchmark |= value.as_bool().ok_or_else(|| bad("true or false"))?,
            "no-version-rolling" => {
                args.no_version_rolling |= value.as_bool().ok_or_else(|| bad("true or false"))?;
            }
            "config" => return Err(UsageError("config: config files do not nest".into())),
            other => return Err(UsageError(format!("unknown option {other:?}"))),
        }
    }
    Ok(())
}

fn fill<T>(
    slot: &mut Option<T>,
    value: impl FnOnce() -> Result<T, UsageError>,
) -> Result<(), UsageError> {
    if slot.is_none() {
        *slot = Some(value()?);
    }
    Ok(())
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items.iter().map(str_of).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn file_fills_what_the_command_line_left_out() {
        let mut args = Args {
            threads: Some(4),
            ..Args::default()
        };
        let cfg = json!({"url": ["stratum+tcp://a:1", "b:2"], "user": "me", "threads": 8,
            "retry-pause": 5, "quiet": true, "suggest-diff": 0.5, "api-bind": "127.0.0.1:9"});
        merge(&mut args, &map(cfg)).unwrap();
        assert_eq!(args.url, ["stratum+tcp://a:1", "b:2"]);
        assert_eq!(args.user.as_deref(), Some("me"));
        assert_eq!(args.threads, Some(4), "command line wins");
        assert_eq!(args.retry_pause, Some(5.0));
        assert!(args.quiet);
        assert_eq!(args.suggest_diff, Some(0.5));
        assert_eq!(args.api_bind.as_deref(), Some("127.0.0.1:9"));
        let cfg = json!({"algo": "sha256d", "cpu-affinity": 3, "cpu-priority": 2,
            "no-color": true, "coinbase-addr": "bcrt1q", "rpc-cookie-file": "/c",
            "data-dir": "d", "allow-redirect": true});
        merge(&mut args, &map(cfg)).unwrap();
        assert_eq!(args.algo.as_deref(), Some("sha256d"));
        assert_eq!(args.cpu_affinity.as_deref(), Some("3"));
        assert_eq!(args.cpu_priority, Some(2));
        assert!(args.no_color);
        assert!(args.allow_redirect);
        assert_eq!(args.coinbase_addr.as_deref(), Some("bcrt1q"));
        assert_eq!(args.rpc_cookie_file, Some(PathBuf::from("/c")));
        assert_eq!(args.data_dir, Some(PathBuf::from("d")));
        let e = merge(&mut Args::default(), &map(json!({"cpu-priority": 300}))).unwrap_err();
        assert!(e.0.contains("cpu-priority: expected 0..=5"), "{}", e.0);
    }

    #[test]
    fn command_line_urls_replace_the_file_list() {
        let mut args = Args {
            url: vec!["c:3".into()],
            ..Args::default()
        };
        merge(&mut args, &map(json!({"url": "a:1", "userpass": "u:p"}))).unwrap();
        assert_eq!(args.url, ["c:3"]);
        assert_eq!(
            (args.user.as_deref(), args.pass.as_deref()),
            (Some("u"), Some("p"))
        );
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let mut args = Args::default();
        let e = merge(&mut args, &map(json!({"threds": 2}))).unwrap_err();
        assert!(e.0.contains("unknown option \"threds\""), "{}", e.0);
        let e = merge(&mut args, &map(json!({"threads": "two"}))).unwrap_err();
        assert!(e.0.contains("threads: expected"), "{}", e.0);
        let e = merge_file(&mut args, Path::new("/nonexistent.json")).unwrap_err();
        assert!(e.0.starts_with("config /nonexistent.json"), "{}", e.0);
    }
}
