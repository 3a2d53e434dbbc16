//! Solo mining straight against a node, as cpuminer does with `-o http://node:8332
//! --coinbase-addr ADDR`: the RPC credentials are `-u`/`-p` (or `-O`, or `user:pass@` in
//! the URL), or the node's `--rpc-cookie-file`.
//!
//! How: the `pool` crate's server runs inside this process on an ephemeral 127.0.0.1 port
//! and the ordinary Stratum worker mines on it. That reuses the pool's getblocktemplate
//! long-poll, coinbase, merkle and share code unchanged, and above all its block path: a
//! solved block is written (fsynced) to `--data-dir` before `submitblock`, retried while
//! the node is away and resubmitted at the next start, exactly as `mesos-miner pool` does.
//! Driving the pool's job code directly would have meant a second copy of that path. The
//! cost is one loopback connection; the RPC password never reaches the Stratum side (the
//! worker authorizes as `solo`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use miner_core::worker::url::PoolUrl;
use pool::credentials::{self, CredentialSources};
use pool::rpc::{RpcAuth, RpcClient};
use pool::{Backend, Pool, PoolConfig, PoolError};
use tokio::net::TcpListener;

use crate::UsageError;

/// Most Stratum connections the in-process pool takes: ours, plus slack for a reconnect
/// that overlaps the old connection's teardown. Anyone else on this host is refused.
const MAX_CONNECTIONS: usize = 4;

/// The checked solo settings.
pub(crate) struct Solo {
    /// The node's URL without any `user:pass@`.
    url: String,
    auth: RpcAuth,
    address: String,
    data_dir: PathBuf,
}

/// What the flags give for solo mining.
pub(crate) struct SoloFlags<'a> {
    /// The one `-o` URL.
    pub(crate) url: &'a str,
    /// `-u` / `-O`'s user.
    pub(crate) user: Option<&'a str>,
    /// `-p` / `-O`'s password.
    pub(crate) pass: Option<&'a str>,
    /// `--rpc-cookie-file`.
    pub(crate) cookie: Option<&'a Path>,
    /// `--coinbase-addr`.
    pub(crate) address: Option<&'a str>,
    /// `--data-dir`.
    pub(crate) data_dir: &'a Path,
}

/// True for the URLs cpuminer treats as a node (getblocktemplate over HTTP).
pub(crate) fn is_node_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `http://user:pass@host:port/` split into the URL without credentials and them.
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        None => (url.to_owned(), None),
        Some((userinfo, host)) => {
            let bare = format!("{scheme}://{host}{}", &rest[authority_end..]);
            let (u, p) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (bare, Some((u.to_owned(), p.to_owned())))
        }
    }
}

/// `http(s)://HOST[:PORT][/path]` with a host name, IPv4 or `[IPv6]` and a port in
/// 1..=65535: the RPC client only finds out at its first request, after retries.
fn check_url(url: &str) -> Result<(), UsageError> {
    let bad = |why: &str| UsageError(format!("-o {url}: not a usable node URL ({why})"));
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            h.parse::<std::net::Ipv6Addr>()
                .map_err(|_| bad("bad IPv6 address"))?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':';
    if host.is_empty() || !host.chars().all(name_char) {
        return Err(bad("expected HOST:PORT after the scheme"));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(n) if n > 0)
    {
        return Err(bad("bad port"));
    }
    Ok(())
}

impl Solo {
    /// Checks the solo flags: an address, one way to authenticate, a readable cookie file
    /// and a URL the RPC client accepts. Messages never carry the password.
    pub(crate) fn new(flags: SoloFlags<'_>) -> Result<Solo, UsageError> {
        let (url, userinfo) = split_userinfo(flags.url);
        let address = flags.address.ok_or_else(|| {
            UsageError(format!(
                "solo mining on {url} needs --coinbase-addr ADDRESS (the block reward's payee)"
            ))
        })?;
        let (user, pass) = match (&userinfo, flags.user, flags.pass) {
            (Some((u, p)), None, None) => (Some(u.as_str()), Some(p.as_str())),
            (_, u, p) => (u, p),
        };
        if let Some(cookie) = flags.cookie {
            std::fs::read(cookie)
                .map_err(|e| UsageError(format!("rpc-cookie-file {}: {e}", cookie.display())))?;
        }
        let auth = credentials::rpc_auth(CredentialSources {
            user,
            password: pass,
            password_file: None,
            cookie_file: flags.cookie,
        })
        .map_err(|_| {
            UsageError(format!(
                "solo mining on {url}: give the node's RPC credentials as -u USER -p PASS \
                 (or -O USER:PASS), or --rpc-cookie-file FILE, not both"
            ))
        })?;
        check_url(&url)?;
        RpcClient::new(&url, auth.clone(), Duration::from_secs(30))
            .map_err(|e| UsageError(format!("-o {url}: not a usable node URL ({e})")))?;
        Ok(Solo {
            url,
            auth,
            address: address.trim().to_owned(),
            data_dir: flags.data_dir.to_owned(),
        })
    }

    /// The node URL, without credentials (for the log).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Starts the in-process pool on 127.0.0.1 (waiting, with retries, for the node) and
    /// returns it with the Stratum URL the worker is to mine on. A payout address the
    /// node's chain refuses is a [`UsageError`].
    pub(crate) async fn start(&self) -> anyhow::Result<(Pool, PoolUrl)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let backend = Backend::Node {
            url: self.url.clone(),
            auth: self.auth.clone(),
        };
        let mut config =
            PoolConfig::new(backend, Some(self.address.clone()), self.data_dir.clone());
        config.max_connections = MAX_CONNECTIONS;
        let pool = match Pool::start(listener, config).await {
            Ok(p) => p,
            Err(PoolError::Config(why)) => {
                return Err(UsageError(format!("coinbase-addr: {why}")).into());
            }
            Err(e) => return Err(anyhow::anyhow!("solo mining on {}: {e}", self.url)),
        };
        let addr = pool.local_addr();
        let stratum = PoolUrl {
            tls: false,
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        Ok((pool, stratum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags<'a>(url: &'a str, dir: &'a Path) -> SoloFlags<'a> {
        SoloFlags {
            url,
            user: Some("rpc"),
            pass: Some("s3cret"),
            cookie: None,
            address: Some("bcrt1qxyz"),
            data_dir: dir,
        }
    }

    #[test]
    fn node_urls_and_userinfo() {
        assert!(is_node_url("http://127.0.0.1:8332"));
        assert!(is_node_url(" HTTPS://node/"));
        assert!(!is_node_url("stratum+tcp://pool:3333"));
        assert!(!is_node_url("pool:3333"));
        let (url, up) = split_userinfo("http://me:pa:ss@127.0.0.1:8332/wallet");
        assert_eq!(url, "http://127.0.0.1:8332/wallet");
        assert_eq!(up, Some(("me".into(), "pa:ss".into())));
        assert_eq!(split_userinfo("http://n:1").1, None);
        for good in [
            "http://127.0.0.1:8332/",
            "https://node.example",
            "http://[::1]:18443",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://",
            "http://exa mple:1/",
            "http://h:0",
            "http://h:x",
            "http://[::1",
        ] {
            let e = check_url(bad).unwrap_err();
            assert!(e.0.contains("not a usable node URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_are_checked_without_showing_the_password() {
        let dir = Path::new("solo-data");
        assert!(Solo::new(flags("http://127.0.0.1:8332/", dir)).is_ok());
        let e = Solo::new(SoloFlags {
            address: None,
            ..flags("http://me:s3cret@127.0.0.1:8332/", dir)
        })
        .err()
        .unwrap();
        assert!(e.0.contains("needs --coinbase-addr"), "{e}");
        assert!(!e.0.contains("s3cret"), "{e}");
        let e = Solo::new(SoloFlags {
            pass: None,
            ..flags("http://127.0.0.1:8332/", dir)
        })
        .err()
        .unwrap();
        assert!(e.0.contains("RPC credentials"), "{e}");
        let missing = Path::new("/nonexistent/.cookie");
        let e = Solo::new(SoloFlags {
            user: None,
            pass: None,
            cookie: Some(missing),
            ..flags("http://127.0.0.1:8332/", dir)
        })
        .err()
        .unwrap();
        assert!(
            e.0.starts_with("rpc-cookie-file /nonexistent/.cookie: "),
            "{e}"
        );
        let s = Solo::new(SoloFlags {
            user: None,
            pass: None,
            ..flags("http://me:s3cret@127.0.0.1:8332/", dir)
        })
        .unwrap();
        assert_eq!(s.url(), "http://127.0.0.1:8332/");
    }
}
