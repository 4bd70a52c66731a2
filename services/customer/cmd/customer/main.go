// Command customer runs the customer service: tenants, credentials,
// customers and extended records.
//
//	customer [serve] [flags]     serve gRPC (migrating first by default)
//	customer migrate [flags]     apply migrations and exit
//	customer admin ...           administer tenants and credentials
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/grpcapi"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/store/migrations"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/app"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "customer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	return app.Run(ctx, app.Spec{
		Name:             "customer",
		Schema:           "customer",
		Migrations:       migrations.FS,
		DefaultGRPCAddr:  ":9091",
		DefaultAdminAddr: ":9191",
		TenantFree:       grpcapi.TenantFree,
		Checker: func(_ context.Context, d app.Deps) (tenancy.Checker, error) {
			return tenant.NewService(store.New(d.Pool)), nil
		},
		Handlers: func(_ context.Context, d app.Deps) (func(*grpc.Server), error) {
			st := store.New(d.Pool)
			admin := grpcapi.NewTenantAdmin(tenant.NewService(st), d.Log)
			customers := grpcapi.NewCustomers(customer.NewService(st), d.Log)
			return func(s *grpc.Server) {
				customerv1.RegisterTenantAdminServiceServer(s, admin)
				customerv1.RegisterCustomerServiceServer(s, customers)
			}, nil
		},
		Commands: map[string]func(context.Context, app.Deps, []string) error{
			"admin": func(ctx context.Context, d app.Deps, args []string) error {
				return runAdmin(ctx, tenant.NewService(store.New(d.Pool)), os.Stdout, args)
			},
		},
	}, args)
}
