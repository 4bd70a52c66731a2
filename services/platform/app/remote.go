package app

import (
	"context"
	"time"

	"google.golang.org/grpc"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/rpcclient"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// CustomerClientConfig locates the customer service, which owns tenants.
type CustomerClientConfig struct {
	CustomerAddr string `env:"ABACUS_CUSTOMER_ADDR" flag:"customer-addr" default:"127.0.0.1:9091" help:"customer service gRPC address"`
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
		conn, err := rpcclient.Dial(cfg.CustomerAddr, d.Common.Serve.ServiceToken, d.Common.Client)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return RemoteTenants(conn), nil
	}
}
