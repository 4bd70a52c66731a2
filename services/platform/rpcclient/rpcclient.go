// Package rpcclient dials one Abacus service from another process (a
// service or the gateway). Every connection it makes:
//
//   - sends the service token, and the tenant of each call's context;
//   - gives every unary call without a deadline one: ReadTimeout for methods
//     the protos mark idempotency_level = NO_SIDE_EFFECTS, WriteTimeout for
//     the rest, so a peer that accepts calls and never answers costs a caller
//     at most that long;
//   - reconnects within about a second of the peer's return, however long
//     it was away (gRPC's default backoff grows to two minutes);
//   - pings an idle connection, so a frozen peer (a stopped process, a
//     dropped network) is noticed and the connection replaced.
//
// Streams get no default deadline: they are meant to stay open; keepalive
// ends them when their peer freezes.
package rpcclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Config is the calling side's configuration, shared by every process that
// calls a service.
type Config struct {
	ReadTimeout  time.Duration `env:"ABACUS_READ_TIMEOUT" flag:"read-timeout" default:"5s" help:"deadline of a call to another service that only reads, when its caller set none"`
	WriteTimeout time.Duration `env:"ABACUS_WRITE_TIMEOUT" flag:"write-timeout" default:"10s" help:"deadline of a call to another service that writes (postings, customer changes), when its caller set none"`
}

// Defaults of Config, for callers that build it by hand.
const (
	DefaultReadTimeout  = 5 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// Reconnection and keepalive. A reconnection attempt follows a failure
// after at most MaxReconnectDelay (plus 20% jitter); the connection
// attempt itself may take MinConnectTimeout before it is abandoned and
// tried again. An idle connection is pinged every keepaliveTime and
// dropped when a ping gets no answer within keepaliveTimeout.
const (
	MaxReconnectDelay = time.Second
	MinConnectTimeout = 3 * time.Second
	keepaliveTime     = 10 * time.Second
	keepaliveTimeout  = 5 * time.Second
)

// KeepalivePolicy is what a server must allow for the clients of this
// package: pings as often as keepaliveTime, also without calls under way.
// A server that allows less answers such pings by closing the connection.
var KeepalivePolicy = keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}

// Dial connects to the service at addr. The connection is lazy: it does
// not fail when the service is not up yet. extra are added to the
// connection's options (tracing's stats handler, when tracing is on).
func Dial(addr, serviceToken string, cfg Config, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   MaxReconnectDelay,
			},
			MinConnectTimeout: MinConnectTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true,
		}),
		// Outermost, so the tenancy interceptor and the call see the deadline.
		grpc.WithChainUnaryInterceptor(deadlines(cfg)),
	}, tenancy.DialOptions(serviceToken)...)
	opts = append(opts, extra...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// deadlines gives a call without a deadline the one of its kind. A caller's
// own deadline, shorter or longer, is kept: it knows its call.
func deadlines(cfg Config) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			timeout := cfg.WriteTimeout
			if ReadOnly(method) {
				timeout = cfg.ReadTimeout
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

var readOnly sync.Map // full method name → bool

// ReadOnly reports whether the proto of a gRPC method ("/pkg.Service/Method")
// marks it idempotency_level = NO_SIDE_EFFECTS. A method whose descriptor
// this process does not link counts as a write: the longer deadline is the
// safe guess.
func ReadOnly(fullMethod string) bool {
	if v, ok := readOnly.Load(fullMethod); ok {
		return v.(bool)
	}
	ro := false
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(fullMethod, "/"), "/", "."))
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil {
		if m, ok := d.(protoreflect.MethodDescriptor); ok {
			if o, ok := m.Options().(*descriptorpb.MethodOptions); ok {
				ro = o.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
			}
		}
	}
	readOnly.Store(fullMethod, ro)
	return ro
}
