use super::*;

#[test]
fn bip34_height_pushes() {
    for h in 1..=16u64 {
        assert_eq!(height_push(h), vec![0x50 + h as u8], "height {h}");
    }
    let cases: &[(u64, &str)] = &[
        (0, "00"),
        (17, "0111"),
        (127, "017f"),
        (128, "028000"),
        (255, "02ff00"),
        (256, "020001"),
        (32767, "02ff7f"),
        (32768, "03008000"),
        (65535, "03ffff00"),
        (65536, "03000001"),
        (8_388_607, "03ffff7f"),
        (8_388_608, "0400008000"),
        // The first BIP34 block on mainnet starts its scriptSig with 03 fc 79 03.
        (227_836, "03fc7903"),
        (676_486, "0386520a"),
    ];
    for (h, hex_push) in cases {
        assert_eq!(hex::encode(height_push(*h)), *hex_push, "height {h}");
    }
}

#[test]
fn height_push_matches_rust_bitcoin_push_int() {
    // rust-bitcoin's `push_int` follows Core's `CScript << int64`.
    for h in (0..70_000u64).chain([1 << 23, (1 << 31) - 1, 1 << 31, 1 << 32]) {
        let theirs = bitcoin::script::Builder::new()
            .push_int(h as i64)
            .into_script();
        assert_eq!(height_push(h), theirs.as_bytes(), "height {h}");
    }
}

#[test]
fn payout_scripts_for_every_address_kind() {
    let main = Network::Bitcoin;
    let cases = [
        (
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac",
        ),
        (
            // The payout of mainnet block 676486 (below), in BIP173's uppercase form.
            "BC1QX9T2L3PYNY2SPQPQLYE8SVCE70NPPWTAXWDRP4",
            "00143156afc4249915008020f932783319f3e610b97d",
        ),
        (
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
        ),
        (
            // BIP350 test vector.
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        ),
    ];
    for (address, script) in cases {
        assert_eq!(hex::encode(payout_script(address, main).unwrap()), script);
    }
    let p2sh = payout_script("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", main).unwrap();
    assert!(p2sh.is_p2sh());
    // Observed on the BSV regtest node (validateaddress).
    let regtest = payout_script("mxfcJJiaacCaCcsMWwn1HtAoK8cEJokJbY", Network::Regtest).unwrap();
    assert_eq!(
        hex::encode(regtest),
        "76a914bc1d30c1713153b22e60e5ddee4da18353fc98c188ac"
    );
    // Wrong network and garbage are refused with the address in the message.
    let err = payout_script("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Network::Regtest).unwrap_err();
    assert!(err.to_string().contains("1A1zP1eP"));
    assert!(payout_script("bc1qnotanaddress", main).is_err());
    assert_eq!(network_from_chain("regtest"), Some(Network::Regtest));
    assert_eq!(network_from_chain("main"), Some(Network::Bitcoin));
    assert_eq!(network_from_chain("bogus"), None);
}

/// A real mainnet segwit coinbase: block 676486 (Binance pool, Feb 2021), txid
/// f68394a5fa08907fbdd049401a4da25b10bd57f9301822747a23830fe328de6e, wtxid 2972ad73…9414,
/// as printed by `getrawtransaction` in a public bitcoind RPC wrapper's README.
/// scriptSig: 03 86520a (height) ‖ 04 84c35e60 ‖ "binance/bj" ‖ 12 extranonce bytes.
const BINANCE_676486: &str = "020000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff1f0386520a0484c35e6062696e616e63652f626a4629220e4781290000000000ffffffff020e9db926000000001600143156afc4249915008020f932783319f3e610b97d0000000000000000266a24aa21a9ed50ab3dbcc26ab26a587dddf4b98d93036e0cfd52c141eae7983775aa534f51820120000000000000000000000000000000000000000000000000000000000000000000000000";

fn display(hash: [u8; 32]) -> String {
    let mut h = hash;
    h.reverse();
    hex::encode(h)
}

#[test]
fn segwit_template_rebuilds_a_real_mainnet_coinbase() {
    let spec = CoinbaseSpec {
        height: 676_486,
        value: 649_698_574,
        payout_script: payout_script(
            "bc1qx9t2l3pyny2spqpqlye8svce70nppwtaxwdrp4",
            Network::Bitcoin,
        )
        .unwrap(),
        // What Core's getblocktemplate gave as default_witness_commitment for that block.
        witness_commitment: Some(
            hex::decode(
                "6a24aa21a9ed50ab3dbcc26ab26a587dddf4b98d93036e0cfd52c141eae7983775aa534f5182",
            )
            .unwrap(),
        ),
        script_prefix: hex::decode("0484c35e6062696e616e63652f626a").unwrap(),
        extranonce_len: 12,
        tx_version: 2,
    };
    let parts = build(&spec).unwrap();
    assert!(parts.segwit);
    let en1 = hex::decode("4629220e").unwrap();
    let en2 = hex::decode("4781290000000000").unwrap();
    let stripped = [&parts.coinb1[..], &en1, &en2, &parts.coinb2].concat();
    assert_eq!(
        display(miner_core::kernels::sha256d(&stripped)),
        "f68394a5fa08907fbdd049401a4da25b10bd57f9301822747a23830fe328de6e"
    );
    let full = with_reserved_witness(&stripped);
    assert_eq!(hex::encode(&full), BINANCE_676486);
    assert_eq!(
        display(miner_core::kernels::sha256d(&full)),
        "2972ad7373d1dfcb074be84b96f3da0632993feb52b00a645fc7d137ce8b9414"
    );
    // The rust-bitcoin decoder agrees on the witness form.
    let tx: Transaction = encode::deserialize(&full).unwrap();
    assert_eq!(tx.input[0].witness.len(), 1);
    assert_eq!(
        tx.output[1].script_pubkey.as_bytes(),
        &spec.witness_commitment.unwrap()[..]
    );
}

#[test]
fn non_segwit_template_and_split_point() {
    let spec = CoinbaseSpec {
        height: 104,
        value: 5_000_000_000,
        payout_script: ScriptBuf::from_bytes(vec![0x51]),
        witness_commitment: None,
        script_prefix: Vec::new(),
        extranonce_len: 12,
        tx_version: 1,
    };
    let parts = build(&spec).unwrap();
    assert!(!parts.segwit);
    // coinb1 ends with the scriptSig length (2 + 12) and the height push 01 68 (Part A.1).
    assert!(hex::encode(&parts.coinb1).ends_with("0e0168"));
    let tx_bytes = [&parts.coinb1[..], &[1, 2, 3, 4], &[5; 8], &parts.coinb2].concat();
    let tx: Transaction = encode::deserialize(&tx_bytes).unwrap();
    assert!(tx.is_coinbase());
    assert_eq!(tx.output[0].value.to_sat(), 5_000_000_000);
    let script = tx.input[0].script_sig.as_bytes();
    assert_eq!(&script[2..6], &[1, 2, 3, 4]);
    assert_eq!(&script[6..], &[5; 8]);
    // rust-bitcoin reads our BIP34 height back as the first push.
    let first = tx.input[0]
        .script_sig
        .instructions()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first.push_bytes().unwrap().as_bytes(), &[104]);
}

#[test]
fn refuses_oversized_script_sig_and_bad_commitment() {
    let mut spec = CoinbaseSpec {
        height: 1_000_000,
        value: 1,
        payout_script: ScriptBuf::from_bytes(vec![0x51]),
        witness_commitment: None,
        script_prefix: vec![0; 90],
        extranonce_len: 12,
        tx_version: 1,
    };
    assert!(matches!(
        build(&spec),
        Err(CoinbaseError::ScriptSigLength(106))
    ));
    spec.script_prefix.clear();
    spec.witness_commitment = Some(vec![0x00; 38]);
    assert!(matches!(build(&spec), Err(CoinbaseError::Commitment(38))));
    spec.witness_commitment = None;
    spec.value = 21_000_001 * 100_000_000;
    assert!(matches!(build(&spec), Err(CoinbaseError::Value(_))));
}
