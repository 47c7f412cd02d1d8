// Package sippout reads what sipp leaves behind for voxrun's load benchmarks:
// the statistics CSV of -trace_stat and the response times of -trace_rtt.
// It is benchmark support only, used by bench/calls and bench/sipload.
package sippout

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats reads the last line of the statistics CSV (-trace_stat) in dir,
// keyed by the header's column names ("SuccessfulCall(C)", ...).
func Stats(dir string) (map[string]string, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_.csv"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no statistics file")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header, last []string
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	if last == nil {
		return nil, fmt.Errorf("statistics file has no data line")
	}
	out := map[string]string{}
	for i, h := range header {
		if i < len(last) {
			out[h] = last[i]
		}
	}
	return out, sc.Err()
}

// ResponseTimes reads the response times, in ms, of -trace_rtt in dir.
func ResponseTimes(dir string) ([]float64, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no rtt file")
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Split(l, ";")
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// Tail is the end of sipp's output, for error messages.
func Tail(b []byte) []byte {
	if len(b) > 3000 {
		return b[len(b)-3000:]
	}
	return b
}
