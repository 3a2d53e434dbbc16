//! The duration variables of the recorded executor environments (`*env.txt`) parse, and
//! format back to exactly what the real agent wrote.

use crate::common;

use common::files_ending;
use proto::duration;

#[test]
fn recorded_executor_durations_parse_and_format_back() {
    let names = [
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        "MESOS_RECOVERY_TIMEOUT",
        "MESOS_SUBSCRIPTION_BACKOFF_MAX",
    ];
    let mut seen = 0;
    for path in files_ending("env.txt") {
        let text = std::fs::read_to_string(&path).expect("readable env file");
        for line in text.lines() {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if !names.contains(&name) {
                continue;
            }
            let parsed =
                duration::parse(value).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(duration::format(parsed), value, "{}", path.display());
            seen += 1;
        }
    }
    assert!(
        seen >= 10,
        "only {seen} duration variables found in the recorded environments"
    );
}
