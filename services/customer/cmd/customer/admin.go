package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/abacus-ledger/abacus/services/customer/internal/store"
	"github.com/abacus-ledger/abacus/services/customer/internal/tenant"
	"github.com/abacus-ledger/abacus/services/platform/config"
)

// adminVerbs are the admin commands, by group: what each takes, its
// summary, and the flags it cannot run without.
var adminVerbs = []adminVerb{
	{"tenant", "create", "--name NAME --company COMPANY [--json]", "create a tenant", []string{"name", "company"}},
	{"tenant", "list", "[--json]", "list every tenant", nil},
	{"credential", "create", "--tenant TENANT_ID --kind KIND [--identifier LOGIN] [--json]", "create a credential and print its secret, once (KIND: " + kindList + ")", []string{"tenant", "kind"}},
	{"credential", "list", "--tenant TENANT_ID [--revoked] [--json]", "list a tenant's credentials", []string{"tenant"}},
	{"credential", "revoke", "--id CREDENTIAL_ID [--json]", "revoke a credential; gateways refuse it from the next request", []string{"id"}},
}

const kindList = "exigo, igsend-live, igsend-sandbox, manex, magento"

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

type adminVerb struct {
	group, verb, args, summary string
	required                   []string
}

func (v adminVerb) name() string { return v.group + " " + v.verb }

// adminGroups are the groups in the order of adminVerbs.
func adminGroups() []string {
	var out []string
	for _, v := range adminVerbs {
		if !slices.Contains(out, v.group) {
			out = append(out, v.group)
		}
	}
	return out
}

// adminUsage is the usage of the admin commands of group, or of all when
// group is empty.
func adminUsage(group string) string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, v := range adminVerbs {
		if group == "" || v.group == group {
			fmt.Fprintf(&b, "  customer admin %s %s\n      %s\n", v.name(), v.args, v.summary)
		}
	}
	b.WriteString(`
Each command takes --help. The database comes from DATABASE_URL (or the PG*
variables); the binary's settings go before a "--", as in
  customer admin -log-level debug -- tenant list
(customer --help lists them).
`)
	return b.String()
}

// adminCommand is one admin command line, parsed before the database
// opens, so that help and a missing flag need no database.
type adminCommand struct {
	verb                                          adminVerb
	asJSON, revoked                               bool
	name, company, tenantID, kind, identifier, id string
}

// parse reads args (what follows "customer admin"). It prints help to
// stdout and returns flag.ErrHelp when asked for it, and returns a
// *config.UsageError for a command line it cannot run.
func (c *adminCommand) parse(args []string) error {
	isHelp := func(a string) bool { return a == "help" || a == "-h" || a == "-help" || a == "--help" }
	groups := adminGroups()
	if len(args) == 0 {
		return &config.UsageError{Msg: "admin: a command is required", Usage: adminUsage("")}
	}
	if isHelp(args[0]) {
		fmt.Print(adminUsage(""))
		return flag.ErrHelp
	}
	group := args[0]
	if strings.HasPrefix(group, "-") {
		return config.Usagef("admin: %s: the binary's settings go before a \"--\", as in customer admin -log-level debug -- tenant list; the commands are %s (customer admin --help)", group, strings.Join(groups, ", "))
	}
	if !slices.Contains(groups, group) {
		return config.Usagef("admin: unknown command %q; the commands are %s (customer admin --help)", group, strings.Join(groups, ", "))
	}
	var verbs []string
	for _, v := range adminVerbs {
		if v.group == group {
			verbs = append(verbs, v.verb)
		}
	}
	if len(args) == 1 {
		return &config.UsageError{Msg: fmt.Sprintf("admin %s: a command is required: %s", group, strings.Join(verbs, ", ")), Usage: adminUsage(group)}
	}
	if isHelp(args[1]) {
		fmt.Print(adminUsage(group))
		return flag.ErrHelp
	}
	i := slices.IndexFunc(adminVerbs, func(v adminVerb) bool { return v.group == group && v.verb == args[1] })
	if i < 0 {
		return config.Usagef("admin %s: unknown command %q; the commands are %s (customer admin %s --help)", group, args[1], strings.Join(verbs, ", "), group)
	}
	c.verb = adminVerbs[i]
	short := "admin " + c.verb.name() // what errors name, after main's "customer: "
	full := "customer " + short
	fs := flag.NewFlagSet(full, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&c.asJSON, "json", false, "print JSON")
	switch c.verb.name() {
	case "tenant create":
		fs.StringVar(&c.name, "name", "", "tenant name")
		fs.StringVar(&c.company, "company", "", "Exigo company: lower-case letters, digits, dashes")
	case "credential create":
		fs.StringVar(&c.tenantID, "tenant", "", "tenant id")
		fs.StringVar(&c.kind, "kind", "", "credential kind: "+kindList)
		fs.StringVar(&c.identifier, "identifier", "", "Exigo login or Magento API user (generated when empty)")
	case "credential list":
		fs.StringVar(&c.tenantID, "tenant", "", "tenant id")
		fs.BoolVar(&c.revoked, "revoked", false, "include revoked credentials")
	case "credential revoke":
		fs.StringVar(&c.id, "id", "", "credential id")
	}
	err := fs.Parse(args[2:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Printf("usage: %s %s\n  %s\n\nflags:\n", full, c.verb.args, c.verb.summary)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return err
	case err != nil:
		return config.Usagef("%s: %v (%s --help)", short, err, full)
	case fs.NArg() > 0:
		return config.Usagef("%s: unexpected arguments: %s (%s --help)", short, strings.Join(fs.Args(), " "), full)
	}
	for _, r := range c.verb.required {
		if f := fs.Lookup(r); f.Value.String() == "" {
			return config.Usagef("%s: --%s is required (%s --help)", short, r, full)
		}
	}
	if _, ok := kindNames[c.kind]; c.verb.name() == "credential create" && !ok {
		return config.Usagef("%s: --kind must be one of %s, not %q", short, kindList, c.kind)
	}
	return nil
}

// run administers tenants and credentials directly in the database, so
// an operator can bootstrap before any service runs.
func (c *adminCommand) run(ctx context.Context, svc *tenant.Service, out io.Writer) error {
	print := func(v any, table func(w *tabwriter.Writer)) error {
		if c.asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		table(w)
		return w.Flush()
	}
	switch c.verb.name() {
	case "tenant create":
		t, err := svc.CreateTenant(ctx, c.name, c.company)
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
		nc, err := svc.CreateCredential(ctx, c.tenantID, kindNames[c.kind], c.identifier)
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
		cs, err := svc.ListCredentials(ctx, c.tenantID, c.revoked)
		if err != nil {
			return err
		}
		js := make([]map[string]any, 0, len(cs))
		for _, cr := range cs {
			js = append(js, credentialJSON(cr))
		}
		return print(js, func(w *tabwriter.Writer) { credentialTable(w, cs) })
	case "credential revoke":
		cr, err := svc.RevokeCredential(ctx, c.id)
		if err != nil {
			return err
		}
		return print(credentialJSON(cr), func(w *tabwriter.Writer) { credentialTable(w, []store.Credential{cr}) })
	}
	return fmt.Errorf("admin command %q was not parsed", c.verb.name())
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
