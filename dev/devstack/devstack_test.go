package devstack

import (
	"net"
	"os"
	"strconv"
	"testing"
)

// With the wanted ports taken by someone else, each reservation still gets
// a port of its own: the fallback never hands one port out twice.
func TestReserveGivesEachItsOwnPort(t *testing.T) {
	t.Parallel()
	base := takenRun(t, 3)
	held := map[string]net.Listener{}
	t.Cleanup(func() {
		for _, l := range held {
			l.Close()
		}
	})
	r := reserver{host: "127.0.0.1"}
	seen := map[string]bool{}
	for i := range 3 {
		addr, err := r.reserve(held, base+i)
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		_, port, _ := net.SplitHostPort(addr)
		if n, _ := strconv.Atoi(port); n >= base && n < base+3 {
			t.Errorf("got %s, which someone else holds", addr)
		}
	}
}

// listens tells the process that holds a listening socket from others.
func TestListensNamesTheOwner(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if !listens(os.Getpid(), port) {
		t.Errorf("this process listens on %d, listens says no", port)
	}
	if listens(1, port) {
		t.Errorf("pid 1 does not listen on %d, listens says yes", port)
	}
}

// takenRun binds n consecutive ports and returns the first.
func takenRun(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := first.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{first}
		for i := 1; i < n; i++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		if len(ls) == n {
			t.Cleanup(func() {
				for _, l := range ls {
					l.Close()
				}
			})
			return base
		}
		for _, l := range ls {
			l.Close()
		}
	}
	t.Fatal("no run of free ports")
	return 0
}
