#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the test server's real traffic.
#
#   fuzz/seed.sh            rewrite fuzz/corpus/<target>/seed-* (other files there are kept)
#
# Runs target/debug/mcp-test-server (built if missing; MCP_TEST_SERVER overrides the path) in
# several modes, talks to it with curl (and with target/debug/mcp-client, whose stored
# credential becomes a seed), and writes each reply, header or stream as a seed file, with the
# selector bytes each target reads first (see the targets' doc comments). The server's random
# port is rewritten to 8080 everywhere so seeds are stable and match the targets' fixed URLs
# (the redirect URI is http://127.0.0.1:33333/callback, the awaited state `st4te-Xy_z`).
# Needs curl, jq, openssl and python3. Secrets in the seeds are the test server's, minted for
# the run and worthless after it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus=$here/corpus
server_bin=${MCP_TEST_SERVER:-$root/target/debug/mcp-test-server}
cli_bin=${MCP_CLIENT_CLI:-$root/target/debug/mcp-client}
for tool in curl jq openssl python3; do
    command -v "$tool" >/dev/null || { echo "seed.sh: needs $tool" >&2; exit 1; }
done
if [ ! -x "$server_bin" ] || [ ! -x "$cli_bin" ]; then
    (cd "$root" && cargo build -q -p mcp-test-server -p mcp-client-cli)
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

STATE=st4te-Xy_z
REDIRECT=http://127.0.0.1:33333/callback
REDIRECT_ENC=http%3A%2F%2F127.0.0.1%3A33333%2Fcallback
VERIFIER=seed-verifier-0123456789-0123456789-0123456789-abcdef
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
JSON=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream'
      -H 'mcp-protocol-version: 2025-11-25')
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{},"elicitation":{},"roots":{"listChanged":true}},"clientInfo":{"name":"seed","version":"1"}}}'

# start NAME ARGS...: run the test server; sets URL, BASE and PORT.
start() {
    local name=$1
    shift
    "$server_bin" --no-record "$@" >"$work/$name.url" 2>"$work/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$work/$name.url" ] && break
        sleep 0.1
    done
    URL=$(head -n1 "$work/$name.url")
    [ -n "$URL" ] || { echo "seed.sh: the test server ($*) did not start" >&2; cat "$work/$name.err" >&2; exit 1; }
    BASE=${URL%/mcp}
    PORT=${BASE##*:}
}

# norm: the server's port as 8080 (plain and percent-encoded).
norm() { sed -e "s/127\.0\.0\.1:$PORT/127.0.0.1:8080/g" -e "s/127\.0\.0\.1%3A$PORT/127.0.0.1%3A8080/g"; }

# seed TARGET NAME PREFIX: stdin (normalised) as corpus/TARGET/seed-NAME, after the selector
# bytes PREFIX (a printf format, e.g. '\x00\x07'; '' for none).
seed() {
    mkdir -p "$corpus/$1"
    { printf "$3"; norm; } >"$corpus/$1/seed-$2"
}

# headers FILE NAME: the values of header NAME in a `curl -D` dump, one a line.
headers() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip"; }

# sse_data FILE: each event's data of an SSE dump, one a line.
sse_data() { tr -d '\r' <"$1" | sed -n 's/^data: \(..*\)$/\1/p'; }

# session: initialize on $URL; sets SID.
session() {
    curl -s -D "$work/init.h" -o "$work/init.body" "${JSON[@]}" --data "$INIT" "$1"
    SID=$(headers "$work/init.h" mcp-session-id)
    curl -s -o /dev/null "${JSON[@]}" -H "mcp-session-id: $SID" \
        --data '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
}

# rpc URL ID METHOD PARAMS [MAX_SECONDS]: one request in the session; the reply on stdout.
rpc() {
    curl -s -m "${5:-5}" "${JSON[@]}" -H "mcp-session-id: $SID" \
        --data "{\"jsonrpc\":\"2.0\",\"id\":$2,\"method\":\"$3\",\"params\":$4}" "$1" || true
}

rm -f "$corpus"/*/seed-*

# --- OAuth (RFC 9728 / 8414 / 7591, authorization code with PKCE) ---------------------------
start oauth --oauth
curl -s -D "$work/401.h" -o "$work/401.body" "${JSON[@]}" --data "$INIT" "$URL"
headers "$work/401.h" www-authenticate | seed www_authenticate bearer-401 ''
seed jsonrpc error-401 '' <"$work/401.body"
curl -s "$BASE/.well-known/oauth-protected-resource/mcp" | seed metadata prm '\x00'
curl -s "$BASE/.well-known/oauth-authorization-server" | seed metadata as '\x01'

reg_body() {
    jq -cn --arg m "$1" --arg r "$REDIRECT" '{client_name:"seed",redirect_uris:[$r],
        grant_types:["authorization_code","refresh_token"],response_types:["code"],
        token_endpoint_auth_method:$m,application_type:"native"}'
}
curl -s -X POST -H 'content-type: application/json' --data "$(reg_body none)" \
    "$BASE/register" >"$work/reg.json"
seed registration_response public '\x00' <"$work/reg.json"
curl -s -X POST -H 'content-type: application/json' --data "$(reg_body client_secret_basic)" \
    "$BASE/register" | seed registration_response confidential '\x10'
curl -s -X POST -H 'content-type: application/json' \
    --data '{"redirect_uris":["https://evil.example/cb#frag"],"token_endpoint_auth_method":"nope"}' \
    "$BASE/register" | seed registration_response refused '\x02'
CID=$(jq -r .client_id "$work/reg.json")

resource_enc=$(jq -rn --arg u "$URL" '$u|@uri')
curl -s -D "$work/authz.h" -o /dev/null "$BASE/authorize?response_type=code&client_id=$CID&redirect_uri=$REDIRECT_ENC&code_challenge=$CHALLENGE&code_challenge_method=S256&state=$STATE&scope=mcp%3Aread&resource=$resource_enc"
LOCATION=$(headers "$work/authz.h" location)
printf %s "$LOCATION" | seed redirect_url code '\x01'
printf %s "${LOCATION#*\?}" | sed "s/state=$STATE&\{0,1\}//" | seed redirect_url query '\x03'
curl -s -D "$work/deny.h" -o /dev/null "$BASE/authorize?response_type=token&client_id=$CID&redirect_uri=$REDIRECT_ENC&state=$STATE"
headers "$work/deny.h" location | tr -d '\n' | seed redirect_url error '\x01'

# The browser's request to the loopback listener, as curl sends it (caught by a one-shot
# listener standing in for the client's).
python3 - "$work/loopback" "$work/loopback.port" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
s.settimeout(20)
c, _ = s.accept()
data = b""
while b"\r\n\r\n" not in data:
    chunk = c.recv(4096)
    if not chunk:
        break
    data += chunk
open(sys.argv[1], "wb").write(data)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
c.close()
EOF
catcher=$!
pids+=($catcher)
for _ in $(seq 100); do [ -s "$work/loopback.port" ] && break; sleep 0.1; done
curl -s -o /dev/null --connect-to "127.0.0.1:33333:127.0.0.1:$(cat "$work/loopback.port")" \
    -H 'Accept: text/html,application/xhtml+xml' "$LOCATION" || true
wait "$catcher" || true
seed loopback_request browser '\x00' <"$work/loopback"
printf %s "${LOCATION#http://127.0.0.1:33333}" | sed "s/[?&]state=$STATE//" |
    seed loopback_request target '\x01'
printf 'GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:33333\r\n\r\n' | seed loopback_request favicon '\x00'

CODE=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$LOCATION")
token() { curl -s -X POST "$@" "$BASE/token"; }
token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
    --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "code_verifier=$VERIFIER" \
    --data-urlencode "client_id=$CID" --data-urlencode "resource=$URL" >"$work/token.json"
seed token_response code '\x00' <"$work/token.json"
token --data-urlencode grant_type=refresh_token --data-urlencode "client_id=$CID" \
    --data-urlencode "refresh_token=$(jq -r .refresh_token "$work/token.json")" \
    >"$work/refreshed.json"
seed token_response refresh '\x00' <"$work/refreshed.json"
token --data-urlencode grant_type=password --data-urlencode "client_id=$CID" |
    seed token_response unsupported '\x02'
token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
    --data-urlencode "code_verifier=$VERIFIER" --data-urlencode "client_id=$CID" |
    seed token_response invalid-grant '\x02'
ACCESS=$(jq -r .access_token "$work/token.json")
curl -s -D "$work/403.h" -o /dev/null "${JSON[@]}" -H "authorization: Bearer not-$ACCESS" \
    --data "$INIT" "$URL"
headers "$work/403.h" www-authenticate | seed www_authenticate invalid-token ''

# The real client signs in (its browser follows the redirect to its listener) and stores
# what it learnt: the stored credential format, as written.
mkdir -p "$work/store"
printf '#!/bin/sh\ncurl -s -L -o /dev/null "$1" &\n' >"$work/browser.sh"
chmod +x "$work/browser.sh"
BROWSER=$work/browser.sh MCP_LOG=error "$cli_bin" --store "file:$work/store" --timeout 30 \
    tools "$URL" >/dev/null 2>"$work/cli.err" || { cat "$work/cli.err" >&2; exit 1; }
seed stored_credential bearer '' <"$(ls "$work"/store/*.json | head -n1)"

# --- DPoP with server nonces, and the device grant -------------------------------------------
start dpop --oauth-dpop-nonce
curl -s -D "$work/dpop.h" -o /dev/null "${JSON[@]}" --data "$INIT" "$URL"
headers "$work/dpop.h" www-authenticate | seed www_authenticate dpop ''
curl -s "$BASE/.well-known/oauth-protected-resource/mcp" | seed metadata prm-dpop '\x00'
curl -s "$BASE/.well-known/oauth-authorization-server" | seed metadata as-dpop '\x01'
curl -s -X POST -H 'content-type: application/json' --data "$(reg_body none)" \
    "$BASE/register" >"$work/reg.json"
token --data-urlencode grant_type=authorization_code --data-urlencode code=stale \
    --data-urlencode "code_verifier=$VERIFIER" --data-urlencode "redirect_uri=$REDIRECT" \
    --data-urlencode "client_id=$(jq -r .client_id "$work/reg.json")" \
    | seed token_response dpop-refused '\x02'
mkdir -p "$work/store-dpop"
BROWSER=$work/browser.sh MCP_LOG=error "$cli_bin" --store "file:$work/store-dpop" --timeout 30 \
    tools "$URL" >/dev/null 2>"$work/cli.err" || { cat "$work/cli.err" >&2; exit 1; }
seed stored_credential dpop '' <"$(ls "$work"/store-dpop/*.json | head -n1)"

start device --oauth-device
curl -s "$BASE/.well-known/oauth-authorization-server" | seed metadata as-device '\x01'
curl -s -X POST -H 'content-type: application/json' --data "$(reg_body none)" \
    "$BASE/register" >"$work/reg.json"
CID=$(jq -r .client_id "$work/reg.json")
curl -s -X POST --data-urlencode "client_id=$CID" --data-urlencode scope=mcp:read \
    "$BASE/device_authorization" >"$work/device.json"
seed token_response device '\x80' <"$work/device.json"
token --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:device_code \
    --data-urlencode "device_code=$(jq -r .device_code "$work/device.json")" \
    --data-urlencode "client_id=$CID" | seed token_response device-pending '\x02'

# --- Streamable HTTP with SSE replies: priming events, ids, retry; tasks ---------------------
start sse --sse --priming --retry-ms 1500 --tasks
session "$URL"
seed sse initialize '\x00\x07' <"$work/init.body"
sse_data "$work/init.body" | tail -n1 | seed jsonrpc initialize ''
rpc "$URL" 2 tools/list '{}' | seed sse tools-list '\x01\x03'
rpc "$URL" 3 tools/call '{"name":"slow","arguments":{"ms":120},"_meta":{"progressToken":"p1"}}' \
    >"$work/slow.sse"
seed sse progress '\x00\x05' <"$work/slow.sse"
sse_data "$work/slow.sse" | sed -n '/progress/{p;q}' | seed jsonrpc progress ''
rpc "$URL" 4 tools/call '{"name":"notify","arguments":{"text":"hello \u00e9 \ud83d\ude00"},"_meta":{"progressToken":7}}' >"$work/notify.sse"
seed sse notify '\x03\x11' <"$work/notify.sse"
sse_data "$work/notify.sse" | sed -n '/notifications\/message/{p;q}' | seed jsonrpc log ''
rpc "$URL" 5 tools/call '{"name":"ask","arguments":{"message":"Proceed?"}}' 2 >"$work/ask.sse"
seed sse elicitation '\x00\x2a' <"$work/ask.sse"
sse_data "$work/ask.sse" | sed -n '/elicitation\/create/{p;q}' | seed jsonrpc elicitation ''
rpc "$URL" 6 tools/call '{"name":"sample","arguments":{"prompt":"Say hi"}}' 2 |
    sse_data /dev/stdin | sed -n '/sampling\/createMessage/{p;q}' | seed jsonrpc sampling ''
rpc "$URL" 7 tools/call '{"name":"list_roots","arguments":{}}' 2 |
    sse_data /dev/stdin | sed -n '/roots\/list/{p;q}' | seed jsonrpc roots ''
rpc "$URL" 8 tools/call '{"name":"fail","arguments":{"message":"no \"luck\""}}' |
    sse_data /dev/stdin | tail -n1 | seed jsonrpc tool-error ''
rpc "$URL" 9 no/such/method '{}' | sse_data /dev/stdin | tail -n1 | seed jsonrpc method-not-found ''
rpc "$URL" 10 tools/call '{"name":"report","arguments":{"ms":50},"task":{"ttl":60000}}' |
    sse_data /dev/stdin | tail -n1 >"$work/task.json"
seed jsonrpc create-task '' <"$work/task.json"
TASK=$(jq -r .result.task.taskId "$work/task.json")
sleep 0.3
rpc "$URL" 11 tasks/get "{\"taskId\":\"$TASK\"}" | sse_data /dev/stdin | tail -n1 | seed jsonrpc task-status ''
rpc "$URL" 12 tasks/result "{\"taskId\":\"$TASK\"}" | sse_data /dev/stdin | tail -n1 | seed jsonrpc task-result ''

# --- The legacy HTTP+SSE transport: the `endpoint` event, then replies on the stream ---------
start legacy
curl -s -N -m 3 "$BASE/sse" >"$work/legacy.sse" &
reader=$!
pids+=($reader)
for _ in $(seq 50); do grep -q '^data: ' "$work/legacy.sse" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sse_data "$work/legacy.sse" | head -n1)
curl -s -o /dev/null "${JSON[@]}" --data "$INIT" "$BASE$endpoint"
curl -s -o /dev/null "${JSON[@]}" --data '{"jsonrpc":"2.0","id":2,"method":"ping"}' "$BASE$endpoint"
wait "$reader" || true
seed sse legacy '\x00\x01' <"$work/legacy.sse"

# --- Faults the test server injects ----------------------------------------------------------
for mode in malformed-sse unknown-id not-json; do
    session "$BASE/faulty/$mode"
    rpc "$BASE/faulty/$mode" 2 tools/list '{}' 3 | head -c 4096 >"$work/fault"
    case $mode in
        malformed-sse) seed sse fault-malformed '\x00\x09' <"$work/fault" ;;
        *) seed jsonrpc "fault-$mode" '' <"$work/fault" ;;
    esac
done

# --- Not traffic: starting points for the structure-aware modes ------------------------------
# www_authenticate with byte 0 >= 0x80 generates challenges from the bytes that follow.
printf '\x80\x02\x00\x02\x01\x00\x00\x07"a, b\\c\x01\x03\x01\x01\x05tok3n' \
    >"$corpus/www_authenticate/seed-generated"

# --- Every seed has content; a summary -------------------------------------------------------
empty=$(find "$corpus" -name 'seed-*' -size 0)
[ -z "$empty" ] || { echo "seed.sh: empty seeds (the server's traffic changed?): $empty" >&2; exit 1; }
for d in "$corpus"/*/; do
    n=$(ls "$d" | grep -c '^seed-' || true)
    printf '%-24s %3d seeds %6d bytes\n' "$(basename "$d")" "$n" "$(cat "$d"/seed-* | wc -c)"
done
