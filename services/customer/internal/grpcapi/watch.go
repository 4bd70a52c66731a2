package grpcapi

import (
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// WatchCredentialChanges implements the RPC: it answers each ack with the
// changes after it, and nudges the watcher whenever a change is made (the
// LISTEN of this replica hears it). Only this goroutine sends; one other
// receives.
func (s *TenantAdmin) WatchCredentialChanges(stream grpc.BidiStreamingServer[customerv1.WatchCredentialChangesRequest, customerv1.WatchCredentialChangesResponse]) error {
	ctx := stream.Context()
	nudges, unsubscribe := s.svc.Watchers().Subscribe()
	defer unsubscribe()
	acks := make(chan *customerv1.WatchCredentialChangesRequest)
	recvErr := make(chan error, 1)
	go func() {
		for {
			req, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case acks <- req:
			case <-ctx.Done():
				return
			}
		}
	}()
	trust := durationpb.New(s.svc.Trust())
	for first := true; ; first = false {
		var req *customerv1.WatchCredentialChangesRequest
		for req == nil {
			select {
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			case err := <-recvErr:
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			case _, ok := <-nudges:
				if !ok {
					return status.Error(codes.Unavailable, "the customer service is shutting down")
				}
				if err := stream.Send(&customerv1.WatchCredentialChangesResponse{}); err != nil {
					return err
				}
			case req = <-acks:
			}
		}
		a, err := s.svc.RecordAck(ctx, req.GetWatcherId(), req.GetAppliedSeq(), first)
		if err != nil {
			return toStatus(ctx, s.log, err)
		}
		resp := &customerv1.WatchCredentialChangesResponse{Reply: true, LatestSeq: a.Latest, TrustFor: trust}
		for _, c := range a.Changes {
			resp.Changes = append(resp.Changes, &customerv1.CredentialChange{Seq: c.Seq, CredentialId: c.CredentialID, SessionHash: c.SessionHash})
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
