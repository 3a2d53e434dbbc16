//! Pool URLs as cpuminer users write them: `stratum+tcp://host:port`, `stratum+ssl://host:port`
//! (TLS), or a bare `host:port` (plain TCP).

use std::fmt;

/// Longest URL accepted from the command line or a config file.
const MAX_URL: usize = 1024;

/// How to reach a pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolUrl {
    /// TLS (`stratum+ssl://`) or plain TCP.
    pub tls: bool,
    /// Host name or IP address (IPv6 without the brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Why a pool URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `stratum+tcp://` or `stratum+ssl://` (the URL is given).
    #[error("pool URL {0:?}: unsupported scheme (use stratum+tcp:// or stratum+ssl://)")]
    Scheme(String),
    /// No `HOST:PORT` after the scheme (the URL is given).
    #[error("pool URL {0:?}: expected HOST:PORT")]
    HostPort(String),
    /// The port is not a number in 1..=65535 (the URL is given).
    #[error("pool URL {0:?}: bad port")]
    Port(String),
    /// Longer than the URL length limit.
    #[error("pool URL is longer than {MAX_URL} characters")]
    TooLong,
}

impl PoolUrl {
    /// Parses a pool URL; a trailing `/` or path after the port is ignored.
    pub fn parse(text: &str) -> Result<PoolUrl, UrlError> {
        if text.len() > MAX_URL {
            return Err(UrlError::TooLong);
        }
        let text = text.trim();
        let (tls, rest) = match text.split_once("://") {
            None => (false, text),
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "stratum+tcp" | "stratum" | "tcp" => (false, rest),
                "stratum+ssl" | "stratum+tls" | "ssl" | "tls" => (true, rest),
                _ => return Err(UrlError::Scheme(text.to_owned())),
            },
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_host_port(authority).ok_or(UrlError::HostPort(text.into()))?;
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(UrlError::Port(text.to_owned())),
        };
        Ok(PoolUrl {
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// `host:port` as a socket address string (brackets around IPv6).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn split_host_port(authority: &str) -> Option<(&str, &str)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = rest.strip_prefix(':')?;
        return (!host.is_empty()).then_some((host, port));
    }
    let (host, port) = authority.rsplit_once(':')?;
    (!host.is_empty() && !host.contains(':')).then_some((host, port))
}

impl fmt::Display for PoolUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls {
            "stratum+ssl"
        } else {
            "stratum+tcp"
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(tls: bool, host: &str, port: u16) -> PoolUrl {
        PoolUrl {
            tls,
            host: host.into(),
            port,
        }
    }

    #[test]
    fn accepted_forms() {
        let cases = [
            (
                "stratum+tcp://pool.example:3333",
                url(false, "pool.example", 3333),
            ),
            (
                "stratum+ssl://pool.example:443/",
                url(true, "pool.example", 443),
            ),
            ("STRATUM+TCP://10.0.0.1:1", url(false, "10.0.0.1", 1)),
            ("127.0.0.1:3333", url(false, "127.0.0.1", 3333)),
            ("stratum+tcp://[::1]:3333", url(false, "::1", 3333)),
        ];
        for (text, want) in cases {
            assert_eq!(PoolUrl::parse(text), Ok(want.clone()), "{text}");
            assert_eq!(
                PoolUrl::parse(&want.to_string()),
                Ok(want),
                "round trip {text}"
            );
        }
    }

    #[test]
    fn refused_forms() {
        let cases = [
            "http://pool:80",
            "stratum+tcp://pool",
            "stratum+tcp://:3333",
            "pool:0",
            "pool:70000",
            "pool:port",
            "::1:3333",
            "",
        ];
        for text in cases {
            assert!(PoolUrl::parse(text).is_err(), "{text} accepted");
        }
        assert_eq!(PoolUrl::parse(&"a".repeat(2000)), Err(UrlError::TooLong));
    }
}
