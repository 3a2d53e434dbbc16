use std::collections::HashMap;

use super::*;

/// `KEY=VALUE` lines of a recorded environment (the header lines have no `=` at the start
/// of a variable name, or are `argv=`/`cwd=` lines, which we skip).
fn recorded(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with("MESOS_") || l.starts_with("LIBPROCESS_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn parse(vars: &HashMap<String, String>) -> Result<Config, EnvError> {
    from_env(&|k| vars.get(k).cloned())
}

const PLAIN: &str = include_str!("../../testdata/mesos-transcripts/5-executor-env.txt");
const CHECKPOINTED: &str =
    include_str!("../../testdata/mesos-transcripts/recovery/exec-ar-exec.env.txt");
const KILL: &str =
    include_str!("../../testdata/mesos-transcripts/recovery/exec-kill-exec-cap.env.txt");

#[test]
fn recorded_environments_parse() {
    let c = parse(&recorded(PLAIN)).unwrap();
    assert_eq!(c.executor_id.value, "pyexec-1");
    assert_eq!(
        c.framework_id.value,
        "35ada085-ef6a-4112-924c-74ca01b7d200-0001"
    );
    assert_eq!(c.agent_endpoint, "127.0.0.1:5051");
    assert_eq!(
        c.agent_id.as_ref().map(|a| a.value.as_str()),
        Some("57b9e4b5-f6ed-424f-8b89-cac804692f47-S0")
    );
    assert!(!c.checkpoint);
    assert_eq!(c.shutdown_grace_period, Duration::from_secs(5));
    assert!(
        c.sandbox
            .ends_with("runs/fb6e03ea-3786-4993-ac92-baa81a0273da")
    );
    assert_eq!(c.directory.as_ref(), Some(&c.sandbox));
    assert_eq!(c.auth_token, None);

    let c = parse(&recorded(CHECKPOINTED)).unwrap();
    assert!(c.checkpoint);
    assert_eq!(c.recovery_timeout, Duration::from_secs(900));
    assert_eq!(c.subscription_backoff_max, Duration::from_secs(2));
    assert_eq!(c.agent_endpoint, "127.0.0.1:5112");

    let c = parse(&recorded(KILL)).unwrap();
    assert_eq!(c.executor_id.value, "kill-exec-cap");
}

#[test]
fn every_problem_is_reported_at_once() {
    type Edit = fn(&mut HashMap<String, String>);
    let set = |m: &mut HashMap<String, String>, k: &str, v: &str| {
        m.insert(k.to_owned(), v.to_owned());
    };
    let cases: Vec<(&str, Edit, Vec<EnvProblem>)> = vec![
        (
            "empty env",
            |m| m.clear(),
            vec![
                EnvProblem::Missing("MESOS_FRAMEWORK_ID"),
                EnvProblem::Missing("MESOS_EXECUTOR_ID"),
                EnvProblem::Missing("MESOS_AGENT_ENDPOINT"),
                EnvProblem::Missing("MESOS_SANDBOX"),
                EnvProblem::Missing("MESOS_CHECKPOINT"),
                EnvProblem::Missing("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"),
            ],
        ),
        (
            "checkpoint needs its timeouts",
            |m| {
                m.remove("MESOS_RECOVERY_TIMEOUT");
                m.remove("MESOS_SUBSCRIPTION_BACKOFF_MAX");
            },
            vec![
                EnvProblem::Missing("MESOS_RECOVERY_TIMEOUT"),
                EnvProblem::Missing("MESOS_SUBSCRIPTION_BACKOFF_MAX"),
            ],
        ),
        (
            "an empty value is missing",
            |m| {
                m.insert("MESOS_EXECUTOR_ID".into(), String::new());
            },
            vec![EnvProblem::Missing("MESOS_EXECUTOR_ID")],
        ),
        (
            "malformed values",
            |m| {
                m.insert("MESOS_AGENT_ENDPOINT".into(), "127.0.0.1".into());
                m.insert("MESOS_CHECKPOINT".into(), "yes".into());
                m.insert(
                    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(),
                    "5 seconds".into(),
                );
            },
            vec![
                EnvProblem::Malformed {
                    name: "MESOS_AGENT_ENDPOINT",
                    why: "\"127.0.0.1\" is not HOST:PORT".into(),
                },
                EnvProblem::Malformed {
                    name: "MESOS_CHECKPOINT",
                    why: "\"yes\" is not 1, 0, true or false".into(),
                },
                EnvProblem::Malformed {
                    name: "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                    why: proto::duration::parse("5 seconds").unwrap_err().to_string(),
                },
            ],
        ),
        (
            "bad timeout",
            |m| {
                m.insert("MESOS_RECOVERY_TIMEOUT".into(), "15".into());
            },
            vec![EnvProblem::Malformed {
                name: "MESOS_RECOVERY_TIMEOUT",
                why: proto::duration::parse("15").unwrap_err().to_string(),
            }],
        ),
    ];
    for (name, edit, want) in cases {
        let mut vars = recorded(CHECKPOINTED);
        edit(&mut vars);
        let err = parse(&vars).expect_err(name);
        assert_eq!(err.problems, want, "{name}");
    }
    let mut vars = recorded(PLAIN);
    set(&mut vars, "MESOS_CHECKPOINT", "true");
    assert!(
        parse(&vars)
            .unwrap_err()
            .missing()
            .contains(&"MESOS_RECOVERY_TIMEOUT")
    );
}

#[test]
fn optional_variables() {
    let mut vars = recorded(PLAIN);
    vars.remove("MESOS_SANDBOX");
    vars.remove("MESOS_SLAVE_ID");
    vars.insert("MESOS_AGENT_ID".into(), "a-1".into());
    vars.insert(
        "MESOS_EXECUTOR_AUTHENTICATION_TOKEN".into(),
        "jwt.t.s".into(),
    );
    let c = parse(&vars).unwrap();
    assert_eq!(Some(&c.sandbox), c.directory.as_ref());
    assert_eq!(c.agent_id, Some(AgentId::new("a-1")));
    assert_eq!(c.auth_token.as_ref().map(Secret::expose), Some("jwt.t.s"));
    assert!(!format!("{c:?}").contains("jwt.t.s"));
    // Without checkpointing the recovery settings are not needed and default.
    assert_eq!(c.recovery_timeout, DEFAULT_RECOVERY_TIMEOUT);
    let text = EnvError {
        problems: vec![
            EnvProblem::Missing("MESOS_A"),
            EnvProblem::Missing("MESOS_B"),
        ],
    }
    .to_string();
    assert_eq!(
        text,
        "bad executor environment: MESOS_A is not set; MESOS_B is not set"
    );
}
