use proptest::prelude::*;

use super::*;

fn hex_target(s: &str) -> Target {
    Target::from_hex(s).expect("test hex")
}

fn pad(prefix: &str) -> String {
    format!("{prefix:0<64}")
}

#[test]
fn compact_of_real_headers() {
    // nbits of blocks 0, 100000, 125552 (stratum.md A.2) and regtest's 207fffff.
    let table = [
        (0x1d00ffff, pad("00000000ffff")),
        (0x1b04864c, pad("000000000004864c")),
        (0x1a44b9f2, pad("00000000000044b9f2")),
        (0x207fffff, pad("7fffff")),
    ];
    for (bits, hex) in table {
        let target = Target::from_compact(bits).expect("valid nbits");
        assert_eq!(target.to_string(), hex, "nbits {bits:08x}");
        assert_eq!(target, hex_target(&hex));
        assert_eq!(target.to_compact(), bits, "back to nbits {bits:08x}");
    }
    assert_eq!(Target::from_compact(0x1d00ffff).ok(), Some(DIFF1));
}

#[test]
fn compact_sign_and_overflow_follow_set_compact() {
    assert_eq!(
        Target::from_compact(0x1d80ffff),
        Err(TargetError::NegativeCompact(0x1d80ffff))
    );
    assert_eq!(
        Target::from_compact(0x23000001),
        Err(TargetError::OverflowCompact(0x23000001))
    );
    assert_eq!(
        Target::from_compact(0x22000100),
        Err(TargetError::OverflowCompact(0x22000100))
    );
    assert_eq!(
        Target::from_compact(0x21010000),
        Err(TargetError::OverflowCompact(0x21010000))
    );
    // Largest sizes that still fit, and a zero mantissa with the sign bit (not negative).
    assert!(Target::from_compact(0x220000ff).is_ok());
    assert!(Target::from_compact(0x2100ffff).is_ok());
    assert_eq!(Target::from_compact(0x01800000), Ok(Target::ZERO));
    assert_eq!(Target::from_compact(0xff000000), Ok(Target::ZERO));
    // Small sizes shift the mantissa right (SetCompact's nSize <= 3 branch).
    assert_eq!(
        Target::from_compact(0x01123456),
        Ok(Target([0x12, 0, 0, 0]))
    );
    assert_eq!(
        Target::from_compact(0x02123456),
        Ok(Target([0x1234, 0, 0, 0]))
    );
    assert_eq!(Target([0x12, 0, 0, 0]).to_compact(), 0x01120000);
    // A mantissa that would have the sign bit gets one more size byte.
    assert_eq!(Target([0x80, 0, 0, 0]).to_compact(), 0x02008000);
    assert_eq!(Target::ZERO.to_compact(), 0);
}

#[test]
fn spec_difficulty_values() {
    // stratum.md, mining.set_difficulty: exact rational arithmetic.
    let table = [
        (1.0, pad("00000000ffff")),
        (0.001, pad("000003e7fc18")),
        (32768.0, pad("000000000001fffe")),
    ];
    for (diff, hex) in table {
        let target = Target::from_difficulty(Difficulty::new(diff).expect("valid"));
        assert_eq!(target.to_string(), hex, "difficulty {diff}");
    }
}

#[test]
fn difficulty_extremes_do_not_panic() {
    let tiny = Target::from_difficulty(Difficulty::new(f64::MIN_POSITIVE / 1e10).expect("ok"));
    assert_eq!(tiny, Target::MAX);
    let huge = Target::from_difficulty(Difficulty::new(f64::MAX).expect("ok"));
    assert_eq!(huge, Target::ZERO);
    // Just above diff1 as an integer: target rounds down to zero.
    let above = Target::from_difficulty(Difficulty::new(2f64.powi(225)).expect("ok"));
    assert_eq!(above, Target::ZERO);
    let below = Target::from_difficulty(Difficulty::new(2f64.powi(200)).expect("ok"));
    assert!(below > Target::ZERO);
    // 2^-32 is read as its shortest decimal 2.3283064365386963e-10, a hair above 2^-32, so
    // the target is just under 0xffff << 240; 1e-10 would need more than 256 bits.
    let t = Target::from_difficulty(Difficulty::new(2f64.powi(-32)).expect("ok"));
    assert!(t.to_string().starts_with("fffeffffffffff"), "{t}");
    let t = Target::from_difficulty(Difficulty::new(1e-10).expect("ok"));
    assert_eq!(t, Target::MAX);
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Difficulty::new(bad).is_err(), "{bad}");
    }
    assert_eq!(Target::ZERO.difficulty(), f64::INFINITY);
}

#[test]
fn hash_meets_target_as_little_endian_integer() {
    let target = DIFF1;
    let mut hash = [0xffu8; 32];
    hash[28..32].copy_from_slice(&[0, 0, 0, 0]);
    // Bytes 24..28 of diff1 are 00 00 ff ff; the hash has ff ff ff ff there: too big.
    assert!(!target.is_met_by(&hash));
    hash[24..26].copy_from_slice(&[0, 0]);
    assert!(!target.is_met_by(&hash)); // lower bytes are non-zero: just over
    let exact = target.to_le_bytes();
    assert!(target.is_met_by(&exact));
    assert_eq!(target.top_max(), 0);
    assert_eq!(Target::MAX.top_max(), u32::MAX);
    assert_eq!(
        Target::from_compact(0x207fffff).map(|t| t.top_max()),
        Ok(0x7fffff00)
    );
}

#[test]
fn share_difficulty_of_genesis_hash() {
    // Genesis hash 000000000019d668…: diff1 / hash ≈ 2536.42 (0xffff·2^208 / 0x19d668…·2^192).
    let mut hash = [0u8; 32];
    let display = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    let target = hex_target(display);
    hash.copy_from_slice(&target.to_le_bytes());
    let d = hash_difficulty(&hash);
    assert!((d - 2536.4).abs() < 0.1, "{d}");
    assert!((DIFF1.difficulty() - 1.0).abs() < 1e-15);
}

#[test]
fn hex_rejects_bad_input() {
    assert!(Target::from_hex("00").is_err());
    assert!(Target::from_hex(&"g".repeat(64)).is_err());
    assert!(Target::from_hex(&"é".repeat(32)).is_err());
    assert_eq!(
        Target::from_hex(&format!("0x{}", pad("ff"))),
        Ok(Target([0, 0, 0, 0xff << 56]))
    );
}

fn any_target() -> impl Strategy<Value = Target> {
    (any::<[u64; 4]>(), 0u32..256).prop_map(|(limbs, shift)| Target(limbs).shr(shift))
}

proptest! {
    #[test]
    fn canonical_compact_round_trips(size in 4u32..=32, mantissa in 0x8000u32..=0x7f_ffff) {
        let bits = (size << 24) | mantissa;
        let target = Target::from_compact(bits).expect("canonical");
        prop_assert_eq!(target.to_compact(), bits);
    }

    #[test]
    fn compact_keeps_top_bits(target in any_target()) {
        let back = Target::from_compact(target.to_compact()).expect("own encoding");
        prop_assert!(back <= target);
        // At most the bits below the 23 kept ones (plus one byte of alignment) are lost.
        let dropped = target.bits().saturating_sub(16);
        prop_assert_eq!(back.shr(dropped), target.shr(dropped));
    }

    #[test]
    fn le_bytes_and_hex_round_trip(target in any_target()) {
        prop_assert_eq!(Target::from_le_bytes(target.to_le_bytes()), target);
        prop_assert_eq!(Target::from_hex(&target.to_string()), Ok(target));
    }

    #[test]
    fn difficulty_round_trips(log10 in -6.0f64..15.0) {
        let diff = 10f64.powf(log10);
        let back = Target::from_difficulty(Difficulty::new(diff).expect("positive")).difficulty();
        prop_assert!(((back - diff) / diff).abs() < 1e-9, "{} -> {}", diff, back);
    }

    #[test]
    fn higher_difficulty_never_gives_higher_target(a in 1e-9f64..1e20, b in 1e-9f64..1e20) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let t_lo = Target::from_difficulty(Difficulty::new(lo).expect("positive"));
        let t_hi = Target::from_difficulty(Difficulty::new(hi).expect("positive"));
        prop_assert!(t_hi <= t_lo);
    }
}
