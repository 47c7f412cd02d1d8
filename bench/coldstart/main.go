// Command coldstart measures how long `voxrun serve` takes from exec to a 200 on
// /readyz on embedded defaults (SQLite and in-memory live state), on a fresh
// data directory each time: the cold start, which includes creating the
// schema and the first tenant. It also measures a warm start (an existing data
// directory) for comparison, side by side in the same run.
//
//	go run ./bench/coldstart -bin bin/voxrun -n 10
//
// It is a benchmark tool for `make bench`, not part of voxrun.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/bench/benchnode"
)

func main() {
	bin := flag.String("bin", "bin/voxrun", "the voxrun binary")
	n := flag.Int("n", 10, "starts per kind")
	flag.Parse()
	if err := run(*bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(bin string, n int) error {
	root, err := os.MkdirTemp("", "voxrun-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	var cold, warm []time.Duration
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("run%d", i))
		d, err := start(bin, dir)
		if err != nil {
			return fmt.Errorf("cold start %d: %w", i, err)
		}
		cold = append(cold, d)
		d, err = start(bin, dir) // the same data directory again: warm
		if err != nil {
			return fmt.Errorf("warm start %d: %w", i, err)
		}
		warm = append(warm, d)
	}
	report("cold start (fresh data dir: schema + first tenant)", cold)
	report("warm start (existing data dir)", warm)
	return nil
}

func report(what string, ds []time.Duration) {
	slices.Sort(ds)
	med := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		med = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	fmt.Printf("%-52s n=%d median=%.1fms min=%.1fms max=%.1fms\n", what, len(ds),
		ms(med), ms(ds[0]), ms(ds[len(ds)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// start runs voxrun serve on dir and returns the time from exec to ready. A
// start that fails before ready (a port taken in between) is tried again once
// on other ports.
func start(bin, dir string) (time.Duration, error) {
	d, err := startOnce(bin, dir)
	if err != nil {
		return startOnce(bin, dir)
	}
	return d, nil
}

func startOnce(bin, dir string) (time.Duration, error) {
	httpPort, err := benchnode.Port("tcp")
	if err != nil {
		return 0, err
	}
	sipPort, err := benchnode.Port("udp")
	if err != nil {
		return 0, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)
	cmd := exec.Command(bin, "serve",
		"--data-dir", dir,
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--sip-addr", fmt.Sprintf("127.0.0.1:%d", sipPort),
		"--log-level", "warn")
	cmd.Env = append(os.Environ(), "VOXRUN_CONFIG=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	client := &http.Client{Timeout: 200 * time.Millisecond}

	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("voxrun exited before ready (%v): %s", err, stderr.String())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("not ready within 10s")
}
