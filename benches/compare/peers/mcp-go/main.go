// benches/compare peer driver: mcp-go (github.com/mark3labs/mcp-go) with its streamable HTTP
// client (client.NewStreamableHttpClient) and the bearer token through its documented header
// option transport.WithHTTPHeaders; everything else (its HTTP client: Go's default stack) at its
// defaults. K calls in flight = K goroutines sharing the one *client.Client.
// Contract: benches/compare/README.md. Only the RESULT line goes to stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const modPath = "github.com/mark3labs/mcp-go"

func libVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == modPath {
				return d.Version
			}
		}
	}
	return "unknown"
}

func rusage() (cpuUs int64, maxrssKb int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000, ru.Maxrss
}

func pct(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, i))]
}

var firstErr atomic.Pointer[error]

func echoCall(ctx context.Context, cs *client.Client) bool {
	req := mcp.CallToolRequest{}
	req.Params.Name = "echo"
	req.Params.Arguments = map[string]any{"text": "hello"}
	r, err := cs.CallTool(ctx, req)
	if err == nil {
		if !r.IsError && len(r.Content) > 0 {
			if t, ok := mcp.AsTextContent(r.Content[0]); ok && t.Type == "text" && t.Text == "hello" {
				return true
			}
		}
		b, _ := json.Marshal(r)
		err = fmt.Errorf("unexpected result: %s", b)
	}
	firstErr.CompareAndSwap(nil, &err)
	return false
}

// runCalls makes n calls with k goroutines sharing cs; returns the successes and latencies (µs).
func runCalls(ctx context.Context, cs *client.Client, n, k int) (int, []float64) {
	var next, ok atomic.Int64
	var mu sync.Mutex
	lat := make([]float64, 0, n)
	var wg sync.WaitGroup
	for w := 0; w < min(k, max(n, 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]float64, 0, n/k+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				good := echoCall(ctx, cs)
				local = append(local, float64(time.Since(t0).Nanoseconds())/1000)
				if good {
					ok.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return int(ok.Load()), lat
}

func main() {
	url := flag.String("url", "", "MCP endpoint")
	token := flag.String("token", "", "bearer token")
	calls := flag.Int("calls", 1000, "timed calls")
	inflight := flag.Int("inflight", 1, "calls in flight")
	warmup := flag.Int("warmup", 0, "warm-up calls")
	flag.Parse()
	k := max(1, *inflight)
	ctx := context.Background()

	ok, wallUs, cpuUs := 0, int64(0), int64(0)
	var lat []float64
	func() {
		cs, err := client.NewStreamableHttpClient(*url,
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + *token}))
		if err != nil {
			fmt.Fprintln(os.Stderr, "new client:", err)
			return
		}
		defer func() {
			if err := cs.Close(); err != nil { // DELETEs the session
				fmt.Fprintln(os.Stderr, "close:", err)
			}
		}()
		if err := cs.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			return
		}
		initReq := mcp.InitializeRequest{}
		initReq.Params.ClientInfo = mcp.Implementation{Name: "compare-mcp-go", Version: "0.0.0"}
		if _, err := cs.Initialize(ctx, initReq); err != nil {
			fmt.Fprintln(os.Stderr, "initialize:", err)
			return
		}
		if *warmup > 0 {
			if wok, _ := runCalls(ctx, cs, *warmup, k); wok != *warmup {
				fmt.Fprintf(os.Stderr, "warm-up: %d/%d ok\n", wok, *warmup)
			}
			firstErr.Store(nil)
		}
		c0, _ := rusage()
		t0 := time.Now()
		ok, lat = runCalls(ctx, cs, *calls, k)
		wallUs = time.Since(t0).Microseconds()
		c1, _ := rusage()
		cpuUs = c1 - c0
		if e := firstErr.Load(); e != nil {
			fmt.Fprintln(os.Stderr, "first error:", *e)
		}
	}()
	sort.Float64s(lat)
	_, rss := rusage()
	// A struct, not a map, so the keys come out in the contract's order.
	out, _ := json.Marshal(struct {
		Client    string  `json:"client"`
		Version   string  `json:"version"`
		Calls     int     `json:"calls"`
		OK        int     `json:"ok"`
		WallUs    int64   `json:"wall_us"`
		P50Us     float64 `json:"p50_us"`
		P99Us     float64 `json:"p99_us"`
		CPUUs     int64   `json:"cpu_us"`
		PeakRSSKb int64   `json:"peak_rss_kb"`
	}{"mcp-go", libVersion(), *calls, ok, wallUs, math.Round(pct(lat, 0.5)*10) / 10,
		math.Round(pct(lat, 0.99)*10) / 10, cpuUs, rss})
	fmt.Println("RESULT " + string(out))
	if ok != *calls {
		os.Exit(1)
	}
}
