//! The coinbase transaction of a job, split around the extranonce slot into coinb1/coinb2
//! (spec/stratum.md "mining.notify"), and the payout address check.
//!
//! scriptSig layout: BIP34 height push ‖ `script_prefix` (e.g. a push of the pool tag) ‖
//! extranonce1 ‖ extranonce2. The extranonce bytes are the raw tail of the scriptSig, as many
//! pools do (see the Binance coinbase in the tests); a coinbase scriptSig is never executed,
//! consensus only wants 2..=100 bytes that start with the height push.

use std::str::FromStr;

use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode;
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness,
};

/// Consensus bounds of a coinbase scriptSig (Bitcoin Core `CheckTransaction`: "bad-cb-length").
pub const SCRIPT_SIG_MIN: usize = 2;
/// Upper consensus bound of a coinbase scriptSig, in bytes.
pub const SCRIPT_SIG_MAX: usize = 100;

/// Why a coinbase cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CoinbaseError {
    /// The payout address does not parse or is for another network.
    #[error("payout address {address:?}: {why}")]
    Address {
        /// The address as given.
        address: String,
        /// What the address parser objected to.
        why: String,
    },
    /// Height push, tag and extranonce slot (the length is given) break the consensus bounds.
    #[error(
        "coinbase scriptSig would be {0} bytes; consensus allows {SCRIPT_SIG_MIN}..={SCRIPT_SIG_MAX}"
    )]
    ScriptSigLength(usize),
    /// The template's `default_witness_commitment` is not a short OP_RETURN script.
    #[error("witness commitment script is {0} bytes; expected an OP_RETURN of at most 80")]
    Commitment(usize),
    /// The template's `coinbasevalue` (given) is above 21 million BTC.
    #[error("coinbase value {0} sat exceeds the money supply")]
    Value(u64),
}

/// The network named by `getblockchaininfo`'s `chain` ("main", "test", "regtest", "signet").
pub fn network_from_chain(chain: &str) -> Option<Network> {
    match chain {
        "main" => Some(Network::Bitcoin),
        "test" => Some(Network::Testnet),
        "regtest" => Some(Network::Regtest),
        "signet" => Some(Network::Signet),
        _ => None,
    }
}

/// The scriptPubKey paying `address`, which must belong to `network` (P2PKH, P2SH, P2WPKH,
/// P2WSH, P2TR, or any other form the `bitcoin` crate knows).
pub fn payout_script(address: &str, network: Network) -> Result<ScriptBuf, CoinbaseError> {
    let err = |why: String| CoinbaseError::Address {
        address: address.to_string(),
        why,
    };
    let text = address.trim();
    // BIP173 allows all-uppercase bech32 (QR codes); rust-bitcoin only parses lowercase.
    let unchecked = Address::from_str(text)
        .or_else(|e| Address::from_str(&text.to_lowercase()).map_err(|_| e))
        .map_err(|e| err(e.to_string()))?;
    let checked = unchecked
        .require_network(network)
        .map_err(|e| err(e.to_string()))?;
    Ok(checked.script_pubkey())
}

/// BIP34 height push, exactly as Bitcoin Core writes `CScript() << nHeight` (and checks it in
/// `ContextualCheckBlock`): OP_0 for 0, OP_1..OP_16 for 1..=16, otherwise a push of the
/// minimal CScriptNum (little-endian, with a 0x00 byte added when the top bit is set).
pub fn height_push(height: u64) -> Vec<u8> {
    match height {
        0 => vec![0x00],
        1..=16 => vec![0x50 + height as u8],
        _ => {
            let mut num = Vec::with_capacity(9);
            let mut rest = height;
            while rest > 0 {
                num.push((rest & 0xff) as u8);
                rest >>= 8;
            }
            if num.last().is_some_and(|b| b & 0x80 != 0) {
                num.push(0x00);
            }
            let mut push = Vec::with_capacity(num.len() + 1);
            push.push(num.len() as u8);
            push.extend_from_slice(&num);
            push
        }
    }
}

/// Everything that goes into a job's coinbase.
#[derive(Debug, Clone)]
pub struct CoinbaseSpec {
    /// Block height, pushed first in the scriptSig (BIP34).
    pub height: u64,
    /// Satoshis: the template's `coinbasevalue` (subsidy + fees).
    pub value: u64,
    /// The scriptPubKey of the single payout output.
    pub payout_script: ScriptBuf,
    /// The template's `default_witness_commitment` script, when it has one.
    pub witness_commitment: Option<Vec<u8>>,
    /// Script bytes between the height push and the extranonce slot.
    pub script_prefix: Vec<u8>,
    /// extranonce1 length + extranonce2 length.
    pub extranonce_len: usize,
    /// The coinbase transaction's version field.
    pub tx_version: i32,
}

/// A coinbase split around its extranonce slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinbaseParts {
    /// Bytes before the extranonce slot (`mining.notify` coinb1).
    pub coinb1: Vec<u8>,
    /// Bytes after the extranonce slot (`mining.notify` coinb2).
    pub coinb2: Vec<u8>,
    /// True when the block must carry the coinbase in witness form (segwit template).
    pub segwit: bool,
}

/// Builds the non-witness serialization of the coinbase and splits it at the extranonce.
pub fn build(spec: &CoinbaseSpec) -> Result<CoinbaseParts, CoinbaseError> {
    let mut script_sig = height_push(spec.height);
    script_sig.extend_from_slice(&spec.script_prefix);
    let slot_in_script = script_sig.len();
    script_sig.resize(slot_in_script + spec.extranonce_len, 0);
    if !(SCRIPT_SIG_MIN..=SCRIPT_SIG_MAX).contains(&script_sig.len()) {
        return Err(CoinbaseError::ScriptSigLength(script_sig.len()));
    }
    let value = Amount::from_sat(spec.value);
    if value > Amount::MAX_MONEY {
        return Err(CoinbaseError::Value(spec.value));
    }
    let mut output = vec![TxOut {
        value,
        script_pubkey: spec.payout_script.clone(),
    }];
    if let Some(commitment) = &spec.witness_commitment {
        // BIP141: an OP_RETURN output; Core puts it last. 6a 24 aa21a9ed <32> is 38 bytes.
        if commitment.len() > 80 || commitment.first() != Some(&0x6a) {
            return Err(CoinbaseError::Commitment(commitment.len()));
        }
        output.push(TxOut {
            value: Amount::ZERO,
            script_pubkey: ScriptBuf::from_bytes(commitment.clone()),
        });
    }
    let tx = Transaction {
        version: Version(spec.tx_version),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output,
    };
    let bytes = encode::serialize(&tx);
    // version(4) ‖ input count(1) ‖ outpoint(36) ‖ scriptSig length(1, as ≤ 100) ‖ scriptSig
    let slot = 4 + 1 + 36 + 1 + slot_in_script;
    Ok(CoinbaseParts {
        coinb1: bytes[..slot].to_vec(),
        coinb2: bytes[slot + spec.extranonce_len..].to_vec(),
        segwit: spec.witness_commitment.is_some(),
    })
}

/// Rewrites a non-witness coinbase (version ‖ inputs ‖ outputs ‖ locktime) into the witness
/// serialization: version ‖ 00 01 ‖ inputs ‖ outputs ‖ [1 item: 32 zero bytes] ‖ locktime.
pub fn with_reserved_witness(non_witness: &[u8]) -> Vec<u8> {
    let split = non_witness.len().saturating_sub(4).max(4);
    let mut tx = Vec::with_capacity(non_witness.len() + 36);
    tx.extend_from_slice(&non_witness[..4.min(non_witness.len())]);
    tx.extend_from_slice(&[0x00, 0x01]);
    tx.extend_from_slice(&non_witness[4.min(non_witness.len())..split]);
    tx.push(0x01);
    tx.push(0x20);
    tx.extend_from_slice(&[0u8; 32]);
    tx.extend_from_slice(&non_witness[split..]);
    tx
}

#[cfg(test)]
#[path = "coinbase_tests.rs"]
mod tests;
