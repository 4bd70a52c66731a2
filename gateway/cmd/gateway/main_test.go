package main

import (
	"context"
	"strings"
	"testing"
)

// The gateway must not start without the service token: every service call
// would be refused, and it would look healthy while failing everything.
func TestRunRefusesMissingServiceToken(t *testing.T) {
	t.Setenv("ABACUS_SERVICE_TOKEN", "")
	err := run(context.Background(), []string{"-http-addr", "127.0.0.1:0", "-admin-addr", ""})
	if err == nil || !strings.Contains(err.Error(), "ABACUS_SERVICE_TOKEN is required") {
		t.Fatalf("run = %v, want an error naming ABACUS_SERVICE_TOKEN", err)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Setenv("ABACUS_SERVICE_TOKEN", "x")
	tests := map[string][]string{
		"bad duration":  {"-shutdown-timeout", "soon"},
		"zero burst":    {"-auth-failure-burst", "0"},
		"stray args":    {"extra"},
		"bad log level": {"-log-level", "loud"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if err := run(context.Background(), args); err == nil {
				t.Fatalf("run(%q) succeeded, want an error", args)
			}
		})
	}
}

// ABACUS_MAGENTO_WSI is true or false; anything else stops the start with
// an error naming it, rather than serving the WSDL the operator did not mean.
func TestRunRefusesBadMagentoWSI(t *testing.T) {
	t.Setenv("ABACUS_SERVICE_TOKEN", "x")
	t.Setenv("ABACUS_MAGENTO_WSI", "yes")
	err := run(context.Background(), []string{"-http-addr", "127.0.0.1:0", "-admin-addr", ""})
	if err == nil || !strings.Contains(err.Error(), "ABACUS_MAGENTO_WSI") {
		t.Fatalf("run = %v, want an error naming ABACUS_MAGENTO_WSI", err)
	}
}
