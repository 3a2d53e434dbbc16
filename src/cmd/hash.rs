//! `mesos-miner hash HEADER_HEX`: the block hash of an 80-byte header, as explorers show it.

use miner_core::kernels::sha256d;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The 80-byte block header, 160 hex digits, in serialized (wire) order.
    header: String,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let header: [u8; 80] = super::hex_array("header", &args.header)?;
    let mut hash = sha256d(&header);
    hash.reverse();
    println!("{}", hex::encode(hash));
    Ok(())
}
