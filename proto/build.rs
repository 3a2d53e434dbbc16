//! Compiles our Mesos .proto subset with protox (pure Rust, no system `protoc`) and
//! generates prost types into OUT_DIR. The encoded FileDescriptorSet is written beside
//! them so tests (and a future JSON codec) can reflect on the messages.

use std::path::PathBuf;

const PROTOS: [&str; 3] = [
    "mesos/v1/mesos.proto",
    "mesos/v1/scheduler/scheduler.proto",
    "mesos/v1/executor/executor.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let include = PathBuf::from("proto");
    let fds = protox::compile(PROTOS, [&include])?;

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("mesos_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;

    // BTreeMap: map fields (TaskInfo.limits, FrameworkInfo.offer_filters) then encode in a
    // deterministic (sorted) order, so equal messages give equal bytes.
    prost_build::Config::new()
        .btree_map(["."])
        // `prost::Name` (full proto names) lets the JSON codec find each message's descriptor.
        .enable_type_names()
        .compile_fds(fds)?;
    Ok(())
}
