// This project's Go package (mcpclient, cgo over the release libmcp_client.a) under the
// benches/compare driver contract (benches/compare/README.md): one Client with a static bearer
// token, K goroutines sharing it, each calling CallTool until N calls have been started.
//
//	driver-go --url URL --token TOKEN --calls N --inflight K --warmup W
//	driver-go --auth cold|warm --url URL --store DIR
//	driver-go --auth storm --url URL --store DIR --calls N --expire-url E
//	driver-go --hold N --url URL --token TOKEN
//
// --auth: WithOAuth(OAuth{Headless: true, Store: StoreFile, StoreDir: DIR}); storm: N
// goroutines, released together, one call each. --hold: N clients, each connected and called
// once, VmRSS read while all are open.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
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

var reported atomic.Bool

// one makes one echo call on c and checks its result.
func one(ctx context.Context, c *mcpclient.Client) bool {
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

// result prints the RESULT line of scenarios 1 to 4 and exits (1 unless every call was ok).
func result(n int, ok int64, wall, cpu time.Duration, lat []int64) {
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(q float64) int64 {
		if n == 0 || len(lat) == 0 {
			return 0
		}
		r := int(math.Ceil(q * float64(n)))
		r = max(1, min(r, len(lat)))
		return lat[r-1]
	}
	_, rss := rusage()
	out, _ := json.Marshal(map[string]any{
		"client": "mcp-client (Go)", "version": mcpclient.LibraryVersion(), "calls": n,
		"ok": ok, "wall_us": wall.Microseconds(), "p50_us": pct(0.50), "p99_us": pct(0.99),
		"cpu_us": cpu.Microseconds(), "peak_rss_kb": rss,
	})
	fmt.Printf("RESULT %s\n", out)
	if ok != int64(n) {
		os.Exit(1)
	}
	os.Exit(0)
}

func main() {
	url := flag.String("url", "", "MCP endpoint")
	token := flag.String("token", "", "bearer token")
	calls := flag.Int("calls", 1000, "timed calls")
	inflight := flag.Int("inflight", 1, "calls in flight")
	warmup := flag.Int("warmup", 100, "warm-up calls")
	auth := flag.String("auth", "", "cold, warm or storm (OAuth scenarios)")
	store := flag.String("store", "", "credential store directory (--auth)")
	expireURL := flag.String("expire-url", "", "URL to POST to expire the tokens (--auth storm)")
	hold := flag.Int("hold", 0, "clients to hold open (memory scenario)")
	flag.Parse()
	if *url == "" || *inflight < 1 || *calls < 0 {
		flag.Usage()
		os.Exit(2)
	}
	switch {
	case *auth != "":
		runAuth(*auth, *url, *store, *calls, *expireURL)
	case *hold > 0:
		runHold(*hold, *url, *token)
	}
	ctx := context.Background()
	c, err := mcpclient.New(ctx, *url, mcpclient.WithBearerToken(*token))
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect: %v\n", err)
		os.Exit(1)
	}
	for range *warmup {
		one(ctx, c)
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
				good := one(ctx, c)
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
	result(n, ok.Load(), wall, cpu1-cpu0, lat)
}

func oauthClient(ctx context.Context, url, dir string) (*mcpclient.Client, error) {
	return mcpclient.New(ctx, url, mcpclient.WithOAuth(mcpclient.OAuth{
		Headless: true, Store: mcpclient.StoreFile, StoreDir: dir,
	}))
}

// runAuth runs scenario 3 (cold, warm) or 4 (storm).
func runAuth(mode, url, dir string, n int, expireURL string) {
	if dir == "" || (mode != "cold" && mode != "warm" && mode != "storm") ||
		(mode == "storm" && (expireURL == "" || n < 1)) {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	if mode != "storm" {
		// Timed: the client (options included), connecting (sign-in or the stored
		// credential) and the first call.
		cpu0, _ := rusage()
		t0 := time.Now()
		c, err := oauthClient(ctx, url, dir)
		good := int64(0)
		if err != nil {
			fmt.Fprintf(os.Stderr, "connect: %v\n", err)
		} else if one(ctx, c) {
			good = 1
		}
		wall := time.Since(t0)
		cpu1, _ := rusage()
		if c != nil {
			if err := c.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "close: %v\n", err)
			}
		}
		result(1, good, wall, cpu1-cpu0, []int64{wall.Microseconds()})
	}

	// Storm: untimed warm start and one checked call, then the tokens expire at the server.
	c, err := oauthClient(ctx, url, dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect: %v\n", err)
		result(n, 0, 0, 0, nil)
	}
	if !one(ctx, c) {
		fmt.Fprintln(os.Stderr, "the first (untimed) call failed")
		result(n, 0, 0, 0, nil)
	}
	resp, err := http.Post(expireURL, "", nil)
	if err != nil || resp.StatusCode/100 != 2 {
		fmt.Fprintf(os.Stderr, "expire: %v %v\n", err, resp)
		result(n, 0, 0, 0, nil)
	}
	resp.Body.Close()

	lat := make([]int64, n)
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t := time.Now()
			good := one(ctx, c)
			lat[i] = time.Since(t).Microseconds()
			if good {
				ok.Add(1)
			}
		}()
	}
	cpu0, _ := rusage()
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	cpu1, _ := rusage()
	if err := c.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "close: %v\n", err)
	}
	result(n, ok.Load(), wall, cpu1-cpu0, lat)
}

func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, found := strings.CutPrefix(s.Text(), "VmRSS:"); found {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return -1
}

// runHold runs scenario 5: n clients, each connected and called once, all held open.
func runHold(n int, url, token string) {
	ctx := context.Background()
	cs := make([]*mcpclient.Client, 0, n)
	for range n {
		c, err := mcpclient.New(ctx, url, mcpclient.WithBearerToken(token))
		if err != nil {
			if !reported.Swap(true) {
				fmt.Fprintf(os.Stderr, "connect: %v\n", err)
			}
			continue
		}
		cs = append(cs, c)
	}
	ok := 0
	for _, c := range cs {
		if one(ctx, c) {
			ok++
		}
	}
	rss := vmRSS()
	for _, c := range cs {
		if err := c.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "close: %v\n", err)
		}
	}
	_, peak := rusage()
	out, _ := json.Marshal(map[string]any{
		"client": "mcp-client (Go)", "version": mcpclient.LibraryVersion(), "clients": n,
		"ok": ok, "rss_kb": rss, "peak_rss_kb": peak,
	})
	fmt.Printf("RESULT %s\n", out)
	if ok != n {
		os.Exit(1)
	}
	os.Exit(0)
}
