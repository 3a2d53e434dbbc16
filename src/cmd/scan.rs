//! `mesos-miner scan`: search a nonce range of one header for hashes at or under a target,
//! on all cores, and print them in increasing nonce order.

use miner_core::kernels::{self, Kernel, KernelKind};
use miner_core::{Difficulty, Miner, Target};

use crate::UsageError;

/// More threads than this is a typo, not a machine.
const MAX_THREADS: usize = 1024;

#[derive(clap::Args, Debug)]
#[command(group(
    clap::ArgGroup::new("goal").required(true).args(["bits", "difficulty", "target"])
))]
pub(crate) struct Args {
    /// The 80-byte block header, 160 hex digits in serialized order; its nonce is ignored.
    #[arg(long)]
    header: String,
    /// First nonce to try.
    #[arg(long)]
    start: u32,
    /// How many nonces to try; start + count may not exceed 2^32.
    #[arg(long)]
    count: u64,
    /// Target as compact nbits, e.g. 1d00ffff.
    #[arg(long)]
    bits: Option<String>,
    /// Target as pool difficulty (may be fractional, e.g. 0.001).
    #[arg(long, allow_negative_numbers = true)]
    difficulty: Option<f64>,
    /// Target as 64 hex digits in display (big-endian) order.
    #[arg(long)]
    target: Option<String>,
    /// Search threads [default: the number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Kernel: auto, avx512, avx2, sha-ni or portable.
    #[arg(long, default_value = "auto")]
    kernel: String,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let header: [u8; 80] = super::hex_array("header", &args.header)?;
    if args.count == 0 {
        return Err(UsageError("count: must be at least 1".into()).into());
    }
    if u64::from(args.start) + args.count > 1 << 32 {
        return Err(UsageError(format!(
            "start + count = {} goes past the 2^32 nonces of a header",
            u64::from(args.start) + args.count
        ))
        .into());
    }
    let target = target_of(&args)?;
    let threads = thread_count(args.threads)?;
    let kernel = pick_kernel(&args.kernel)?;
    let mut miner = Miner::new(threads, kernel)?;
    let found = miner.scan_range(header, args.start, args.count, target)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for share in found {
        let mut display = share.hash;
        display.reverse();
        use std::io::Write;
        writeln!(out, "nonce={} hash={}", share.nonce, hex::encode(display))?;
    }
    Ok(())
}

/// The one target given by `--bits`, `--difficulty` or `--target` (clap enforces one).
fn target_of(args: &Args) -> Result<Target, UsageError> {
    if let Some(bits) = &args.bits {
        let text = bits.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let value = (digits.len() <= 8)
            .then(|| u32::from_str_radix(digits, 16).ok())
            .flatten()
            .ok_or_else(|| {
                UsageError(format!("bits: expected up to 8 hex digits, got {bits:?}"))
            })?;
        return Target::from_compact(value).map_err(|e| UsageError(format!("bits: {e}")));
    }
    if let Some(difficulty) = args.difficulty {
        let difficulty =
            Difficulty::new(difficulty).map_err(|e| UsageError(format!("difficulty: {e}")))?;
        return Ok(Target::from_difficulty(difficulty));
    }
    let text = args.target.as_deref().unwrap_or_default();
    Target::from_hex(text).map_err(|e| UsageError(format!("target: {e}")))
}

/// `--threads`, defaulting to the number of cores.
pub(crate) fn thread_count(threads: Option<usize>) -> Result<usize, UsageError> {
    match threads {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Some(n) => Err(UsageError(format!(
            "threads: must be between 1 and {MAX_THREADS}, got {n}"
        ))),
    }
}

/// The kernel named by `--kernel`, if this CPU can run it.
pub(crate) fn pick_kernel(name: &str) -> Result<&'static dyn Kernel, UsageError> {
    let kind = name
        .parse::<KernelKind>()
        .map_err(|e| UsageError(e.to_string()))?;
    kernels::select(kind).map_err(|e| UsageError(e.to_string()))
}
