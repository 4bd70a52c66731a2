package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
)

// failingConn answers the calls of chosen methods with an error, as a real
// connection returns one, and passes every other call on. It remembers the
// last request of each method.
type failingConn struct {
	grpc.ClientConnInterface
	fail map[string]error // by method name, such as "GetBalances"

	mu   sync.Mutex
	args map[string]any
}

func (c *failingConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	name := method[strings.LastIndexByte(method, '/')+1:]
	c.mu.Lock()
	c.args[name] = args
	c.mu.Unlock()
	if err, ok := c.fail[name]; ok {
		return err
	}
	return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

func (c *failingConn) lastRequest(method string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.args[method]
}

// failingEnv is a gateway in front of the fake services whose connections
// fail the calls of fail, with its log kept.
type failingEnv struct {
	*env
	conns map[string]*failingConn
	log   *bytes.Buffer
}

func newFailingEnv(t *testing.T, fail map[string]error) *failingEnv {
	t.Helper()
	e := newEnv(t, envOptions{})
	wrap := func(cc grpc.ClientConnInterface) *failingConn {
		return &failingConn{ClientConnInterface: cc, fail: fail, args: map[string]any{}}
	}
	fe := &failingEnv{env: e, log: &bytes.Buffer{}, conns: map[string]*failingConn{
		"customer": wrap(e.conns.Customer), "ledger": wrap(e.conns.Ledger), "history": wrap(e.conns.History),
	}}
	h, err := NewHandler(Conns{Customer: fe.conns["customer"], Ledger: fe.conns["ledger"], History: fe.conns["history"]},
		HandlerConfig{Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: fe.log}, nil))})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	fe.handler = h
	return fe
}

// lockedWriter serialises writes from concurrent handlers into a buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// problems are the log records at warn and above.
func (fe *failingEnv) problems(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(fe.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == "WARN" || rec["level"] == "ERROR" {
			out = append(out, rec)
		}
	}
	return out
}
