use super::*;

#[test]
fn u32_hex_table() {
    // (value, wire) pairs from spec/stratum.md: block 100000 job, slush nonce, regtest nbits.
    let table: &[(u32, &str)] = &[
        (1, "00000001"),
        (0x1b04864c, "1b04864c"),
        (0x4d1b2237, "4d1b2237"),
        (274_148_111, "10572b0f"),
        (0x0a029ed1, "0a029ed1"),
        (0x207fffff, "207fffff"),
        (u32::MAX, "ffffffff"),
    ];
    for &(value, wire) in table {
        assert_eq!(u32_to_hex(value), wire);
        assert_eq!(u32_from_hex(wire), Ok(value));
    }
    // Header holds the little-endian bytes of the value: nonce "0a029ed1" is d1 9e 02 0a.
    assert_eq!(
        u32_from_hex("0a029ed1").unwrap().to_le_bytes(),
        [0xd1, 0x9e, 0x02, 0x0a]
    );
    assert_eq!(u32_from_hex("FFFFFFFF"), Ok(u32::MAX));
}

#[test]
fn u32_hex_rejects() {
    for bad in [
        "",
        "1",
        "0000001",
        "000000001",
        "0000000g",
        "+0000001",
        " 0000001",
    ] {
        assert!(u32_from_hex(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn prevhash_regtest_vector() {
    // Observed on regtest (spec Part A.1): tip display hex and its notify form.
    let display = "21e60c94f7ed79a9352a7cc79436341a391c9ea147dcd144e572e4dbacd3fa8b";
    let notify = "acd3fa8be572e4db47dcd144391c9ea19436341a352a7cc7f7ed79a921e60c94";
    let from_display = PrevHash::from_display_hex(display).unwrap();
    let from_notify = PrevHash::from_notify_hex(notify).unwrap();
    assert_eq!(from_display, from_notify);
    assert_eq!(from_display.to_notify_hex(), notify);
    assert_eq!(from_notify.to_display_hex(), display);
}

#[test]
fn prevhash_block_100000_header_bytes() {
    // Block 100000's prev block (display) and the notify form of Stratum job A.
    let display = "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250";
    let notify = "1901125004612a1701c3a621d930d31d36b607df1fccc2160002d01c00000000";
    let p = PrevHash::from_notify_hex(notify).unwrap();
    assert_eq!(p.to_display_hex(), display);
    let mut expected = hex::decode(display).unwrap();
    expected.reverse();
    assert_eq!(p.header_bytes().to_vec(), expected);
}

#[test]
fn prevhash_rejects() {
    assert!(PrevHash::from_notify_hex("00").is_err());
    assert!(PrevHash::from_notify_hex(&"zz".repeat(32)).is_err());
    assert!(PrevHash::from_display_hex(&"0".repeat(66)).is_err());
}

#[test]
fn extranonce_hex_and_bounds() {
    let e = Extranonce1::from_hex("b386086b").unwrap();
    assert_eq!(e.as_bytes(), &[0xb3, 0x86, 0x08, 0x6b]);
    assert_eq!(e.to_hex(), "b386086b");
    assert!(Extranonce1::from_hex("abc").is_err());
    assert!(Extranonce2::from_hex(&"00".repeat(MAX_EXTRANONCE_SIZE + 1)).is_err());
    assert!(Extranonce2::from_bytes(vec![0; MAX_EXTRANONCE_SIZE + 1]).is_err());
    assert_eq!(Extranonce2::from_counter(0x0102, 4).to_hex(), "02010000");
    assert_eq!(
        Extranonce2::from_counter(0x0102_0304_0506, 2).to_hex(),
        "0605"
    );
    assert_eq!(
        Extranonce2::from_counter(1, 10).to_hex(),
        "01000000000000000000"
    );
}

#[test]
fn difficulty_validation_and_json() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Difficulty::new(bad).is_err());
    }
    let d = Difficulty::new(0.01).unwrap();
    assert_eq!(d.to_json().to_string(), "0.01");
    assert_eq!(Difficulty::new(2.0).unwrap().to_json().to_string(), "2");
    assert_eq!(
        Difficulty::from_json(&serde_json::json!(42))
            .unwrap()
            .value(),
        42.0
    );
    assert!(Difficulty::from_json(&serde_json::json!("1")).is_err());
    let (lo, hi) = (Difficulty::new(1.0).unwrap(), Difficulty::new(8.0).unwrap());
    assert_eq!(Difficulty::new(0.5).unwrap().clamp(lo, hi), lo);
    assert_eq!(Difficulty::new(9.0).unwrap().clamp(lo, hi), hi);
}

#[test]
fn version_mask_rules() {
    let m = VersionMask::BIP320;
    assert_eq!(m.to_hex(), "1fffe000");
    assert_eq!(VersionMask::from_hex("1fffe000"), Ok(m));
    assert!(m.allows(0x2000_0000, 0x3fff_e000));
    assert!(!m.allows(0x2000_0000, 0x2000_0001));
    assert_eq!(m.apply(0x2000_0000, 0x1fff_e000), 0x3fff_e000);
    assert_eq!(m.apply(0x2000_0004, 0xffff_ffff), 0x3fff_e004);
}

#[test]
fn job_id_bounds() {
    assert!(JobId::new("").is_err());
    assert!(JobId::new("x".repeat(MAX_JOB_ID_LEN + 1)).is_err());
    assert_eq!(
        JobId::new("6b0887b300000001").unwrap().as_str(),
        "6b0887b300000001"
    );
}
