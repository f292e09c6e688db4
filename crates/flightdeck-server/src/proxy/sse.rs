//! Server-sent events, split out of a byte stream that arrives in arbitrary pieces, by the
//! rules of the HTML standard's event-stream format: a line ends with CRLF, LF or a lone CR
//! (so a CR at the end of a piece waits for the next one), and a blank line ends an event.
//! Each event is kept as the exact bytes that carried it, so whoever forwards it can pass it
//! on untouched, or rebuild only its data with [`with_data`].

use bytes::{Bytes, BytesMut};

/// Collects bytes and yields whole events (the text up to and including a blank line).
#[derive(Default)]
pub struct EventSplitter {
    pending: BytesMut,
    /// How far `pending` has been read for line ends.
    scanned: usize,
    /// Where the line being read starts.
    line_start: usize,
    /// The last piece ended with a CR: an LF that starts the next one belongs to it.
    after_cr: bool,
}

impl EventSplitter {
    /// Adds `chunk`; returns the events it completed, each with its terminating blank line.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Bytes> {
        if chunk.is_empty() {
            return Vec::new();
        }
        self.pending.extend_from_slice(chunk);
        if std::mem::take(&mut self.after_cr) && self.pending[self.scanned] == b'\n' {
            self.scanned += 1;
            self.line_start = self.scanned;
        }
        let mut events = Vec::new();
        while let Some((line_end, next)) = line_end(&self.pending, self.scanned) {
            let blank = line_end == self.line_start;
            self.after_cr = next == self.pending.len() && self.pending[line_end] == b'\r';
            self.scanned = next;
            self.line_start = next;
            if blank {
                events.push(self.pending.split_to(next).freeze());
                self.scanned = 0;
                self.line_start = 0;
            }
        }
        events
    }

    /// What is left after the stream ended (an event without its blank line).
    pub fn rest(&mut self) -> Option<Bytes> {
        self.scanned = 0;
        self.line_start = 0;
        self.after_cr = false;
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

/// The first line end in `buf` at or after `from`: where the line's text stops and where the
/// next line starts.
fn line_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let i = from + buf[from..].iter().position(|&b| b == b'\n' || b == b'\r')?;
    let crlf = buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n');
    Some((i, if crlf { i + 2 } else { i + 1 }))
}

/// The lines of one event: each line's text and the line end after it (empty for the last
/// line of an event that ended with the stream).
fn lines(event: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= event.len() {
            return None;
        }
        let (text_end, next) = line_end(event, at).unwrap_or((event.len(), event.len()));
        let line = (&event[at..text_end], &event[text_end..next]);
        at = next;
        Some(line)
    })
}

/// A line's field name and value (`data: x` is ("data", "x"); one space after the colon is
/// not part of the value).
fn field(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

/// The `data:` payload of an event (several data lines joined by newlines).
pub fn data(event: &[u8]) -> Option<String> {
    let mut out: Option<Vec<u8>> = None;
    for (line, _) in lines(event) {
        let (name, value) = field(line);
        if name == b"data" {
            match &mut out {
                Some(buf) => {
                    buf.push(b'\n');
                    buf.extend_from_slice(value);
                }
                None => out = Some(value.to_vec()),
            }
        }
    }
    out.and_then(|b| String::from_utf8(b).ok())
}

/// `event` with its data replaced by `data`: every other line stays as it was, and the new
/// data takes the place of the first data line (one line per line of `data`), written with
/// that line's spelling (`data:` or `data: `) and line end.
pub fn with_data(event: &[u8], data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(event.len());
    let mut written = false;
    for (line, end) in lines(event) {
        if field(line).0 != b"data" {
            out.extend_from_slice(line);
            out.extend_from_slice(end);
            continue;
        }
        if written {
            continue;
        }
        written = true;
        let prefix: &[u8] = if line.starts_with(b"data: ") {
            b"data: "
        } else {
            b"data:"
        };
        let newline: &[u8] = if end.is_empty() { b"\n" } else { end };
        for (n, part) in data.split('\n').enumerate() {
            if n > 0 {
                out.extend_from_slice(newline);
            }
            out.extend_from_slice(prefix);
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(end);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(pieces: &[&[u8]]) -> (Vec<Bytes>, Option<Bytes>) {
        let mut s = EventSplitter::default();
        let events = pieces.iter().flat_map(|p| s.push(p)).collect();
        (events, s.rest())
    }

    #[test]
    fn events_split_across_chunks() {
        let (events, rest) = split_all(&[
            b"data: {\"a\"",
            b":1}\n\ndata: [DONE]\n\nevent: x\r\ndata: y\r\n\r\ndata: tail",
        ]);
        assert_eq!(events.len(), 3);
        assert_eq!(data(&events[0]).unwrap(), "{\"a\":1}");
        assert_eq!(data(&events[1]).unwrap(), "[DONE]");
        assert_eq!(data(&events[2]).unwrap(), "y");
        assert_eq!(rest.unwrap(), &b"data: tail"[..]);
    }

    #[test]
    fn every_line_end_and_every_split_point_give_the_same_events() {
        for newline in ["\n", "\r\n", "\r"] {
            let stream = format!(
                "event: a{n}data: 1{n}data:2{n}{n}: comment{n}data: x{n}{n}",
                n = newline
            );
            let bytes = stream.as_bytes();
            for cut in 0..=bytes.len() {
                let (events, rest) = split_all(&[&bytes[..cut], &bytes[cut..]]);
                assert_eq!(events.len(), 2, "{newline:?} cut at {cut}");
                assert_eq!(data(&events[0]).unwrap(), "1\n2");
                assert_eq!(data(&events[1]).unwrap(), "x");
                let mut all = events.concat();
                all.extend_from_slice(&rest.unwrap_or_default());
                assert_eq!(all, bytes, "the events are the stream's bytes");
            }
            let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
            let (events, rest) = split_all(&one_by_one);
            assert_eq!(events.len(), 2, "{newline:?} one byte at a time");
            assert!(rest.is_none_or(|r| r.iter().all(|b| *b == b'\n')));
        }
    }

    #[test]
    fn data_is_rebuilt_in_the_event_s_own_spelling() {
        let event = b"event: chunk\r\ndata:{\"a\": 1,\r\ndata: \"b\": 2}\r\n\r\n";
        assert_eq!(data(event).unwrap(), "{\"a\": 1,\n\"b\": 2}");
        assert_eq!(
            &with_data(event, "{\"b\": 2}")[..],
            b"event: chunk\r\ndata:{\"b\": 2}\r\n\r\n"
        );
        assert_eq!(&with_data(b"data: x", "y\nz")[..], b"data: y\ndata: z");
    }
}
