//! The hostile server's bodies that are generated as they are sent: a gibibyte, compression
//! bombs, JSON nested 100,000 deep, endless SSE, trickles and connections cut mid-body. None
//! is ever held whole in memory; each ends when the client hangs up (hyper drops the stream)
//! and counts what it yielded, so tests can check that it did stop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::stream::{self, Stream, StreamExt};

/// One gibibyte.
pub(crate) const GIB: u64 = 1 << 30;
/// How deep the nested-JSON bodies go.
pub(crate) const DEPTH: usize = 100_000;
/// The size of the chunks the big bodies are sent in.
const CHUNK: usize = 64 * 1024;

/// A brotli stream that decodes to 4 GiB of zeros (3,233 bytes; made with the reference
/// encoder at quality 5, window 24).
pub(crate) const BROTLI_BOMB: &[u8] = include_bytes!("bomb-4gib.br");

/// Counts the bytes a stream yields (into `counter`).
fn counted<S>(counter: Arc<AtomicU64>, s: S) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, std::io::Error>>,
{
    s.map(move |item| {
        if let Ok(b) = &item {
            counter.fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        item
    })
}

/// `head`, then `total` bytes of `fill`, then `tail`, in 64 KiB chunks.
pub(crate) fn padded(
    counter: Arc<AtomicU64>,
    head: Vec<u8>,
    fill: u8,
    total: u64,
    tail: Vec<u8>,
) -> Body {
    let block = Bytes::from(vec![fill; CHUNK]);
    let full = total / CHUNK as u64;
    let rest = (total % CHUNK as u64) as usize;
    let middle = stream::iter(0..full)
        .map(move |_| block.clone())
        .chain(stream::iter(
            (rest > 0).then(|| Bytes::from(vec![fill; rest])),
        ));
    let all = stream::once(async move { Bytes::from(head) })
        .chain(middle)
        .chain(stream::once(async move { Bytes::from(tail) }))
        .map(Ok::<_, std::io::Error>);
    Body::from_stream(counted(counter, all))
}

/// `head`, then `fill` for ever (until the client goes away).
pub(crate) fn endless(counter: Arc<AtomicU64>, head: Vec<u8>, fill: Bytes) -> Body {
    let all = stream::once(async move { Bytes::from(head) })
        .chain(stream::repeat(fill))
        .map(Ok::<_, std::io::Error>);
    Body::from_stream(counted(counter, all))
}

/// `unit` every `every`, for ever.
pub(crate) fn ticking(counter: Arc<AtomicU64>, unit: Bytes, every: Duration) -> Body {
    let all = stream::unfold(unit, move |unit| async move {
        tokio::time::sleep(every).await;
        Some((Ok::<_, std::io::Error>(unit.clone()), unit))
    });
    Body::from_stream(counted(counter, all))
}

/// `body` one byte per `every` (the first at once).
pub(crate) fn trickle(counter: Arc<AtomicU64>, body: Bytes, every: Duration) -> Body {
    let all = stream::unfold((body, 0usize), move |(body, i)| async move {
        if i >= body.len() {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(every).await;
        }
        let b = body.slice(i..i + 1);
        Some((Ok::<_, std::io::Error>(b), (body, i + 1)))
    });
    Body::from_stream(counted(counter, all))
}

/// The first half of `body`, then (after a moment, so it is flushed) an aborted connection:
/// no final chunk, no end of the response.
pub(crate) fn cut(body: Bytes) -> Body {
    let half = body.slice(..body.len() / 2);
    cut_after(vec![half], Duration::from_millis(50), None)
}

/// `parts`, then after `pause` an aborted connection; `before_abort` runs just before.
pub(crate) fn cut_after(
    parts: Vec<Bytes>,
    pause: Duration,
    before_abort: Option<Box<dyn FnOnce() + Send>>,
) -> Body {
    let abort = stream::once(async move {
        tokio::time::sleep(pause).await;
        if let Some(f) = before_abort {
            f();
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "hostile: connection cut mid-response",
        ))
    });
    Body::from_stream(stream::iter(parts.into_iter().map(Ok)).chain(abort))
}

/// `[` × DEPTH, `]` × DEPTH.
pub(crate) fn nested_array() -> Vec<u8> {
    let mut v = Vec::with_capacity(2 * DEPTH);
    v.resize(DEPTH, b'[');
    v.resize(2 * DEPTH, b']');
    v
}

// ------------------------------------------------------------------ a gzip bomb

/// The uncompressed size of the gzip bomb: 1 GiB of zeros.
const GZIP_BOMB_SIZE: u64 = GIB;
/// CRC-32 of 1 GiB of zeros.
const GZIP_BOMB_CRC: u32 = 0x5b64_c2b0;

/// Writes bits least significant first, as deflate (RFC 1951) packs them.
#[derive(Default)]
struct Bits {
    acc: u64,
    n: u32,
    out: Vec<u8>,
}

impl Bits {
    fn put(&mut self, bits: u64, count: u32) {
        self.acc |= bits << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let mut rev = 0u64;
        for i in 0..len {
            rev |= u64::from((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }

    fn flush(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// Fixed-Huffman code of length 258 (symbol 285) followed by distance 1 (code 0).
fn copy_258(b: &mut Bits) {
    b.code(0b1100_0101, 8);
    b.code(0, 5);
}

/// A real gzip stream of 1 GiB of zeros (about 6.5 MB: one literal, then copies of 258 bytes
/// at distance 1), generated as it is sent. Eight copies are 104 bits, 13 whole bytes, so
/// after the first eight the stream repeats a 13-byte pattern: chunks of it are made once.
pub(crate) fn gzip_bomb(counter: Arc<AtomicU64>) -> Body {
    let rest = GZIP_BOMB_SIZE - 1;
    let copies = rest / 258;
    let tail = rest % 258; // 3: one more copy of length 3 (symbol 257)
    debug_assert_eq!(tail, 3, "the bomb's size leaves a copy of length 3");
    let groups = copies / 8;
    let left = copies % 8;

    // gzip header (deflate, no flags, no mtime, OS unknown), a fixed-Huffman block, the
    // literal 0, and the first group of eight copies: the steady state.
    let mut b = Bits::default();
    b.out
        .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    b.put(1, 1); // BFINAL
    b.put(1, 2); // BTYPE = fixed Huffman
    b.code(0b0011_0000, 8); // the literal 0
    for _ in 0..8 {
        copy_258(&mut b);
    }
    let first = Bytes::from(b.take());
    let (acc, n) = (b.acc, b.n);
    for _ in 0..8 {
        copy_258(&mut b);
    }
    let pattern = b.take();
    debug_assert_eq!(
        (b.acc, b.n),
        (acc, n),
        "eight copies leave the same pending bits"
    );

    // The end: the last copies, the copy of 3, end of block, CRC-32 and size.
    for _ in 0..left {
        copy_258(&mut b);
    }
    b.code(0b000_0001, 7); // length 3 (symbol 257)
    b.code(0, 5); // distance 1
    b.code(0, 7); // end of block (256)
    b.flush();
    b.out.extend_from_slice(&GZIP_BOMB_CRC.to_le_bytes());
    b.out
        .extend_from_slice(&((GZIP_BOMB_SIZE & 0xffff_ffff) as u32).to_le_bytes());
    let end = Bytes::from(b.take());

    const PER_CHUNK: u64 = 5000;
    let block = Bytes::from(pattern.repeat(PER_CHUNK as usize));
    let middle = groups - 1;
    let full = middle / PER_CHUNK;
    let rest_groups = (middle % PER_CHUNK) as usize;
    let rest_block = Bytes::from(pattern.repeat(rest_groups));
    let all = stream::once(async move { first })
        .chain(stream::iter(0..full).map(move |_| block.clone()))
        .chain(stream::once(async move { rest_block }))
        .chain(stream::once(async move { end }))
        .map(Ok::<_, std::io::Error>);
    Body::from_stream(counted(counter, all))
}
