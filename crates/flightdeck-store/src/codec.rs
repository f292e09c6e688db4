//! Payload compression: LLM text takes zstd well, and bytes written are what bounds SQLite
//! ingest (see docs/ARCHITECTURE.md, "Write path"). The first byte of a stored payload says
//! how the rest is encoded, so small payloads can skip compression and the format can evolve:
//!
//! - `0`: the payload as it is;
//! - `1`: a zstd frame;
//! - `2`: a 4-byte little-endian dictionary id, then a zstd frame made with that dictionary.
//!
//! A dictionary trained on a database's own first payloads (`flightdeck-store-sqlite`, `dictionary.rs`) carries
//! what they share (JSON keys, system prompts, the vocabulary): measured on chat payloads of
//! 0.2 to 3 KB, it cut compression time by about a quarter and bytes by about 40%.

use std::cell::RefCell;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

const RAW: u8 = 0;
const ZSTD: u8 = 1;
const ZSTD_DICT: u8 = 2;
/// Payloads shorter than this are stored as they are: compression would not pay.
pub const COMPRESS_FROM: usize = 128;
/// zstd level 1 without a dictionary: several hundred MB/s per core.
const LEVEL: i32 = 1;
/// With a dictionary, level 3 costs about what level 1 does and writes ~15% fewer bytes.
pub const DICT_LEVEL: i32 = 3;

/// A dictionary ready for compression, with the id it is stored under. The id is unique only
/// within its database (each database numbers its own from 1), so a dictionary is told apart
/// from another database's by its address: each is leaked once and never freed or moved.
pub struct EncodeDict {
    pub id: u32,
    pub dict: EncoderDictionary<'static>,
}

thread_local! {
    static PLAIN: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    /// The compressor of the dictionary this thread used last, which may be another
    /// database's: it is reused only for that very dictionary (`std::ptr::eq`), never for
    /// one that merely has the same id.
    static WITH_DICT: RefCell<Option<(&'static EncodeDict, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
}

/// Encodes a payload for storage, with `dict` when one is given.
pub fn encode(payload: &[u8], dict: Option<&'static EncodeDict>) -> Vec<u8> {
    if payload.len() >= COMPRESS_FROM {
        let compressed = match dict {
            Some(d) => WITH_DICT
                .with(|c| {
                    let mut c = c.borrow_mut();
                    if c.as_ref().is_none_or(|(used, _)| !std::ptr::eq(*used, d)) {
                        *c = zstd::bulk::Compressor::with_prepared_dictionary(&d.dict)
                            .ok()
                            .map(|z| (d, z));
                    }
                    c.as_mut().and_then(|(_, z)| z.compress(payload).ok())
                })
                .map(|z| framed(&[&[ZSTD_DICT], &d.id.to_le_bytes(), &z])),
            None => PLAIN
                .with(|c| {
                    let mut c = c.borrow_mut();
                    if c.is_none() {
                        *c = zstd::bulk::Compressor::new(LEVEL).ok();
                    }
                    c.as_mut().and_then(|c| c.compress(payload).ok())
                })
                .map(|z| framed(&[&[ZSTD], &z])),
        };
        if let Some(out) = compressed.filter(|out| out.len() < payload.len()) {
            return out;
        }
    }
    framed(&[&[RAW], payload])
}

fn framed(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The dictionary a stored payload needs, if any: a store whose dictionaries are loaded
/// asynchronously fetches it before [`decode`].
pub fn dictionary_id(stored: &[u8]) -> Option<u32> {
    match stored {
        [ZSTD_DICT, a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Decodes a stored payload back to its original bytes; `dict` finds a dictionary by id.
pub fn decode(
    stored: &[u8],
    dict: impl FnOnce(u32) -> Option<std::sync::Arc<DecoderDictionary<'static>>>,
) -> Result<Vec<u8>, String> {
    match stored.split_first() {
        Some((&RAW, rest)) => Ok(rest.to_vec()),
        Some((&ZSTD, rest)) => zstd::stream::decode_all(rest).map_err(|e| e.to_string()),
        Some((&ZSTD_DICT, rest)) if rest.len() >= 4 => {
            let (id, frame) = rest.split_at(4);
            let id = u32::from_le_bytes(id.try_into().expect("four bytes"));
            let d = dict(id)
                .ok_or_else(|| format!("payload needs dictionary {id}, which is missing"))?;
            let size = zstd::zstd_safe::get_frame_content_size(frame)
                .ok()
                .flatten()
                .ok_or("payload frame without a content size")?;
            zstd::bulk::Decompressor::with_prepared_dictionary(&d)
                .and_then(|mut z| z.decompress(frame, size as usize))
                .map_err(|e| e.to_string())
        }
        Some((other, _)) => Err(format!("unknown payload encoding {other}")),
        None => Err("empty payload".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn no_dict(_: u32) -> Option<Arc<DecoderDictionary<'static>>> {
        None
    }

    #[test]
    fn round_trips_small_and_large() {
        for text in ["\"hi\"".to_string(), "the plan is to ".repeat(100)] {
            let stored = encode(text.as_bytes(), None);
            assert_eq!(decode(&stored, no_dict).unwrap(), text.as_bytes());
        }
        assert!(encode("the plan is to ".repeat(100).as_bytes(), None).len() < 200);
        assert!(decode(&[9, 1], no_dict).is_err());
    }

    /// A dictionary trained on prompts about `topic`, stored under `id`.
    fn trained(topic: &str, id: u32) -> (Vec<u8>, &'static EncodeDict) {
        let samples: Vec<String> = (0..400)
            .map(|i| format!(r#"[{{"role":"system","content":"You plan {topic}, step {i}, carefully and quietly."}}]"#))
            .collect();
        let bytes = zstd::dict::from_samples(&samples, 4096).unwrap();
        let dict: &'static EncodeDict = Box::leak(Box::new(EncodeDict {
            id,
            dict: EncoderDictionary::copy(&bytes, DICT_LEVEL),
        }));
        (bytes, dict)
    }

    #[test]
    fn round_trips_with_a_dictionary_and_names_a_missing_one() {
        let (bytes, dict) = trained("heists", 7);
        let payload = br#"[{"role":"system","content":"You plan heists, step 9000, carefully and quietly."},{"role":"system","content":"You plan heists, step 9001, carefully and quietly."}]"#;
        let stored = encode(payload, Some(dict));
        assert_eq!(stored[0], ZSTD_DICT);
        assert_eq!(dictionary_id(&stored), Some(7));
        assert_eq!(dictionary_id(&encode(payload, None)), None);
        assert!(
            stored.len() < encode(payload, None).len(),
            "the dictionary pays"
        );
        let decoder = Arc::new(DecoderDictionary::copy(&bytes));
        assert_eq!(
            decode(&stored, |id| (id == 7).then(|| decoder.clone())).unwrap(),
            payload
        );
        let err = decode(&stored, no_dict).unwrap_err();
        assert!(err.contains("dictionary 7"), "{err}");
    }

    #[test]
    fn two_dictionaries_with_one_id_each_encode_with_their_own() {
        // Two databases both number their first dictionary 1; one thread writes to both.
        let (bytes_a, a) = trained("heists", 1);
        let (bytes_b, b) = trained("audits", 1);
        let payload = br#"[{"role":"system","content":"You plan audits, step 9000, carefully and quietly."},{"role":"system","content":"You plan audits, step 9001, carefully and quietly."}]"#;
        let first = encode(payload, Some(a));
        let second = encode(payload, Some(b));
        let decoder = |bytes: &[u8]| Arc::new(DecoderDictionary::copy(bytes));
        let (da, db) = (decoder(&bytes_a), decoder(&bytes_b));
        assert_eq!(decode(&first, |_| Some(da.clone())).unwrap(), payload);
        assert_eq!(decode(&second, |_| Some(db.clone())).unwrap(), payload);
    }
}
