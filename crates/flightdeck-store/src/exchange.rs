//! An exchange of a proxied LLM call made ready for a store's writer on the caller's task:
//! bodies compressed (`codec`, without the payload dictionary, which is trained on span
//! payloads), chunk boundaries as JSON text.

use crate::codec;
use flightdeck_model::replay::Exchange;

/// An exchange ready for the writer.
pub struct PreparedExchange {
    /// The exchange, its bodies taken out.
    pub exchange: Exchange,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    pub chunks: String,
}

/// Compresses the bodies and serialises the chunks.
pub fn prepare(mut exchange: Exchange) -> PreparedExchange {
    let request = codec::encode(&std::mem::take(&mut exchange.request), None);
    let response = codec::encode(&std::mem::take(&mut exchange.response), None);
    let chunks = serde_json::to_string(&exchange.chunks).unwrap_or_else(|_| "[]".into());
    PreparedExchange {
        exchange,
        request,
        response,
        chunks,
    }
}
