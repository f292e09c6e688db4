//! The compression dictionary of a database, in memory: trained once from its own first
//! payloads, stored by the store (each in its `dictionaries` table), and used for every
//! payload after that. What is stored where is the store's; the sampling, training and the
//! encoders and decoders in use are here, shared by every store.
//!
//! Lifecycle: `prepare` offers payloads as samples until enough are gathered; then one
//! thread trains the dictionary and hands it to the writer, which stores it and commits
//! before installing it, so no stored payload ever names a dictionary that is not durable.
//! Readers look dictionaries up by id, loading them from the store on first use.
//!
//! An installed encoder dictionary lives as long as the process (it is leaked on purpose:
//! compressors on every thread borrow it, and a database gets one dictionary).

use crate::codec::{self, EncodeDict};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Sample bytes gathered before a dictionary is trained.
const SAMPLE_BYTES: usize = 2 * 1024 * 1024;
/// The most samples kept (training time grows with them).
const MAX_SAMPLES: usize = 4000;
/// Size of a trained dictionary.
const DICT_BYTES: usize = 64 * 1024;

/// Samples gathered so far, until training starts.
#[derive(Default)]
struct Sampling {
    samples: Vec<Vec<u8>>,
    bytes: usize,
    /// Set once the samples were handed over for training (or training is not wanted).
    done: bool,
}

/// The dictionaries of one database.
#[derive(Default)]
pub struct Dictionaries {
    current: RwLock<Option<&'static EncodeDict>>,
    decoders: RwLock<HashMap<u32, Arc<DecoderDictionary<'static>>>>,
    sampling: Mutex<Sampling>,
}

impl Dictionaries {
    /// The dictionary to encode with, once there is one.
    pub fn encoder(&self) -> Option<&'static EncodeDict> {
        *self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a payload as a training sample; returns the samples once there are enough
    /// (exactly once per database).
    pub fn sample(&self, payload: &[u8]) -> Option<Vec<Vec<u8>>> {
        if payload.len() < codec::COMPRESS_FROM || self.encoder().is_some() {
            return None;
        }
        let mut s = self.sampling.lock().unwrap_or_else(|e| e.into_inner());
        if s.done {
            return None;
        }
        s.bytes += payload.len();
        s.samples.push(payload.to_vec());
        if s.bytes >= SAMPLE_BYTES || s.samples.len() >= MAX_SAMPLES {
            s.done = true;
            return Some(std::mem::take(&mut s.samples));
        }
        None
    }

    /// Trains a dictionary from samples (taking a fraction of a second).
    pub fn train(samples: &[Vec<u8>]) -> Result<Vec<u8>, String> {
        zstd::dict::from_samples(samples, DICT_BYTES).map_err(|e| e.to_string())
    }

    /// Makes a stored dictionary the one to encode with.
    pub fn install(&self, id: u32, bytes: &[u8]) {
        let encoder: &'static EncodeDict = Box::leak(Box::new(EncodeDict {
            id,
            dict: EncoderDictionary::copy(bytes, codec::DICT_LEVEL),
        }));
        self.decoders
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::new(DecoderDictionary::copy(bytes)));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(encoder);
    }

    /// The decoder for dictionary `id`, if it is installed or was loaded before.
    pub fn cached_decoder(&self, id: u32) -> Option<Arc<DecoderDictionary<'static>>> {
        self.decoders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .map(Arc::clone)
    }

    /// The decoder for dictionary `id`, loading its bytes with `load` if it is not known yet.
    pub fn decoder(
        &self,
        id: u32,
        load: impl FnOnce(u32) -> Option<Vec<u8>>,
    ) -> Option<Arc<DecoderDictionary<'static>>> {
        if let Some(d) = self.cached_decoder(id) {
            return Some(d);
        }
        let d = Arc::new(DecoderDictionary::copy(&load(id)?));
        self.decoders
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::clone(&d));
        Some(d)
    }
}
