//! The `getblocktemplate` reply (BIP22/BIP23, spec/stratum.md Part B.4) as received, and its
//! checked, decoded form that jobs are built from.

use serde::Deserialize;

/// One transaction of the template.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateTx {
    /// Raw transaction, hex (with witness on Bitcoin Core).
    pub data: String,
    /// Display-order txid.
    pub txid: String,
}

/// The fields of a `getblocktemplate` reply the pool uses; the rest is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct BlockTemplate {
    /// Block version, rule bits included.
    pub version: u32,
    /// Display-order hash of the block to build on.
    pub previousblockhash: String,
    /// Transactions to include after the coinbase, in order.
    #[serde(default)]
    pub transactions: Vec<TemplateTx>,
    /// Satoshis the coinbase may pay out (subsidy + fees).
    pub coinbasevalue: u64,
    /// Id to pass back for a long poll (BIP22), when the node supports it.
    #[serde(default)]
    pub longpollid: Option<String>,
    /// Earliest allowed header time, Unix seconds (0 when absent).
    #[serde(default)]
    pub mintime: u64,
    /// The node's current time, Unix seconds.
    pub curtime: u64,
    /// Compact target (nbits), 8 hex digits.
    pub bits: String,
    /// Height of the block to build.
    pub height: u64,
    /// Bitcoin Core only: the scriptPubKey (hex) of the coinbase's witness commitment output.
    #[serde(default)]
    pub default_witness_commitment: Option<String>,
}

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template field {field}: {why}")]
    /// A field is malformed or out of range.
    Field {
        /// The `getblocktemplate` field name.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

fn field(field: &'static str, why: impl Into<String>) -> TemplateError {
    TemplateError::Field {
        field,
        why: why.into(),
    }
}

/// A transaction ready to go into a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    /// The serialized transaction, as it goes into the block.
    pub data: Vec<u8>,
    /// Internal byte order (as hashed into the merkle tree).
    pub txid: [u8; 32],
}

/// A decoded, checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Block version, rule bits included.
    pub version: u32,
    /// Previous block hash, internal byte order (as in the header).
    pub prevhash: [u8; 32],
    /// Transactions after the coinbase, in block order.
    pub txs: Vec<Tx>,
    /// Satoshis the coinbase may pay out (subsidy + fees).
    pub coinbase_value: u64,
    /// Compact network target (nbits).
    pub bits: u32,
    /// Height of the block to build.
    pub height: u64,
    /// The node's time, Unix seconds.
    pub curtime: u32,
    /// Earliest allowed ntime, Unix seconds.
    pub mintime: u32,
    /// The witness commitment output script, decoded from hex (segwit templates).
    pub witness_commitment: Option<Vec<u8>>,
    /// Id for a long poll (BIP22), when the node gave one.
    pub longpollid: Option<String>,
}

/// Parses a display-order hash (as RPC prints it) into internal order.
pub fn hash_from_display(name: &'static str, text: &str) -> Result<[u8; 32], TemplateError> {
    let bytes = hex::decode(text).map_err(|e| field(name, e.to_string()))?;
    let mut hash: [u8; 32] = bytes.try_into().map_err(|_| field(name, "not 32 bytes"))?;
    hash.reverse();
    Ok(hash)
}

impl Template {
    /// Decodes and checks every field the pool relies on.
    pub fn from_rpc(t: &BlockTemplate) -> Result<Template, TemplateError> {
        let prevhash = hash_from_display("previousblockhash", &t.previousblockhash)?;
        let bits = u32::from_str_radix(&t.bits, 16).map_err(|e| field("bits", e.to_string()))?;
        if t.bits.len() != 8 {
            return Err(field("bits", "not 8 hex digits"));
        }
        let mut txs = Vec::with_capacity(t.transactions.len());
        for tx in &t.transactions {
            let data =
                hex::decode(&tx.data).map_err(|e| field("transactions.data", e.to_string()))?;
            let txid = hash_from_display("transactions.txid", &tx.txid)?;
            txs.push(Tx { data, txid });
        }
        let witness_commitment = match &t.default_witness_commitment {
            Some(hex_script) => Some(
                hex::decode(hex_script)
                    .map_err(|e| field("default_witness_commitment", e.to_string()))?,
            ),
            None => None,
        };
        let time = |name, v: u64| u32::try_from(v).map_err(|_| field(name, "beyond u32"));
        Ok(Template {
            version: t.version,
            prevhash,
            txs,
            coinbase_value: t.coinbasevalue,
            bits,
            height: t.height,
            curtime: time("curtime", t.curtime)?,
            mintime: time("mintime", t.mintime)?,
            witness_commitment,
            longpollid: t.longpollid.clone(),
        })
    }

    /// True when `other` would give miners different work than `self` (other than time).
    pub fn differs_in_work(&self, other: &Template) -> bool {
        self.prevhash != other.prevhash
            || self.coinbase_value != other.coinbase_value
            || self.bits != other.bits
            || self.version != other.version
            || self.txs.len() != other.txs.len()
            || self
                .txs
                .iter()
                .zip(&other.txs)
                .any(|(a, b)| a.txid != b.txid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template as the BSV regtest node printed it (Part B.4), with one transaction added.
    const REGTEST: &str = r#"{"capabilities":["proposal"],"version":536870912,
      "previousblockhash":"050a737918b49d793f4ac91d8461c892a9718efd8114403053652129fd4489d4",
      "transactions":[{"data":"0100","txid":"00000000000000000000000000000000000000000000000000000000000000ff","hash":"x","depends":[],"fee":1}],
      "coinbaseaux":{"flags":""},"coinbasevalue":5000000000,
      "longpollid":"050a737918b49d793f4ac91d8461c892a9718efd8114403053652129fd4489d45",
      "target":"7fffff0000000000000000000000000000000000000000000000000000000000",
      "mintime":1795727445,"mutable":["time","transactions","prevblock"],
      "noncerange":"00000000ffffffff","sizelimit":128000000,"curtime":1795727445,
      "bits":"207fffff","height":2}"#;

    #[test]
    fn decodes_regtest_template() {
        let raw: BlockTemplate = serde_json::from_str(REGTEST).unwrap();
        let t = Template::from_rpc(&raw).unwrap();
        assert_eq!(t.bits, 0x207fffff);
        assert_eq!(t.height, 2);
        assert_eq!(t.prevhash[31], 0x05);
        assert_eq!(t.prevhash[0], 0xd4);
        assert_eq!(t.txs[0].txid[0], 0xff);
        assert_eq!(t.txs[0].data, vec![1, 0]);
        assert_eq!(t.witness_commitment, None);
        let mut other = t.clone();
        assert!(!t.differs_in_work(&other));
        other.curtime += 1;
        assert!(!t.differs_in_work(&other));
        other.txs.clear();
        assert!(t.differs_in_work(&other));
    }

    #[test]
    fn rejects_bad_fields() {
        let mut raw: BlockTemplate = serde_json::from_str(REGTEST).unwrap();
        raw.bits = "zz".into();
        assert!(Template::from_rpc(&raw).is_err());
        let mut raw: BlockTemplate = serde_json::from_str(REGTEST).unwrap();
        raw.previousblockhash = "00".into();
        assert!(Template::from_rpc(&raw).is_err());
    }
}
