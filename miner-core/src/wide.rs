//! Just enough unsigned big-integer arithmetic on little-endian `u64` limbs for exact
//! difficulty/target conversions (multiply and divide by a `u64`). Private to the crate.

/// An unsigned integer as little-endian `u64` limbs (limb 0 is the least significant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wide(pub(crate) Vec<u64>);

impl Wide {
    /// Number of significant bits (0 for zero).
    pub(crate) fn bits(&self) -> u32 {
        for (i, limb) in self.0.iter().enumerate().rev() {
            if *limb != 0 {
                return 64 * i as u32 + (64 - limb.leading_zeros());
            }
        }
        0
    }

    /// `self *= m`.
    pub(crate) fn mul_small(&mut self, m: u64) {
        let mut carry: u128 = 0;
        for limb in &mut self.0 {
            let product = u128::from(*limb) * u128::from(m) + carry;
            *limb = product as u64;
            carry = product >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
    }

    /// `self = floor(self / d)`; `d` must not be zero.
    pub(crate) fn div_small(&mut self, d: u64) {
        debug_assert!(d != 0);
        let mut rem: u128 = 0;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
    }

    /// The value as an `f64` (rounded; may be infinite for huge values).
    pub(crate) fn to_f64(&self) -> f64 {
        self.0.iter().rev().fold(0.0, |acc, limb| {
            acc * 18_446_744_073_709_551_616.0 + *limb as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Wide;

    #[test]
    fn mul_then_div_is_identity() {
        let mut w = Wide(vec![0x1234_5678_9abc_def0, 0xffff_ffff_ffff_ffff, 7]);
        let orig = w.clone();
        w.mul_small(1_000_000_007);
        assert_ne!(w, orig);
        w.div_small(1_000_000_007);
        assert_eq!(w.0[..3], orig.0[..]);
        assert!(w.0[3..].iter().all(|l| *l == 0));
    }

    #[test]
    fn bits_and_f64() {
        assert_eq!(Wide(vec![0, 0]).bits(), 0);
        assert_eq!(Wide(vec![1]).bits(), 1);
        assert_eq!(Wide(vec![0, 1]).bits(), 65);
        assert_eq!(Wide(vec![0, 1]).to_f64(), 18_446_744_073_709_551_616.0);
    }

    #[test]
    fn div_floors() {
        let mut w = Wide(vec![10]);
        w.div_small(3);
        assert_eq!(w.0, vec![3]);
    }
}
