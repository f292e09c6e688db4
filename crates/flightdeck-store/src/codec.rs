//! Payload compression: LLM text takes zstd well, and bytes written are what bounds SQLite
//! ingest (see docs/ARCHITECTURE.md, "Write path"). The first byte of a stored payload says
//! how the rest is encoded, so small payloads can skip compression and the format can evolve.

use std::cell::RefCell;

const RAW: u8 = 0;
const ZSTD: u8 = 1;
/// Payloads shorter than this are stored as they are: compression would not pay.
const COMPRESS_FROM: usize = 128;
/// zstd level 1: several hundred MB/s per core and about 3x on English prose and JSON.
const LEVEL: i32 = 1;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes a payload for storage.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    if payload.len() >= COMPRESS_FROM {
        let compressed = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = zstd::bulk::Compressor::new(LEVEL).ok();
            }
            c.as_mut().and_then(|c| c.compress(payload).ok())
        });
        if let Some(z) = compressed.filter(|z| z.len() + 1 < payload.len()) {
            let mut out = Vec::with_capacity(z.len() + 1);
            out.push(ZSTD);
            out.extend_from_slice(&z);
            return out;
        }
    }
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(RAW);
    out.extend_from_slice(payload);
    out
}

/// Decodes a stored payload back to its original bytes.
pub fn decode(stored: &[u8]) -> Result<Vec<u8>, String> {
    match stored.split_first() {
        Some((&RAW, rest)) => Ok(rest.to_vec()),
        Some((&ZSTD, rest)) => zstd::stream::decode_all(rest).map_err(|e| e.to_string()),
        Some((other, _)) => Err(format!("unknown payload encoding {other}")),
        None => Err("empty payload".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_and_large() {
        for text in ["\"hi\"".to_string(), "the plan is to ".repeat(100)] {
            let stored = encode(text.as_bytes());
            assert_eq!(decode(&stored).unwrap(), text.as_bytes());
        }
        assert!(encode("the plan is to ".repeat(100).as_bytes()).len() < 200);
        assert!(decode(&[9, 1]).is_err());
    }
}
