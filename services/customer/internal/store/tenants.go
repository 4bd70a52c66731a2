package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tenant is a row of customer.tenants.
type Tenant struct {
	ID           string
	Name         string
	Company      string
	Sandbox      bool
	LiveTenantID string // "" for a live tenant
	CreateTime   time.Time
}

const tenantColumns = `tenant_id::text, name, company, sandbox, coalesce(live_tenant_id::text, ''), create_time`

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Name, &t.Company, &t.Sandbox, &t.LiveTenantID, &t.CreateTime)
	return t, err
}

// CreateTenant inserts t and returns it as stored.
func (s *Store) CreateTenant(ctx context.Context, t Tenant) (Tenant, error) {
	var live any
	if t.LiveTenantID != "" {
		live = t.LiveTenantID
	}
	out, err := scanTenant(s.pool.QueryRow(ctx, `
		INSERT INTO customer.tenants (tenant_id, name, company, sandbox, live_tenant_id)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING `+tenantColumns, t.ID, t.Name, t.Company, t.Sandbox, live))
	return out, translate(err, "create tenant")
}

// GetTenant returns the tenant with id.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM customer.tenants WHERE tenant_id = $1`, id))
	return t, translate(err, "get tenant")
}

// SandboxOf returns the sandbox twin of a live tenant.
func (s *Store) SandboxOf(ctx context.Context, liveID string) (Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM customer.tenants WHERE live_tenant_id = $1`, liveID))
	return t, translate(err, "get sandbox tenant")
}

// TenantPage is a keyset position in the (create_time, tenant_id) order.
type TenantPage struct {
	AfterTime time.Time
	AfterID   string
}

// ListTenants lists up to limit tenants after the page position.
func (s *Store) ListTenants(ctx context.Context, after *TenantPage, limit int) ([]Tenant, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM customer.tenants
			ORDER BY create_time, tenant_id LIMIT $1`, limit)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM customer.tenants
			WHERE (create_time, tenant_id) > ($1, $2::uuid)
			ORDER BY create_time, tenant_id LIMIT $3`, after.AfterTime, after.AfterID, limit)
	}
	if err != nil {
		return nil, translate(err, "list tenants")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) { return scanTenant(r) })
	return out, translate(err, "list tenants")
}
