// Package benchnode starts and watches a voxrun for the benchmarks in
// bench/: free loopback ports, waiting for /readyz, the first tenant's
// credentials, the process's CPU time and memory from /proc, and fetching
// a profile. It is benchmark support only (every load benchmark in bench/).
package benchnode

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Port is a port of 127.0.0.1 that is free now ("udp" or "tcp").
func Port(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort is Port for a benchmark that cannot go on without one.
func FreePort(network string) int {
	p, err := Port(network)
	if err != nil {
		panic(err)
	}
	return p
}

// WaitReady waits up to 15 s for url (a /readyz) to answer 200.
func WaitReady(url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("voxrun not ready at %s", url)
}

// Credentials reads the first tenant's account key and account sid from
// <dataDir>/initial-credentials.
func Credentials(dataDir string) (key, account string, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "initial-credentials"))
	if err != nil {
		return "", "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			switch k {
			case "account_api_key":
				key = v
			case "account_sid":
				account = v
			}
		}
	}
	if key == "" || account == "" {
		return "", "", fmt.Errorf("no account key in %s", dataDir)
	}
	return key, account, nil
}

// CPUTime is a process's user+system CPU time, from /proc.
func CPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100
}

// RSSKiB is a process's resident memory in KiB, from /proc.
func RSSKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

// Fetch saves what url answers (a pprof profile) to file.
func Fetch(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
