//! The `run` line of DOCKER containers against Mesos's (`src/docker/docker.cpp`).

use std::path::Path;

use super::*;
use crate::pb::v1::container_info::DockerInfo;
use crate::pb::v1::container_info::docker_info::Network;
use crate::pb::v1::{CommandInfo, Parameter};

fn docker(image: &str) -> ContainerInfo {
    ContainerInfo {
        r#type: container_info::Type::Docker as i32,
        docker: Some(DockerInfo {
            image: image.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn build(c: &ContainerInfo) -> Result<DockerRun, String> {
    DockerRun::build(c, "c-1", "podman")
}

#[test]
fn shell_false_appends_value_and_arguments_to_the_image_entrypoint() {
    let run = build(&docker("localhost/mesos-miner:dev")).unwrap();
    let cmd = CommandInfo {
        shell: Some(false),
        arguments: vec!["executor".into()],
        ..Default::default()
    };
    let env = vec![("MESOS_SANDBOX".to_owned(), MAPPED_SANDBOX.to_owned())];
    let argv = run.run_args(Path::new("/w/s"), &env, &cmd).unwrap();
    assert_eq!(
        argv,
        [
            "run",
            "--name",
            "mesos-c-1",
            "--net=host",
            "--pull=never",
            "-v",
            "/w/s:/mnt/mesos/sandbox",
            "-e",
            "MESOS_SANDBOX=/mnt/mesos/sandbox",
            "localhost/mesos-miner:dev",
            "executor"
        ]
    );
}

#[test]
fn shell_true_overrides_the_entrypoint_with_sh_c() {
    let run = build(&docker("img")).unwrap();
    let cmd = CommandInfo {
        value: Some("echo hi".into()),
        ..Default::default()
    };
    let argv = run.run_args(Path::new("/s"), &[], &cmd).unwrap();
    let tail: Vec<&str> = argv.iter().map(String::as_str).skip(7).collect();
    assert_eq!(tail, ["--entrypoint", "/bin/sh", "img", "-c", "echo hi"]);
    assert!(
        run.run_args(Path::new("/s"), &[], &CommandInfo::default())
            .is_err()
    );
}

#[test]
fn network_pull_and_parameters_follow_docker_info() {
    let mut c = docker("img");
    let d = c.docker.as_mut().unwrap();
    d.network = Some(Network::Bridge as i32);
    d.force_pull_image = Some(true);
    d.parameters = vec![Parameter {
        key: "memory".into(),
        value: "64m".into(),
    }];
    let run = build(&c).unwrap();
    assert_eq!((run.network, run.pull), ("bridge", "always"));
    assert_eq!(run.parameters, ["--memory=64m"]);
    d_user(&mut c);
    assert!(build(&c).is_err(), "USER networks need network_infos");
}

fn d_user(c: &mut ContainerInfo) {
    c.docker.as_mut().unwrap().network = Some(Network::User as i32);
}

#[test]
fn bad_images_and_missing_docker_info_are_refused() {
    assert!(build(&docker("")).is_err());
    assert!(
        build(&docker("--privileged")).is_err(),
        "an image is not an option"
    );
    let mut c = docker("img");
    c.docker = None;
    assert!(build(&c).is_err());
    let mesos = ContainerInfo {
        r#type: container_info::Type::Mesos as i32,
        ..Default::default()
    };
    assert!(DockerRun::of(Some(&mesos), "c").is_none());
    assert!(DockerRun::of(None, "c").is_none());
}

#[test]
fn the_container_sees_the_mapped_sandbox_and_its_name() {
    let env = vec![
        ("MESOS_SANDBOX".to_owned(), "/host/sandbox".to_owned()),
        ("MESOS_DIRECTORY".to_owned(), "/host/sandbox".to_owned()),
    ];
    let env = container_env(env, "mesos-c-1");
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("MESOS_SANDBOX"), Some(MAPPED_SANDBOX));
    assert_eq!(get("MESOS_DIRECTORY"), Some("/host/sandbox"));
    assert_eq!(get("MESOS_CONTAINER_NAME"), Some("mesos-c-1"));
    assert_eq!(env.iter().filter(|(k, _)| k == "MESOS_SANDBOX").count(), 1);
}
