//! Resource arithmetic on offers (spec §4.2): build `cpus`/`mem`/`disk`/`ports` resources,
//! sum scalars by name, collect port ranges and take ports out of them.
//!
//! Offers come from the network, so nothing here trusts them: inverted ranges are skipped,
//! non-finite scalars count as zero and no loop runs over the width of a range.

use crate::v1::Resource;
use crate::v1::resource::AllocationInfo;
use crate::v1::value::{self, Range, Ranges, Scalar};
use std::ops::RangeInclusive;

/// Mesos handles scalars with three decimal digits (spec §4.2, `Value`).
pub fn round_scalar(value: f64) -> f64 {
    if value.is_finite() {
        (value * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// A SCALAR resource.
pub fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.to_owned(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(Scalar { value }),
        ..Resource::default()
    }
}

/// `cpus` (fractions allowed).
pub fn cpus(value: f64) -> Resource {
    scalar("cpus", value)
}

/// `mem` in MB.
pub fn mem(megabytes: f64) -> Resource {
    scalar("mem", megabytes)
}

/// `disk` in MB.
pub fn disk(megabytes: f64) -> Resource {
    scalar("disk", megabytes)
}

/// A RANGES resource (inclusive bounds).
pub fn ranges(name: &str, ranges: &[RangeInclusive<u64>]) -> Resource {
    let range = ranges
        .iter()
        .map(|r| Range {
            begin: *r.start(),
            end: *r.end(),
        })
        .collect();
    Resource {
        name: name.to_owned(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(Ranges { range }),
        ..Resource::default()
    }
}

/// A `ports` resource holding exactly `ports` (merged into as few ranges as possible).
pub fn ports(ports: &[u64]) -> Resource {
    ranges("ports", &merge_ports(ports))
}

/// Marks resources as allocated to `role`, as the offer they come from was (safest for
/// multi-role frameworks, spec §2.3 `allocation_info`).
pub fn allocate(mut resources: Vec<Resource>, role: &str) -> Vec<Resource> {
    for resource in &mut resources {
        resource.allocation_info = Some(AllocationInfo {
            role: Some(role.to_owned()),
        });
    }
    resources
}

/// Sum of the SCALAR resources called `name`, rounded to 0.001.
pub fn sum_scalar(resources: &[Resource], name: &str) -> f64 {
    let total: f64 = resources
        .iter()
        .filter(|r| r.name == name && r.r#type == value::Type::Scalar as i32)
        .filter_map(|r| r.scalar.as_ref())
        .map(|s| if s.value.is_finite() { s.value } else { 0.0 })
        .sum();
    round_scalar(total)
}

/// Every range of the RANGES resources called `name`, sorted and merged; inverted ranges
/// (begin > end) are dropped.
pub fn ranges_of(resources: &[Resource], name: &str) -> Vec<RangeInclusive<u64>> {
    let mut all: Vec<RangeInclusive<u64>> = resources
        .iter()
        .filter(|r| r.name == name && r.r#type == value::Type::Ranges as i32)
        .filter_map(|r| r.ranges.as_ref())
        .flat_map(|rs| rs.range.iter())
        .filter(|r| r.begin <= r.end)
        .map(|r| r.begin..=r.end)
        .collect();
    all.sort_by_key(|r| *r.start());
    let mut merged: Vec<RangeInclusive<u64>> = Vec::with_capacity(all.len());
    for r in all {
        match merged.last_mut() {
            Some(last) if *r.start() <= last.end().saturating_add(1) => {
                let end = (*last.end()).max(*r.end());
                *last = *last.start()..=end;
            }
            _ => merged.push(r),
        }
    }
    merged
}

/// The offered `ports` ranges, sorted and merged.
pub fn port_ranges(resources: &[Resource]) -> Vec<RangeInclusive<u64>> {
    ranges_of(resources, "ports")
}

/// The `n` lowest ports of `ranges`, or `None` if they hold fewer than `n`.
pub fn take_ports(ranges: &[RangeInclusive<u64>], n: usize) -> Option<Vec<u64>> {
    let mut taken = Vec::with_capacity(n.min(65_536));
    for r in ranges {
        if taken.len() == n {
            break;
        }
        if r.start() > r.end() {
            continue;
        }
        let mut port = *r.start();
        while taken.len() < n {
            taken.push(port);
            if port == *r.end() {
                break;
            }
            port += 1;
        }
    }
    (taken.len() == n).then_some(taken)
}

/// Ports as inclusive ranges of consecutive values (input order does not matter).
pub fn merge_ports(ports: &[u64]) -> Vec<RangeInclusive<u64>> {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<RangeInclusive<u64>> = Vec::new();
    for port in sorted {
        match out.last_mut() {
            Some(last) if last.end().checked_add(1) == Some(port) => *last = *last.start()..=port,
            _ => out.push(port..=port),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_scalars_by_name_with_mesos_precision() {
        let offer = vec![
            cpus(0.1),
            cpus(0.2),
            mem(32.0),
            ports(&[31000]),
            scalar("cpus", f64::NAN),
        ];
        assert_eq!(sum_scalar(&offer, "cpus"), 0.3);
        assert_eq!(sum_scalar(&offer, "mem"), 32.0);
        assert_eq!(sum_scalar(&offer, "gpus"), 0.0);
        assert_eq!(sum_scalar(&offer, "ports"), 0.0);
    }

    #[test]
    fn port_ranges_are_merged_and_inverted_ones_dropped() {
        let mut bad = ranges("ports", &[]);
        bad.ranges = Some(Ranges {
            range: vec![Range { begin: 9, end: 3 }],
        });
        let offer = vec![
            ranges("ports", &[31005..=31010, 31000..=31004]),
            bad,
            ranges("ports", &[40000..=40001]),
        ];
        assert_eq!(port_ranges(&offer), vec![31000..=31010, 40000..=40001]);
    }

    #[test]
    fn takes_the_lowest_ports_across_ranges() {
        let rs = [31000..=31001, 32000..=32005];
        assert_eq!(take_ports(&rs, 3), Some(vec![31000, 31001, 32000]));
        assert_eq!(
            take_ports(&rs, 8),
            Some(vec![31000, 31001, 32000, 32001, 32002, 32003, 32004, 32005])
        );
        assert_eq!(take_ports(&rs, 9), None);
        assert_eq!(take_ports(&rs, 0), Some(vec![]));
        assert_eq!(take_ports(&[u64::MAX..=u64::MAX], 1), Some(vec![u64::MAX]));
        assert_eq!(take_ports(&[0..=u64::MAX], 2), Some(vec![0, 1]));
    }

    #[test]
    fn ports_resource_merges_consecutive_ports() {
        let r = ports(&[31002, 31000, 31001, 31005, 31005]);
        let got: Vec<(u64, u64)> = r
            .ranges
            .unwrap()
            .range
            .iter()
            .map(|r| (r.begin, r.end))
            .collect();
        assert_eq!(got, vec![(31000, 31002), (31005, 31005)]);
        assert_eq!(r.r#type, value::Type::Ranges as i32);
    }

    #[test]
    fn allocate_sets_the_role_on_every_resource() {
        let rs = allocate(vec![cpus(1.0), mem(2.0)], "*");
        assert!(
            rs.iter()
                .all(|r| r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) == Some("*"))
        );
    }
}
