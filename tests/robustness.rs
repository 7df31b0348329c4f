//! Hostile input never panics: the parsers that read what a server sends (SSE, JSON-RPC,
//! `WWW-Authenticate`, x-mcp-header schemas, metadata documents) are fed random and mutated
//! inputs from a fixed-seed generator, so a failure reproduces exactly.

use mcp_client::oauth::challenge::{parse, ChallengeInfo};
use mcp_client::transport::sse::SseParser;

/// xorshift64*: small, deterministic, good enough to shake parsers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Bytes biased towards the characters the parsers care about.
    fn bytes(&mut self, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                if self.below(4) == 0 {
                    (self.next() & 0xff) as u8
                } else {
                    alphabet[self.below(alphabet.len())]
                }
            })
            .collect()
    }
    /// `seed` with a few bytes replaced, inserted or removed.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(6) {
            let at = if v.is_empty() { 0 } else { self.below(v.len()) };
            match self.below(3) {
                0 if !v.is_empty() => v[at] = (self.next() & 0xff) as u8,
                1 => v.insert(at, (self.next() & 0xff) as u8),
                _ if !v.is_empty() => {
                    v.remove(at);
                }
                _ => {}
            }
        }
        v
    }
}

#[test]
fn sse_parser_survives_random_streams_split_anywhere() {
    let mut rng = Rng(0x5EED_0001);
    let alphabet = b"data:id:event:retry: \r\n\r\n{}\":,0123456789abc\xff";
    for _ in 0..3000 {
        let len = rng.below(400);
        let stream = rng.bytes(len, alphabet);
        let mut p = SseParser::new(256);
        let mut out = Vec::new();
        let mut rest: &[u8] = &stream;
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len());
            if p.push(&rest[..n], &mut out).is_err() {
                break; // a typed error (too large, bad UTF-8) is fine; a panic is not
            }
            rest = &rest[n..];
        }
        for ev in &out {
            assert!(ev.data.len() <= 256 + 8, "an event grew past the limit");
        }
    }
}

#[test]
fn json_rpc_parser_survives_mutated_messages() {
    let mut rng = Rng(0x5EED_0002);
    let seeds: [&[u8]; 4] = [
        br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"x"}]}}"#,
        br#"{"jsonrpc":"2.0","id":"a","method":"elicitation/create","params":{}}"#,
        br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#,
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad","data":[1]}}"#,
    ];
    for _ in 0..5000 {
        let seed = seeds[rng.below(seeds.len())];
        let msg = rng.mutate(seed);
        let _ = mcp_client::jsonrpc::parse(&msg);
    }
}

#[test]
fn www_authenticate_parser_survives_mutated_headers() {
    let mut rng = Rng(0x5EED_0003);
    let seeds: [&[u8]; 3] = [
        br#"Bearer resource_metadata="https://a/.well-known/oauth-protected-resource", scope="a b""#,
        br#"DPoP error="use_dpop_nonce", algs="ES256", Bearer error="insufficient_scope""#,
        br#"Negotiate abc/def==, Basic realm="x\"y", Bearer"#,
    ];
    for _ in 0..5000 {
        let seed = seeds[rng.below(seeds.len())];
        let header = String::from_utf8_lossy(&rng.mutate(seed)).into_owned();
        let _ = parse(&header);
        let _ = ChallengeInfo::from_headers([header.as_str(), "Bearer"]);
    }
}

#[test]
fn metadata_documents_of_any_shape_are_errors_not_panics() {
    use mcp_client::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
    let mut rng = Rng(0x5EED_0004);
    let seeds: [&[u8]; 2] = [
        br#"{"resource":"https://a/mcp","authorization_servers":["https://as"],"scopes_supported":["x"]}"#,
        br#"{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","code_challenge_methods_supported":["S256"]}"#,
    ];
    for _ in 0..5000 {
        let seed = seeds[rng.below(seeds.len())];
        let doc = rng.mutate(seed);
        let _ = serde_json::from_slice::<ResourceMetadata>(&doc);
        let _ = serde_json::from_slice::<AuthServerMetadata>(&doc);
    }
}

#[test]
fn header_values_always_encode_to_valid_headers() {
    let mut rng = Rng(0x5EED_0005);
    for _ in 0..5000 {
        let len = rng.below(40);
        let raw = rng.bytes(len, b"ab \t=?base64\r\n\x7f");
        let s = String::from_utf8_lossy(&raw);
        let v = mcp_client::encode_header_value(&s).expect("always encodable");
        assert!(v.to_str().is_ok(), "not visible ASCII: {v:?}");
    }
}
