//! proto2 defaults from Mesos's .proto files (spec §4), as the generated getters report
//! them for absent fields. These decide behaviour: an absent `shell` means a shell command,
//! an absent `extract` means archives are unpacked, an absent `refuse_seconds` means 5 s.

use proto::v1::{self, command_info, container_info, environment, health_check};

#[test]
fn defaults_match_mesos() {
    assert_eq!(v1::Filters::default().refuse_seconds(), 5.0);
    assert!(v1::CommandInfo::default().shell());
    assert!(command_info::Uri::default().extract());
    assert!(!command_info::Uri::default().executable());
    #[allow(deprecated)] // FrameworkInfo.role is deprecated in favour of `roles`
    let role = v1::FrameworkInfo::default().role().to_owned();
    assert_eq!(role, "*");
    assert_eq!(v1::FrameworkInfo::default().failover_timeout(), 0.0);
    assert!(!v1::FrameworkInfo::default().checkpoint());
    assert_eq!(v1::MasterInfo::default().port, 5050);
    assert_eq!(v1::AgentInfo::default().port(), 5051);
    let check = v1::HealthCheck::default();
    let timings = (
        check.delay_seconds(),
        check.interval_seconds(),
        check.timeout_seconds(),
        check.grace_period_seconds(),
    );
    assert_eq!(timings, (15.0, 10.0, 20.0, 10.0));
    assert_eq!(check.consecutive_failures(), 3);
    assert_eq!(
        health_check::HttpCheckInfo::default().protocol(),
        v1::network_info::Protocol::IPv4
    );
    assert_eq!(
        environment::Variable::default().r#type(),
        environment::variable::Type::Value
    );
    let docker = container_info::DockerInfo::default();
    assert_eq!(docker.network(), container_info::docker_info::Network::Host);
    assert!(!docker.privileged());
    assert!(v1::Image::default().cached());
    assert!(v1::LinuxInfo::default().share_cgroups());
    assert_eq!(v1::CheckInfo::default().delay_seconds(), 15.0);
}

#[test]
fn absent_optional_enums_read_as_the_first_listed_value() {
    // spec §4.5: the proto2 default of an enum is its first-listed value. TaskState lists
    // TASK_STAGING (6) first, so even the required `TaskStatus.state` of a defaulted (or
    // decoded-without-state) status is STAGING, never 0 = TASK_STARTING: set it explicitly.
    let status = v1::TaskStatus::default();
    assert_eq!(status.state, v1::TaskState::TaskStaging as i32);
    let decoded =
        <v1::TaskStatus as proto::Message>::decode(&[0x0a, 0x03, 0x0a, 0x01, b't'][..]).unwrap();
    assert_eq!(decoded.state(), v1::TaskState::TaskStaging);
    assert_eq!(status.source(), v1::task_status::Source::Master);
    assert_eq!(
        status.reason(),
        v1::task_status::Reason::CommandExecutorFailed
    );
    assert_eq!(
        v1::ExecutorInfo::default().r#type(),
        v1::executor_info::Type::Unknown
    );
}
