package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
)

const adminUsage = `usage:
  customer admin tenant create --name NAME --company COMPANY [--json]
  customer admin tenant list [--json]
  customer admin credential create --tenant TENANT_ID --kind exigo|igsend-live|igsend-sandbox|manex|magento [--identifier LOGIN] [--json]
  customer admin credential list --tenant TENANT_ID [--revoked] [--json]
  customer admin credential revoke --id CREDENTIAL_ID [--json]
The database comes from DATABASE_URL (or the PG* variables).`

var kindNames = map[string]int{
	"exigo": tenant.KindExigo, "igsend-live": tenant.KindIgsendLive, "igsend-sandbox": tenant.KindIgsendSandbox,
	"manex": tenant.KindManex, "magento": tenant.KindMagento,
}

func kindName(k int) string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return fmt.Sprint(k)
}

// runAdmin administers tenants and credentials directly in the database, so
// an operator can bootstrap before any service runs.
func runAdmin(ctx context.Context, svc *tenant.Service, out io.Writer, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(out, adminUsage)
		return errors.New("missing admin command")
	}
	fs := flag.NewFlagSet("customer admin "+args[0]+" "+args[1], flag.ContinueOnError)
	fs.SetOutput(out)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "tenant name")
	company := fs.String("company", "", "Exigo company: lower-case letters, digits, dashes")
	tenantID := fs.String("tenant", "", "tenant id")
	kind := fs.String("kind", "", "credential kind")
	identifier := fs.String("identifier", "", "Exigo login or Magento API user (generated when empty)")
	revoked := fs.Bool("revoked", false, "include revoked credentials")
	id := fs.String("id", "", "credential id")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(out, adminUsage)
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	print := func(v any, table func(w *tabwriter.Writer)) error {
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		table(w)
		return w.Flush()
	}
	switch args[0] + " " + args[1] {
	case "tenant create":
		t, err := svc.CreateTenant(ctx, *name, *company)
		if err != nil {
			return err
		}
		return print(tenantJSON(t), func(w *tabwriter.Writer) { tenantTable(w, []store.Tenant{t}) })
	case "tenant list":
		var all []store.Tenant
		var after *store.TenantPage
		for {
			page, err := svc.ListTenants(ctx, after, 500)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if len(page) < 500 {
				break
			}
			last := page[len(page)-1]
			after = &store.TenantPage{AfterTime: last.CreateTime, AfterID: last.ID}
		}
		js := make([]map[string]any, 0, len(all))
		for _, t := range all {
			js = append(js, tenantJSON(t))
		}
		return print(js, func(w *tabwriter.Writer) { tenantTable(w, all) })
	case "credential create":
		k, ok := kindNames[*kind]
		if !ok {
			return fmt.Errorf("--kind must be one of exigo, igsend-live, igsend-sandbox, manex, magento")
		}
		nc, err := svc.CreateCredential(ctx, *tenantID, k, *identifier)
		if err != nil {
			return err
		}
		js := credentialJSON(nc.Credential)
		js["secret"] = nc.Secret
		return print(js, func(w *tabwriter.Writer) {
			credentialTable(w, []store.Credential{nc.Credential})
			fmt.Fprintf(w, "\nsecret (shown once, store it now):\t%s\n", nc.Secret)
		})
	case "credential list":
		cs, err := svc.ListCredentials(ctx, *tenantID, *revoked)
		if err != nil {
			return err
		}
		js := make([]map[string]any, 0, len(cs))
		for _, c := range cs {
			js = append(js, credentialJSON(c))
		}
		return print(js, func(w *tabwriter.Writer) { credentialTable(w, cs) })
	case "credential revoke":
		c, err := svc.RevokeCredential(ctx, *id)
		if err != nil {
			return err
		}
		return print(credentialJSON(c), func(w *tabwriter.Writer) { credentialTable(w, []store.Credential{c}) })
	}
	fmt.Fprintln(out, adminUsage)
	return fmt.Errorf("unknown admin command %q", strings.Join(args[:2], " "))
}

func tenantJSON(t store.Tenant) map[string]any {
	return map[string]any{"tenant_id": t.ID, "name": t.Name, "company": t.Company, "sandbox": t.Sandbox,
		"live_tenant_id": t.LiveTenantID, "create_time": t.CreateTime.UTC().Format(time.RFC3339)}
}

func tenantTable(w *tabwriter.Writer, ts []store.Tenant) {
	fmt.Fprintln(w, "TENANT ID\tCOMPANY\tSANDBOX\tNAME\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", t.ID, t.Company, t.Sandbox, t.Name, t.CreateTime.UTC().Format(time.RFC3339))
	}
}

func credentialJSON(c store.Credential) map[string]any {
	m := map[string]any{"credential_id": c.ID, "tenant_id": c.TenantID, "kind": kindName(c.Kind),
		"identifier": c.Identifier, "create_time": c.CreateTime.UTC().Format(time.RFC3339)}
	if c.RevokeTime != nil {
		m["revoke_time"] = c.RevokeTime.UTC().Format(time.RFC3339)
	}
	return m
}

func credentialTable(w *tabwriter.Writer, cs []store.Credential) {
	fmt.Fprintln(w, "CREDENTIAL ID\tKIND\tIDENTIFIER\tTENANT ID\tCREATED\tREVOKED")
	for _, c := range cs {
		rev := "-"
		if c.RevokeTime != nil {
			rev = c.RevokeTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, kindName(c.Kind), c.Identifier, c.TenantID, c.CreateTime.UTC().Format(time.RFC3339), rev)
	}
}
