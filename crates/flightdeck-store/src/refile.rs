//! What every store's re-filing (`session.move`, `span.move`) needs of a message: the ids it
//! files itself under, and how far chains of moves are followed.

use flightdeck_model::Message;

/// The longest chain of moves followed (a cycle is ignored).
pub const MAX_HOPS: usize = 8;

/// The session and span a message about one span names.
pub fn span_ids_mut(m: &mut Message) -> Option<(&mut String, &mut String)> {
    match m {
        Message::SpanStart(s) => Some((&mut s.session_id, &mut s.span_id)),
        Message::SpanUpdate(s) => Some((&mut s.session_id, &mut s.span_id)),
        Message::SpanEnd(s) => Some((&mut s.session_id, &mut s.span_id)),
        Message::Span(s) => Some((&mut s.session_id, &mut s.span_id)),
        Message::Event(e) => e.span_id.as_mut().map(|span| (&mut e.session_id, span)),
        _ => None,
    }
}
