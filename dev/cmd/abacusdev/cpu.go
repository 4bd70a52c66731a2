package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// cpuSample is CPU time (user + system, seconds) per process group: the
// stack's processes by name, every postgres process as "postgres", and
// this process as "bench client".
type cpuSample map[string]float64

var clockTicks = 100.0 // USER_HZ: 100 on Linux x86_64 and arm64

// sampleCPU reads /proc; groups whose processes cannot be read are left out.
func sampleCPU(s *stack) cpuSample {
	out := cpuSample{}
	for _, p := range s.Procs() {
		if pid := p.Pid(); pid != 0 {
			if t, err := procCPU(pid); err == nil {
				out[p.Name] += t
			}
		}
	}
	if t, err := procCPU(os.Getpid()); err == nil {
		out["bench client"] = t
	}
	eachPostgres(func(_ int, t float64) { out["postgres"] += t })
	return out
}

// eachPostgres calls f with the pid and CPU time of every postgres process.
func eachPostgres(f func(pid int, t float64)) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		if t, err := procCPU(pid); err == nil {
			f(pid, t)
		}
	}
}

// procCPU is a process's utime + stime in seconds (fields 14 and 15 of
// /proc/PID/stat, counted after the parenthesised command name).
func procCPU(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat")
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks, nil
}

// perOp renders the CPU each group spent per op between two samples, most
// first. Postgres processes that ended in between are not counted.
func perOp(before, after cpuSample, ops int, unit string) string {
	type g struct {
		name string
		ms   float64
	}
	var gs []g
	total := 0.0
	for name, t := range after {
		d := (t - before[name]) * 1000 / float64(max(ops, 1))
		if d > 0 {
			gs = append(gs, g{name, d})
			total += d
		}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].ms > gs[j].ms })
	parts := make([]string, len(gs))
	for i, x := range gs {
		parts[i] = fmt.Sprintf("%s %.2f", x.name, x.ms)
	}
	return fmt.Sprintf("CPU ms per %s: %.2f (%s)", unit, total, strings.Join(parts, ", "))
}
