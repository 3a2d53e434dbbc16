//! `mesos-miner`: command-line entry. Parses arguments and dispatches to the workspace crates.

fn main() {
    println!("mesos-miner");
}
