//! Complete lines out of a byte stream that arrives in pieces: a line counts once its newline
//! has arrived, so a writer caught mid-line is never read half. Lines are numbered from 1, as
//! editors count them, and their end offset is kept so a reader can resume after the last
//! complete line.

/// Splits appended bytes into complete lines.
#[derive(Debug, Default)]
pub struct Lines {
    /// Bytes after the last newline, waiting for the rest of their line.
    partial: Vec<u8>,
    /// The number of the next line.
    next: u64,
    /// The offset in the stream just past the last complete line.
    consumed: u64,
}

/// One complete line.
pub struct Line<'a> {
    /// Its number, from 1.
    pub number: u64,
    /// Its text without the newline (and without a `\r` before it).
    pub bytes: &'a [u8],
    /// The stream offset just past its newline: where to resume after it.
    pub end: u64,
}

impl Lines {
    /// A splitter starting at `offset` of a stream, with `line` the number of the line there.
    pub fn at(offset: u64, line: u64) -> Lines {
        Lines {
            partial: Vec::new(),
            next: line,
            consumed: offset,
        }
    }

    /// Takes `chunk` (the bytes after what came before) and calls `each` on every line it
    /// completes.
    pub fn push(&mut self, chunk: &[u8], mut each: impl FnMut(Line<'_>)) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            let taken = self.partial.len() as u64 + nl as u64 + 1;
            let line = if self.partial.is_empty() {
                head
            } else {
                self.partial.extend_from_slice(head);
                &self.partial[..]
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.consumed += taken;
            each(Line {
                number: self.next,
                bytes: line,
                end: self.consumed,
            });
            self.next += 1;
            self.partial.clear();
            rest = &tail[1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// The bytes of an unfinished last line, for a reader that reached the end of a file
    /// that will not grow (an import): they count as a last line.
    pub fn finish(&mut self, each: impl FnMut(Line<'_>)) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            let mut copy = rest;
            copy.push(b'\n');
            self.push(&copy, each);
        }
    }

    /// The offset just past the last complete line.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The number of the next line.
    pub fn next_line(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(l: &mut Lines, chunk: &[u8]) -> Vec<(u64, String, u64)> {
        let mut out = Vec::new();
        l.push(chunk, |line| {
            out.push((
                line.number,
                String::from_utf8_lossy(line.bytes).into_owned(),
                line.end,
            ))
        });
        out
    }

    #[test]
    fn a_line_counts_once_its_newline_arrives() {
        let mut l = Lines::at(0, 1);
        assert_eq!(collect(&mut l, b"ab"), vec![]);
        assert_eq!(
            collect(&mut l, b"c\r\nde\n\nf"),
            vec![(1, "abc".into(), 5), (2, "de".into(), 8), (3, "".into(), 9)]
        );
        assert_eq!(l.consumed(), 9);
        let mut last = Vec::new();
        l.finish(|line| last.push((line.number, line.bytes.to_vec())));
        assert_eq!(last, vec![(4, b"f".to_vec())]);
    }

    #[test]
    fn resumes_counting_from_where_it_starts() {
        let mut l = Lines::at(100, 7);
        assert_eq!(collect(&mut l, b"x\n"), vec![(7, "x".into(), 102)]);
    }
}
