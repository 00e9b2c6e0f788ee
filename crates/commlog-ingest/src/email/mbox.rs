//! Reading an mbox file one message at a time, never holding more than one message (and at
//! most a limit of it) in memory. Messages start at a `From ` line at the start of the file or
//! after a blank line; `>From ` lines are unescaped (mboxrd). LF and CRLF files both work.

use std::io::BufRead;

/// One message of an mbox, or why it was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum MboxItem {
    /// The message's raw bytes, with its 1-based position in the file.
    Message {
        /// Its position in the file, from 1.
        index: usize,
        /// The raw message (without the `From ` separator line).
        raw: Vec<u8>,
    },
    /// A message larger than the limit; its bytes were skipped, not kept.
    TooLarge {
        /// Its position in the file, from 1.
        index: usize,
        /// How many bytes it had.
        bytes: usize,
    },
}

/// Iterates over the messages of an mbox.
pub struct MboxReader<R> {
    input: R,
    max_message_bytes: usize,
    line: Vec<u8>,
    /// The current line's real length (`line` keeps at most the limit of it).
    line_len: usize,
    started: bool,
    done: bool,
    index: usize,
}

impl<R: BufRead> MboxReader<R> {
    /// Reads `input`, keeping at most `max_message_bytes` of any message.
    pub fn new(input: R, max_message_bytes: usize) -> Self {
        Self {
            input,
            max_message_bytes,
            line: Vec::new(),
            line_len: 0,
            started: false,
            done: false,
            index: 0,
        }
    }

    /// The next line into `self.line` (with its line ending); `false` at the end. Lines are
    /// read in pieces, so one huge line never lands in memory whole: the rest of a line past
    /// the message limit is skipped.
    fn next_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        self.line_len = 0;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(!self.line.is_empty());
            }
            let (part, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let take = part.len();
            self.line_len += take;
            if self.line.len() < self.max_message_bytes + 2 {
                let room = self.max_message_bytes + 2 - self.line.len();
                self.line.extend_from_slice(&part[..take.min(room)]);
            }
            self.input.consume(take);
            if done {
                return Ok(true);
            }
        }
    }
}

fn is_separator(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| *b == b'\r' || *b == b'\n')
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<MboxItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut raw: Vec<u8> = Vec::new();
        let mut bytes = 0usize;
        let mut previous_blank = true;
        loop {
            match self.next_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Ok(true) => {}
            }
            if is_separator(&self.line) && previous_blank {
                if self.started {
                    // The next message begins; this line is its separator, consumed here.
                    break;
                }
                self.started = true;
                continue;
            }
            if !self.started {
                // Text before the first separator: a single message without one.
                self.started = true;
            }
            previous_blank = is_blank(&self.line);
            let line: &[u8] = match self.line.iter().position(|b| *b != b'>') {
                Some(n) if n > 0 && self.line[n..].starts_with(b"From ") => &self.line[1..],
                _ => &self.line,
            };
            bytes += self.line_len.max(line.len());
            if bytes <= self.max_message_bytes {
                raw.extend_from_slice(line);
            } else if !raw.is_empty() {
                raw = Vec::new();
            }
        }
        if bytes == 0
            || (raw.iter().all(u8::is_ascii_whitespace) && bytes <= self.max_message_bytes)
        {
            return if self.done { None } else { self.next() };
        }
        self.index += 1;
        Some(Ok(if bytes > self.max_message_bytes {
            MboxItem::TooLarge {
                index: self.index,
                bytes,
            }
        } else {
            // The blank line that ends each message belongs to the format, not the message.
            while raw.ends_with(b"\n") && raw[..raw.len() - 1].ends_with(b"\n") {
                raw.pop();
            }
            MboxItem::Message {
                index: self.index,
                raw,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8], max: usize) -> Vec<MboxItem> {
        let reader = std::io::BufReader::with_capacity(7, input);
        MboxReader::new(reader, max)
            .map(|i| i.expect("read"))
            .collect()
    }

    #[test]
    fn messages_are_split_and_unescaped() {
        let mbox = b"From a@x Tue Nov 24 10:00:00 2026\nSubject: one\n\nHello\n>From the start\n\nFrom b@x Tue Nov 24 11:00:00 2026\r\nSubject: two\r\n\r\nBye\r\n";
        let items = read(mbox, 1000);
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            MboxItem::Message {
                index: 1,
                raw: b"Subject: one\n\nHello\nFrom the start\n".to_vec()
            }
        );
        assert_eq!(
            items[1],
            MboxItem::Message {
                index: 2,
                raw: b"Subject: two\r\n\r\nBye\r\n".to_vec()
            }
        );
    }

    #[test]
    fn a_from_line_inside_a_paragraph_is_text_and_big_messages_are_skipped() {
        let mbox = b"From a@x\nSubject: s\n\nline\nFrom here on it is text\n\nFrom b@x\nSubject: big\n\n01234567890123456789012345678901234567890123456789012345678901234567890123456789\n";
        let items = read(mbox, 60);
        assert_eq!(items.len(), 2);
        assert!(
            matches!(&items[0], MboxItem::Message { raw, .. } if raw.ends_with(b"From here on it is text\n"))
        );
        assert!(matches!(items[1], MboxItem::TooLarge { index: 2, .. }));
        let no_newlines = vec![b'x'; 10_000];
        assert!(matches!(
            read(&no_newlines, 100)[..],
            [MboxItem::TooLarge {
                index: 1,
                bytes: 10_000
            }]
        ));
    }
}
