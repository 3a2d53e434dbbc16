//! Test-only: the AVX-512 kernel's body and its `vpternlogd` truth tables, run on a plain
//! array of sixteen lanes with `vpternlogd` and `vprord` emulated from Intel's definitions.
//! This checks the 16-lane round structure and the truth tables on every CPU; only the
//! mapping of each primitive to its intrinsic is left to machines with AVX-512F.

use super::avx512::{CHOOSE, MAJORITY, XOR3};

#[derive(Clone, Copy, Debug)]
struct V([u32; 16]);
const LANES: usize = 16;

/// Intel SDM, VPTERNLOGD: result bit = `imm8[(a << 2) | (b << 1) | c]`.
fn ternlog(imm: i32, a: V, b: V, c: V) -> V {
    let mut out = [0u32; 16];
    for (l, o) in out.iter_mut().enumerate() {
        for bit in 0..32 {
            let index =
                ((a.0[l] >> bit) & 1) << 2 | ((b.0[l] >> bit) & 1) << 1 | ((c.0[l] >> bit) & 1);
            *o |= (((imm >> index) & 1) as u32) << bit;
        }
    }
    V(out)
}

fn map(x: V, f: impl Fn(u32) -> u32) -> V {
    V(x.0.map(f))
}

// The primitives carry `#[target_feature]` only because the shared body calls them from
// functions that have it; SSE2 is in every x86_64 CPU.
#[target_feature(enable = "sse2")]
fn splat(x: u32) -> V {
    V([x; 16])
}

#[target_feature(enable = "sse2")]
fn add(a: V, b: V) -> V {
    V(std::array::from_fn(|l| a.0[l].wrapping_add(b.0[l])))
}

#[target_feature(enable = "sse2")]
fn sig(x: V, r1: u32, r2: u32, r3: u32, shift_last: bool) -> V {
    let last = move |v: u32| {
        if shift_last {
            v >> r3
        } else {
            v.rotate_right(r3)
        }
    };
    ternlog(
        XOR3,
        map(x, |v| v.rotate_right(r1)),
        map(x, |v| v.rotate_right(r2)),
        map(x, last),
    )
}

#[target_feature(enable = "sse2")]
fn bsig0(x: V) -> V {
    sig(x, 2, 13, 22, false)
}

#[target_feature(enable = "sse2")]
fn bsig1(x: V) -> V {
    sig(x, 6, 11, 25, false)
}

#[target_feature(enable = "sse2")]
fn ssig0(x: V) -> V {
    sig(x, 7, 18, 3, true)
}

#[target_feature(enable = "sse2")]
fn ssig1(x: V) -> V {
    sig(x, 17, 19, 10, true)
}

#[target_feature(enable = "sse2")]
fn ch(e: V, f: V, g: V) -> V {
    ternlog(CHOOSE, e, f, g)
}

#[target_feature(enable = "sse2")]
fn maj(a: V, b: V, c: V) -> V {
    ternlog(MAJORITY, a, b, c)
}

#[target_feature(enable = "sse2")]
fn load(x: &[u32; LANES]) -> V {
    V(*x)
}

#[target_feature(enable = "sse2")]
fn hits(h7: V, max: V) -> u32 {
    (0..LANES)
        .filter(|&j| h7.0[j].swap_bytes() <= max.0[j])
        .fold(0, |m, j| m | 1 << j)
}

super::lanes::lane_kernel!("sse2");

#[cfg(test)]
mod tests {
    use super::super::{HeaderWork, Portable, sha256d};
    use super::{scan_lanes, scan_versions_lanes};

    fn reference(header: &[u8; 80], start: u32, count: u32, top_max: u32) -> Vec<u32> {
        let mut h = *header;
        (start..=start + (count - 1))
            .filter(|n| {
                h[76..80].copy_from_slice(&n.to_le_bytes());
                let hash = sha256d(&h);
                u32::from_le_bytes([hash[28], hash[29], hash[30], hash[31]]) <= top_max
            })
            .collect()
    }

    #[test]
    fn sixteen_lane_body_matches_sha2() {
        let mut header: [u8; 80] = std::array::from_fn(|i| (i * 29 + 7) as u8);
        for (start, count) in [(0u32, 1u32), (1000, 17), (u32::MAX - 20, 21), (77, 40)] {
            header[5] = header[5].wrapping_add(1);
            for top_max in [u32::MAX, u32::MAX / 8] {
                let mut found = Vec::new();
                // SAFETY: SSE2 is part of x86_64.
                unsafe { scan_lanes(&HeaderWork::new(&header), start, count, top_max, &mut found) };
                assert_eq!(found, reference(&header, start, count, top_max));
            }
        }
    }

    #[test]
    fn sixteen_lane_version_sets_match_sha2() {
        let base: [u8; 80] = std::array::from_fn(|i| (i * 13 + 1) as u8);
        // More versions than one batch, so the second batch's indexes are checked too.
        let headers: Vec<[u8; 80]> = (0..super::super::MAX_VERSIONS as u32 + 2)
            .map(|v| {
                let mut h = base;
                h[0..4].copy_from_slice(&(v << 13).to_le_bytes());
                h
            })
            .collect();
        let works: Vec<HeaderWork> = headers.iter().map(HeaderWork::new).collect();
        for (start, count) in [(5u32, 37u32), (u32::MAX - 16, 17)] {
            let top_max = u32::MAX / 4;
            let mut found = Vec::new();
            // SAFETY: SSE2 is part of x86_64. The scalar kernel is only the fallback for
            // works of different tails, which these are not.
            let done = unsafe {
                scan_versions_lanes(&Portable, &works, start, count, top_max, &mut found)
            };
            assert_eq!(done, u64::from(count) * works.len() as u64);
            let expect: Vec<(usize, u32)> = headers
                .iter()
                .enumerate()
                .flat_map(|(i, h)| {
                    reference(h, start, count, top_max)
                        .into_iter()
                        .map(move |n| (i, n))
                })
                .collect();
            assert_eq!(found, expect);
        }
    }
}
