//! Resource arithmetic for offers and task accounting.
//!
//! Scalars are kept in thousandths, because Mesos handles scalar resources with three
//! decimal digits of precision (spec §4.2 `Value`), so `2.0 - 0.1` is exactly `1.9` here
//! as it is on the wire of a real master. Ports are inclusive ranges.

use crate::pb::v1::{Resource, resource, value};

/// Scalar resource names the local cluster offers and accepts.
const SCALARS: [&str; 3] = ["cpus", "mem", "disk"];

/// A bundle of the resources this cluster knows: `cpus`, `mem`, `disk` (milli-units) and
/// `ports` (sorted, merged, inclusive ranges).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Res {
    /// `[cpus, mem, disk]` in thousandths.
    pub scalars: [i64; 3],
    /// Inclusive port ranges, sorted and non-overlapping.
    pub ports: Vec<(u64, u64)>,
}

/// Why a set of `Resource` messages cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResError {
    #[error("unknown resource '{0}'")]
    Unknown(String),
    #[error("resource '{0}' has the wrong type or no value")]
    Malformed(String),
    #[error("resource '{0}' is negative or not finite")]
    Negative(String),
    #[error("resource '{0}' sums to more than can be held")]
    Overflow(String),
}

fn to_milli(v: f64) -> Option<i64> {
    if !v.is_finite() || !(0.0..=1e15).contains(&v) {
        return None;
    }
    Some((v * 1000.0).round() as i64)
}

impl Res {
    /// A bundle with the given scalars (in whole units) and ports.
    pub fn new(cpus: f64, mem: f64, disk: f64, ports: &[(u64, u64)]) -> Res {
        let mut r = Res {
            scalars: [
                to_milli(cpus).unwrap_or(0),
                to_milli(mem).unwrap_or(0),
                to_milli(disk).unwrap_or(0),
            ],
            ports: Vec::new(),
        };
        for &(b, e) in ports {
            r.add_range(b, e);
        }
        r
    }

    /// Parses `Resource` messages (e.g. a task's), summing repeated names.
    pub fn from_pb(list: &[Resource]) -> Result<Res, ResError> {
        let mut r = Res::default();
        for res in list {
            if let Some(i) = SCALARS.iter().position(|n| *n == res.name) {
                let scalar = res
                    .scalar
                    .as_ref()
                    .filter(|_| res.r#type == value::Type::Scalar as i32)
                    .ok_or_else(|| ResError::Malformed(res.name.clone()))?;
                let m =
                    to_milli(scalar.value).ok_or_else(|| ResError::Negative(res.name.clone()))?;
                // Checked: repeated huge entries must not wrap into a negative demand that
                // every offer "contains" (issue 11, hole 1).
                r.scalars[i] = r.scalars[i]
                    .checked_add(m)
                    .ok_or_else(|| ResError::Overflow(res.name.clone()))?;
            } else if res.name == "ports" {
                let ranges = res
                    .ranges
                    .as_ref()
                    .filter(|_| res.r#type == value::Type::Ranges as i32)
                    .ok_or_else(|| ResError::Malformed(res.name.clone()))?;
                for range in &ranges.range {
                    if range.begin > range.end {
                        return Err(ResError::Malformed(res.name.clone()));
                    }
                    r.add_range(range.begin, range.end);
                }
            } else {
                return Err(ResError::Unknown(res.name.clone()));
            }
        }
        Ok(r)
    }

    fn add_range(&mut self, b: u64, e: u64) {
        self.ports.push((b, e));
        self.ports.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ports.len());
        for &(b, e) in &self.ports {
            match merged.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((b, e)),
            }
        }
        self.ports = merged;
    }

    fn ports_contain(&self, b: u64, e: u64) -> bool {
        self.ports.iter().any(|&(rb, re)| rb <= b && e <= re)
    }

    /// Whether every resource of `other` is available in `self`.
    pub fn contains(&self, other: &Res) -> bool {
        self.scalars
            .iter()
            .zip(other.scalars.iter())
            .all(|(a, b)| a >= b)
            && other.ports.iter().all(|&(b, e)| self.ports_contain(b, e))
    }

    /// Adds `other` to `self` (saturating: a sum never wraps).
    pub fn add(&mut self, other: &Res) {
        for (a, b) in self.scalars.iter_mut().zip(other.scalars.iter()) {
            *a = a.saturating_add(*b);
        }
        for &(b, e) in &other.ports {
            self.add_range(b, e);
        }
    }

    /// Removes `other` from `self`, saturating at zero; ports not held are ignored.
    pub fn sub(&mut self, other: &Res) {
        for (a, b) in self.scalars.iter_mut().zip(other.scalars.iter()) {
            *a = a.saturating_sub(*b).max(0);
        }
        for &(ob, oe) in &other.ports {
            let mut next = Vec::with_capacity(self.ports.len() + 1);
            for &(b, e) in &self.ports {
                if oe < b || ob > e {
                    next.push((b, e));
                    continue;
                }
                if b < ob {
                    next.push((b, ob - 1));
                }
                if oe < e {
                    next.push((oe + 1, e));
                }
            }
            self.ports = next;
        }
    }

    /// True when nothing worth offering is left (no cpus and no memory).
    pub fn is_empty(&self) -> bool {
        self.scalars[0] <= 0 && self.scalars[1] <= 0
    }

    /// The `Resource` messages for this bundle, in the order a real agent offers them
    /// (ports, cpus, mem, disk), unreserved (`role: "*"`) and allocated to `role`.
    #[allow(deprecated)] // `role: "*"` is still sent by Mesos 1.12 (recorded offers)
    pub fn to_pb(&self, role: Option<&str>) -> Vec<Resource> {
        let alloc = role.map(|r| resource::AllocationInfo {
            role: Some(r.to_string()),
        });
        let star = role.map(|_| "*".to_string());
        let mut out = Vec::new();
        if !self.ports.is_empty() {
            out.push(Resource {
                name: "ports".into(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: self
                        .ports
                        .iter()
                        .map(|&(begin, end)| value::Range { begin, end })
                        .collect(),
                }),
                role: star.clone(),
                allocation_info: alloc.clone(),
                ..Default::default()
            });
        }
        for (i, name) in SCALARS.iter().enumerate() {
            if self.scalars[i] <= 0 {
                continue;
            }
            out.push(Resource {
                name: (*name).into(),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar {
                    value: self.scalars[i] as f64 / 1000.0,
                }),
                role: star.clone(),
                allocation_info: alloc.clone(),
                ..Default::default()
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_arithmetic_is_exact_to_three_decimals() {
        let mut total = Res::new(2.0, 23081.0, 100.0, &[(31000, 32000)]);
        let task = Res::new(0.1, 32.0, 0.0, &[]);
        total.sub(&task);
        let pb = total.to_pb(Some("*"));
        let cpus = pb.iter().find(|r| r.name == "cpus").and_then(|r| r.scalar);
        assert_eq!(cpus.map(|s| s.value), Some(1.9));
        assert_eq!(total.scalars[1], 23_049_000);
    }

    #[test]
    fn ports_split_and_merge() {
        let mut r = Res::new(1.0, 1.0, 0.0, &[(31000, 32000)]);
        r.sub(&Res::new(0.0, 0.0, 0.0, &[(31005, 31006)]));
        assert_eq!(r.ports, vec![(31000, 31004), (31007, 32000)]);
        assert!(!r.contains(&Res::new(0.0, 0.0, 0.0, &[(31004, 31005)])));
        r.add(&Res::new(0.0, 0.0, 0.0, &[(31005, 31006)]));
        assert_eq!(r.ports, vec![(31000, 32000)]);
    }

    #[test]
    fn parse_rejects_unknown_and_negative() {
        let bad = Res::new(1.0, 0.0, 0.0, &[]).to_pb(None);
        let mut gpus = bad.clone();
        gpus[0].name = "gpus".into();
        assert_eq!(Res::from_pb(&gpus), Err(ResError::Unknown("gpus".into())));
        let mut neg = bad;
        neg[0].scalar = Some(value::Scalar { value: -1.0 });
        assert!(matches!(Res::from_pb(&neg), Err(ResError::Negative(_))));
    }
}
