use super::*;

/// A mainnet P2WPKH address (the network is checked only against the node's chain).
const ADDR: &str = "bc1qx9t2l3pyny2spqpqlye8svce70nppwtaxwdrp4";

/// An existing cookie file (its content is read only by the RPC client).
fn cookie_file() -> PathBuf {
    let file = std::env::temp_dir().join(format!("pool-config-cookie-{}", std::process::id()));
    std::fs::write(&file, "__cookie__:x\n").unwrap();
    file
}

fn demo() -> PoolOptions {
    PoolOptions {
        demo: true,
        ..PoolOptions::default()
    }
}

fn node(payout: Option<&str>) -> PoolOptions {
    PoolOptions {
        payout_address: payout.map(str::to_owned),
        ..PoolOptions::default()
    }
}

#[test]
fn demo_needs_no_node_and_mines_at_low_difficulty() {
    let c = demo().build().unwrap();
    assert!(matches!(c.backend, Backend::Demo));
    assert_eq!(c.session.initial_difficulty.value(), 0.0001);
    let err = node(Some(ADDR)).build().unwrap_err();
    assert!(matches!(err, ConfigError::Credentials), "{err}");
}

#[test]
fn node_mode_needs_payout_and_credentials_from_files() {
    let cookie = PoolOptions {
        rpc_cookie_file: Some(cookie_file()),
        ..node(None)
    };
    let err = cookie.build().unwrap_err().to_string();
    assert!(err.contains("payout-address"), "{err}");
    let user_only = PoolOptions {
        rpc_user: Some("u".into()),
        ..node(Some(ADDR))
    };
    let err = user_only.build().unwrap_err().to_string();
    assert!(err.contains("rpc-password-file"), "{err}");
    let cookie = PoolOptions {
        payout_address: Some(ADDR.into()),
        ..cookie
    };
    let c = cookie.build().unwrap();
    assert!(matches!(
        c.backend,
        Backend::Node {
            auth: RpcAuth::Cookie(_),
            ..
        }
    ));

    let dir = std::env::temp_dir().join(format!("pool-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pw");
    std::fs::write(&file, "s3cret\n").unwrap();
    let with_file = PoolOptions {
        rpc_password_file: Some(file.clone()),
        ..user_only
    };
    match with_file.build().unwrap().backend {
        Backend::Node {
            auth: RpcAuth::UserPass { user, password },
            ..
        } => assert_eq!((user.as_str(), password.as_str()), ("u", "s3cret")),
        other => panic!("{other:?}"),
    }
    std::fs::write(&file, "\n").unwrap();
    let err = with_file.build().unwrap_err().to_string();
    assert!(
        err.starts_with("rpc-password-file: ") && err.contains("empty"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn difficulty_and_time_limits_are_checked() {
    let bad = [
        PoolOptions {
            min_diff: 2.0,
            max_diff: 1.0,
            ..demo()
        },
        PoolOptions {
            start_diff: Some(0.0),
            ..demo()
        },
        PoolOptions {
            idle_timeout: -1.0,
            ..demo()
        },
        PoolOptions {
            poll_interval: f64::NAN,
            ..demo()
        },
        PoolOptions {
            extranonce2_size: 1,
            ..demo()
        },
    ];
    let want = [
        "min-diff is above max-diff",
        "start-diff: ",
        "idle-timeout: must be a positive number of seconds",
        "poll-interval: must be a positive number of seconds",
        "extranonce2-size",
    ];
    for (options, want) in bad.iter().zip(want) {
        let err = options.build().unwrap_err().to_string();
        assert!(err.starts_with(want), "{err} (want {want})");
    }
    let c = PoolOptions {
        share_interval: 0.0,
        ..demo()
    }
    .build()
    .unwrap();
    assert!(c.session.vardiff.is_none());
}

#[test]
fn defaults_and_floors() {
    let c = PoolOptions {
        max_connections: 0,
        max_line: 1,
        ..demo()
    }
    .build()
    .unwrap();
    assert_eq!(c.max_connections, 1);
    assert_eq!(c.limits.max_line, 256);
    let c = demo().build().unwrap();
    assert_eq!(c.session.extranonce2_size, 8);
    assert_eq!(c.limits.idle_timeout, Duration::from_secs(600));
    assert_eq!(c.poll_interval, Duration::from_secs(5));
    assert_eq!(c.pool_tag, "/mesos-miner/");
    let target = c.session.vardiff.map(|v| v.target_interval);
    assert_eq!(target, Some(Duration::from_secs(10)));
    let node = PoolOptions {
        rpc_cookie_file: Some(cookie_file()),
        ..node(Some(ADDR))
    };
    assert_eq!(
        node.build().unwrap().session.initial_difficulty.value(),
        0.01
    );
}

#[test]
fn a_bad_url_address_or_cookie_file_is_refused_before_any_connection() {
    let ok = PoolOptions {
        rpc_cookie_file: Some(cookie_file()),
        ..node(Some(ADDR))
    };
    assert!(ok.build().is_ok());
    let cases = [
        (
            PoolOptions {
                bitcoind_url: "localhost:8332".into(),
                ..ok.clone()
            },
            "--bitcoind-url",
        ),
        (
            PoolOptions {
                bitcoind_url: "ftp://u:secret@node/".into(),
                ..ok.clone()
            },
            "--bitcoind-url",
        ),
        (
            PoolOptions {
                payout_address: Some("bc1qnotanaddress".into()),
                ..ok.clone()
            },
            "--payout-address",
        ),
        (
            PoolOptions {
                rpc_cookie_file: Some("/nonexistent/.cookie".into()),
                ..ok.clone()
            },
            "--rpc-cookie-file",
        ),
    ];
    for (options, flag) in cases {
        let err = options.build().unwrap_err().to_string();
        assert!(err.starts_with(flag), "{err} (want {flag})");
        assert!(!err.contains("secret"), "{err}");
    }
}
