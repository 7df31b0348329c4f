package mcpclient

import (
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// The library's child-process handling installs a SIGCHLD handler (tokio's, through
// signal-hook-registry). Go requires handlers installed by non-Go code to run on the
// alternate signal stack (SA_ONSTACK); without it, the next SIGCHLD that lands on a Go
// thread crashes the program ("non-Go code set up signal handler without SA_ONSTACK flag").
// The core installs it with the flag (src/transport/stdio.rs); this test crashed before.
// Here: a stdio server closed, one forgotten (its child killed on drop and reaped later by
// tokio, which registers SIGCHLD then), then children of Go's own exiting.
func TestChildSignalsAfterStdioServers(t *testing.T) {
	ctx := testCtx(t)
	c, err := NewStdio(ctx, serverBinary(t), []string{"--stdio"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	before := freedByCleanup.Load()
	func() {
		c, err := NewStdio(ctx, serverBinary(t), []string{"--stdio"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 50 && freedByCleanup.Load() == before; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 50; i++ {
		if err := exec.Command("true").Run(); err != nil {
			t.Fatal(err)
		}
	}
}
