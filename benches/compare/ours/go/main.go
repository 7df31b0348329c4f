// This project's Go package (mcpclient, cgo over the release libmcp_client.a) under the
// benches/compare driver contract (benches/compare/README.md): one Client with a static bearer
// token, K goroutines sharing it, each calling CallTool until N calls have been started.
//
//	driver-go --url URL --token TOKEN --calls N --inflight K --warmup W
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mcpclient "github.com/mcp-client/mcp-client/bindings/go"
)

var args = map[string]any{"text": "hello"}

func rusage() (cpu time.Duration, maxrss int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss
}

func main() {
	url := flag.String("url", "", "MCP endpoint")
	token := flag.String("token", "", "bearer token")
	calls := flag.Int("calls", 1000, "timed calls")
	inflight := flag.Int("inflight", 1, "calls in flight")
	warmup := flag.Int("warmup", 100, "warm-up calls")
	flag.Parse()
	if *url == "" || *inflight < 1 || *calls < 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	c, err := mcpclient.New(ctx, *url, mcpclient.WithBearerToken(*token))
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect: %v\n", err)
		os.Exit(1)
	}
	var reported atomic.Bool
	one := func() bool {
		r, err := c.CallTool(ctx, "echo", args)
		if err != nil {
			if !reported.Swap(true) {
				fmt.Fprintf(os.Stderr, "call failed: %v\n", err)
			}
			return false
		}
		if len(r.Content) == 0 || r.Content[0].Type != "text" || r.Content[0].Text != "hello" || r.IsError {
			if !reported.Swap(true) {
				fmt.Fprintf(os.Stderr, "unexpected result: %s\n", r.Raw)
			}
			return false
		}
		return true
	}
	for range *warmup {
		one()
	}
	reported.Store(false)

	n := *calls
	lat := make([]int64, n)
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	cpu0, _ := rusage()
	t0 := time.Now()
	for range *inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t := time.Now()
				good := one()
				lat[i] = time.Since(t).Microseconds()
				if good {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	cpu1, _ := rusage()
	if err := c.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "close: %v\n", err)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(q float64) int64 {
		if n == 0 {
			return 0
		}
		r := int(math.Ceil(q * float64(n)))
		r = max(1, min(r, n))
		return lat[r-1]
	}
	_, rss := rusage()
	out, _ := json.Marshal(map[string]any{
		"client": "mcp-client (Go)", "version": mcpclient.LibraryVersion(), "calls": n,
		"ok": ok.Load(), "wall_us": wall.Microseconds(), "p50_us": pct(0.50), "p99_us": pct(0.99),
		"cpu_us": (cpu1 - cpu0).Microseconds(), "peak_rss_kb": rss,
	})
	fmt.Printf("RESULT %s\n", out)
	if ok.Load() != int64(n) {
		os.Exit(1)
	}
}
