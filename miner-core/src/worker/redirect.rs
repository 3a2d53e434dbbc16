//! `client.reconnect` (spec/stratum.md Part A.1): where a pool may send the miner. By
//! default only to the host of the configured `-o` URL (another port is fine); any other
//! host only with `--allow-redirect` (cpuminer follows every redirect unless
//! `--no-redirect`; we choose the safe default, issue 11 hole 3). A followed redirect holds
//! for one slot of the `-o` list until a session on it ends: the configured URL is never
//! replaced, so a redirected pool that fails falls back to the configured list.

use std::net::IpAddr;
use std::time::Duration;

use stratum::methods::Reconnect;

use super::url::PoolUrl;

/// Where a `client.reconnect` received on `current` points: its empty parts mean the
/// current pool's (as cpuminer reads them). `None` when the host is no host name or IP
/// address (it would also end up in log lines).
pub(crate) fn target(current: &PoolUrl, r: &Reconnect) -> Option<(PoolUrl, Duration)> {
    let mut url = current.clone();
    if let Some(host) = r.host.as_deref().filter(|h| !h.is_empty()) {
        let plausible = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !plausible {
            return None;
        }
        url.host = host.to_owned();
    }
    if let Some(port) = r.port.filter(|p| *p != 0) {
        url.port = port;
    }
    Some((url, Duration::from_secs(r.wait.unwrap_or(0))))
}

/// True when a redirect to `to` may be followed from the configured pool `configured`.
pub(crate) fn may_follow(configured: &PoolUrl, to: &PoolUrl, allow_redirect: bool) -> bool {
    allow_redirect || same_host(&configured.host, &to.host)
}

/// Host names compare without case (RFC 4343); IP addresses by value, so `::1` and
/// `0:0:0:0:0:0:0:1` are one host. A name and an address are never the same host: the
/// name's addresses are the pool's DNS to decide, not the pool's own line.
fn same_host(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => a
            .trim_end_matches('.')
            .eq_ignore_ascii_case(b.trim_end_matches('.')),
        _ => false,
    }
}

/// A followed redirect: slot `slot` of the `-o` list dials `url` instead, for one session
/// (which starts fresh: the configured pool's resume info is not the new host's).
#[derive(Debug, Clone)]
pub(crate) struct Redirected {
    /// Index into the `-o` list.
    pub(crate) slot: usize,
    /// Where the pool sent the miner.
    pub(crate) url: PoolUrl,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16) -> PoolUrl {
        PoolUrl {
            tls: false,
            host: host.into(),
            port,
        }
    }

    fn reconnect(host: &str, port: u16) -> Reconnect {
        Reconnect {
            host: Some(host.into()),
            port: Some(port),
            wait: Some(0),
        }
    }

    #[test]
    fn only_the_same_host_unless_allowed() {
        let home = url("pool.example", 3333);
        let (to, wait) = target(&home, &reconnect("192.0.2.1", 3333)).unwrap();
        assert_eq!((to.host.as_str(), wait), ("192.0.2.1", Duration::ZERO));
        assert!(!may_follow(&home, &to, false));
        assert!(may_follow(&home, &to, true));
        for (host, ok) in [
            ("POOL.example", true),
            ("pool.example.", true),
            ("evil.example", false),
            ("pool.example.evil", false),
        ] {
            let (to, _) = target(&home, &reconnect(host, 4444)).unwrap();
            assert_eq!(may_follow(&home, &to, false), ok, "{host}");
        }
        let v6 = url("::1", 1);
        assert!(may_follow(&v6, &url("0:0:0:0:0:0:0:1", 2), false));
        assert!(!may_follow(
            &url("127.0.0.1", 1),
            &url("localhost", 1),
            false
        ));
    }

    #[test]
    fn empty_parts_keep_the_current_pools() {
        let home = url("10.0.0.1", 3333);
        let r = Reconnect {
            host: Some(String::new()),
            port: Some(0),
            wait: None,
        };
        let (to, wait) = target(&home, &r).unwrap();
        assert_eq!((to, wait), (home.clone(), Duration::ZERO));
        let (to, _) = target(&home, &Reconnect::default()).unwrap();
        assert!(may_follow(&home, &to, false));
    }

    #[test]
    fn a_host_that_is_no_host_is_refused() {
        let home = url("10.0.0.1", 3333);
        for host in ["evil\nINFO forged line", "a b", "h/x", "ünï"] {
            assert!(target(&home, &reconnect(host, 1)).is_none(), "{host:?}");
        }
    }
}
