package auth

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// ackEvery is the longest a synced stream goes without an ack; it also
// never exceeds a fifth of the trust an ack earns, so a healthy stream
// keeps the cache trusted without gaps.
const ackEvery = 200 * time.Millisecond

// Watch keeps the cache current with the customer service's
// WatchCredentialChanges until ctx ends: one stream at a time, under one
// watcher id for the process, reconnected within about a second of a
// failure. While the stream is down the cache is empty and untrusted.
func (c *Cache) Watch(ctx context.Context, client customerv1.TenantAdminServiceClient, log *slog.Logger) {
	watcher := uuid.NewString()
	step := 100 * time.Millisecond
	for failures := 0; ctx.Err() == nil; {
		synced, err := c.watchOnce(ctx, client, watcher)
		c.lost()
		if ctx.Err() != nil {
			return
		}
		if synced {
			failures, step = 0, 100*time.Millisecond
		}
		failures++
		if failures == 1 {
			log.WarnContext(ctx, "credential change stream lost; authenticating every request until it is back", "error", err)
		}
		wait := step/2 + rand.N(step/2+1)
		step = min(2*step, time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// watchOnce runs one stream until it fails; synced tells whether it got as
// far as its first reply.
func (c *Cache) watchOnce(ctx context.Context, client customerv1.TenantAdminServiceClient, watcher string) (synced bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.WatchCredentialChanges(ctx)
	if err != nil {
		return false, err
	}
	type received struct {
		resp *customerv1.WatchCredentialChangesResponse
		err  error
	}
	recv := make(chan received, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			select {
			case recv <- received{resp, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var applied int64
	ack := time.NewTimer(0)
	defer ack.Stop()
	for {
		sentAt := c.now()
		if err := stream.Send(&customerv1.WatchCredentialChangesRequest{WatcherId: watcher, AppliedSeq: applied}); err != nil {
			return synced, err
		}
		// Wait for the reply; a nudge meanwhile asks for another ack.
		nudged := false
		var reply *customerv1.WatchCredentialChangesResponse
		for reply == nil {
			r := <-recv
			if r.err != nil {
				return synced, r.err
			}
			if r.resp.GetReply() {
				reply = r.resp
			} else {
				nudged = true
			}
		}
		if !synced {
			c.sync(reply.GetLatestSeq())
			applied, synced = reply.GetLatestSeq(), true
		} else {
			applied = c.apply(reply.GetChanges())
		}
		trust := reply.GetTrustFor().AsDuration()
		c.confirm(sentAt, reply.GetLatestSeq(), trust)
		if nudged || applied < reply.GetLatestSeq() || len(reply.GetChanges()) > 0 {
			continue // ack at once: a change is known, or was just applied
		}
		ack.Reset(min(ackEvery, max(trust/5, time.Millisecond)))
		select {
		case <-ack.C:
		case r := <-recv:
			if r.err != nil {
				return synced, r.err
			}
			if r.resp.GetReply() {
				return synced, errors.New("credential change stream: a reply without an ack")
			}
		}
	}
}
