//! Where the pool's bitcoind credentials come from: a password file (first line), the
//! node's `.cookie` file (read on every call by [`crate::rpc::RpcClient`]), or a password
//! handed over in memory (the Mesos executor gets it in `TaskInfo.data`). Never argv or the
//! environment, which `ps` and Mesos's `/state` show. Errors name files, never secrets.

use std::path::{Path, PathBuf};

use crate::rpc::RpcAuth;

/// Why no credentials could be formed.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The password file could not be read.
    #[error("cannot read password file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The password file's first line is empty.
    #[error("password file {0} is empty")]
    Empty(PathBuf),
    /// Not exactly one way to authenticate was given.
    #[error("{0}")]
    Sources(String),
}

/// The first line of `path`, trimmed; an empty one is an error.
pub fn read_password_file(path: &Path) -> Result<String, CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialError::File {
        path: path.to_owned(),
        source,
    })?;
    let password = text.lines().next().unwrap_or("").trim().to_owned();
    if password.is_empty() {
        return Err(CredentialError::Empty(path.to_owned()));
    }
    Ok(password)
}

/// The ways credentials may be given; exactly one of `cookie_file`, or `user` with one of
/// `password` / `password_file`.
#[derive(Clone, Copy, Default)]
pub struct CredentialSources<'a> {
    /// RPC user.
    pub user: Option<&'a str>,
    /// The password itself.
    pub password: Option<&'a str>,
    /// A file holding the password.
    pub password_file: Option<&'a Path>,
    /// The node's `.cookie` file.
    pub cookie_file: Option<&'a Path>,
}

/// The [`RpcAuth`] the sources describe (reading a password file now).
pub fn rpc_auth(sources: CredentialSources<'_>) -> Result<RpcAuth, CredentialError> {
    let CredentialSources {
        user,
        password,
        password_file,
        cookie_file,
    } = sources;
    match (cookie_file, user, password, password_file) {
        (Some(cookie), None, None, None) => Ok(RpcAuth::Cookie(cookie.to_owned())),
        (None, Some(user), Some(password), None) if !password.is_empty() => Ok(RpcAuth::UserPass {
            user: user.to_owned(),
            password: password.to_owned(),
        }),
        (None, Some(user), None, Some(file)) => Ok(RpcAuth::UserPass {
            user: user.to_owned(),
            password: read_password_file(file)?,
        }),
        _ => Err(CredentialError::Sources(
            "give either a cookie file, or a user with a (non-empty) password or password file"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_source() {
        let dir = std::env::temp_dir().join(format!("pool-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\nrest\n").unwrap();
        let auth = |s| rpc_auth(s).map(|a| format!("{a:?}"));
        let user = Some("u");
        let missing = dir.join("none");
        let cases: Vec<(CredentialSources, Result<&str, &str>)> = vec![
            (
                CredentialSources {
                    cookie_file: Some(&file),
                    ..Default::default()
                },
                Ok("Cookie("),
            ),
            (
                CredentialSources {
                    user,
                    password: Some("pw"),
                    ..Default::default()
                },
                Ok("UserPass(u, <redacted>)"),
            ),
            (
                CredentialSources {
                    user,
                    password_file: Some(&file),
                    ..Default::default()
                },
                Ok("UserPass(u, <redacted>)"),
            ),
            (
                CredentialSources {
                    user,
                    ..Default::default()
                },
                Err("give either"),
            ),
            (
                CredentialSources {
                    user,
                    password: Some(""),
                    ..Default::default()
                },
                Err("give either"),
            ),
            (
                CredentialSources {
                    password: Some("pw"),
                    ..Default::default()
                },
                Err("give either"),
            ),
            (
                CredentialSources {
                    user,
                    password: Some("pw"),
                    cookie_file: Some(&file),
                    ..Default::default()
                },
                Err("give either"),
            ),
            (
                CredentialSources {
                    user,
                    password_file: Some(&missing),
                    ..Default::default()
                },
                Err("cannot read password file"),
            ),
        ];
        for (sources, want) in cases {
            match (auth(sources), want) {
                (Ok(got), Ok(prefix)) => assert!(got.starts_with(prefix), "{got}"),
                (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{e}"),
                (got, want) => panic!("{got:?} vs {want:?}"),
            }
        }
        match rpc_auth(CredentialSources {
            user,
            password_file: Some(&file),
            ..Default::default()
        }) {
            Ok(RpcAuth::UserPass { password, .. }) => assert_eq!(password, "s3cret"),
            other => panic!("{other:?}"),
        }
        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(
            read_password_file(&file),
            Err(CredentialError::Empty(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
