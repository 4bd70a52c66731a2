package app

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// CustomerClientConfig locates the customer service, which owns tenants.
type CustomerClientConfig struct {
	CustomerAddr string `env:"ABACUS_CUSTOMER_ADDR" flag:"customer-addr" default:"127.0.0.1:9091" help:"customer service gRPC address"`
}

// Dial connects to another Abacus service with the service token; each
// call's context names the tenant (tenancy.WithTenant). The connection is
// lazy: it does not fail when the service is not up yet.
func Dial(addr, serviceToken string) (*grpc.ClientConn, error) {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(serviceToken)...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// RemoteTenants returns a tenant checker over the customer service, caching
// known tenants for a minute (tenants are never deleted).
func RemoteTenants(conn *grpc.ClientConn) tenancy.Checker {
	return tenancy.NewCachedChecker(tenancy.RemoteChecker{Client: customerv1.NewTenantAdminServiceClient(conn)}, time.Minute)
}

// RemoteChecker is a Spec.Checker for services other than the customer
// service: it dials the address in cfg.
func RemoteChecker(cfg *CustomerClientConfig) func(ctx context.Context, d Deps) (tenancy.Checker, error) {
	return func(ctx context.Context, d Deps) (tenancy.Checker, error) {
		conn, err := Dial(cfg.CustomerAddr, d.Common.Serve.ServiceToken)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return RemoteTenants(conn), nil
	}
}
