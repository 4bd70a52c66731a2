package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Addr    string        `env:"T_ADDR" flag:"addr" default:":9090"`
	Token   string        `env:"T_TOKEN" flag:"token" secret:"true"`
	Conns   int           `env:"T_CONNS" flag:"conns" default:"4"`
	Debug   bool          `env:"T_DEBUG" flag:"debug"`
	Timeout time.Duration `env:"T_TIMEOUT" flag:"timeout" default:"20s"`
	Nested  nested
}

type nested struct {
	Name string `env:"T_NAME" default:"x"`
}

func env(m map[string]string) lookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want sample
	}{
		{"defaults", nil, nil, sample{Addr: ":9090", Conns: 4, Timeout: 20 * time.Second, Nested: nested{"x"}}},
		{"env over default", map[string]string{"T_ADDR": ":1", "T_CONNS": "9", "T_DEBUG": "true", "T_NAME": "y"}, nil,
			sample{Addr: ":1", Conns: 9, Debug: true, Timeout: 20 * time.Second, Nested: nested{"y"}}},
		{"flag over env", map[string]string{"T_ADDR": ":1"}, []string{"--addr", ":2", "--timeout=3s"},
			sample{Addr: ":2", Conns: 4, Timeout: 3 * time.Second, Nested: nested{"x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got sample
			if err := load("test", tc.args, env(tc.env), &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"T_CONNS": "many"}, nil, "T_CONNS"},
		{map[string]string{"T_TIMEOUT": "5"}, nil, "T_TIMEOUT"},
		{map[string]string{"T_DEBUG": "sure"}, nil, "T_DEBUG"},
		{nil, []string{"--conns", "x"}, "conns"},
		{nil, []string{"--nope"}, "nope"},
		{nil, []string{"stray"}, "stray"},
	} {
		var got sample
		err := load("test", tc.args, env(tc.env), &got)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v args %v: err = %v, want one naming %s", tc.env, tc.args, err, tc.want)
		}
	}
}

func TestStringMasksSecrets(t *testing.T) {
	t.Parallel()
	s := sample{Addr: ":1", Token: "hunter2"}
	out := String(&s)
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "T_TOKEN=*****") || !strings.Contains(out, "T_ADDR=:1") {
		t.Errorf("String = %q", out)
	}
}

// Help is returned, not printed, so the command prints its own usage; a bad
// command line is a UsageError (exit status 2) naming the command.
func TestLoadHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}, {"--addr", ":1", "help"}} {
		var got sample
		if err := load("test", args, env(nil), &got); !errors.Is(err, flag.ErrHelp) || ExitCode(err) != 0 {
			t.Errorf("args %q: err = %v, want flag.ErrHelp (exit 0)", args, err)
		}
	}
	for _, args := range [][]string{{"--nope"}, {"--conns", "x"}, {"stray"}, {"help", "me"}} {
		var got sample
		err := load("test", args, env(nil), &got)
		var ue *UsageError
		if !errors.As(err, &ue) || ExitCode(err) != 2 || !strings.Contains(err.Error(), "test --help") {
			t.Errorf("args %q: err = %v (exit %d), want a UsageError pointing at test --help (exit 2)", args, err, ExitCode(err))
		}
	}
	if c := ExitCode(errors.New("database down")); c != 1 {
		t.Errorf("ExitCode(other error) = %d, want 1", c)
	}
}

// PrintSettings lists each setting by flag and variable with its default,
// and never the value the environment holds (a secret may be there).
func TestPrintSettings(t *testing.T) {
	t.Setenv("T_TOKEN", "hunter2")
	var b strings.Builder
	if err := PrintSettings(&b, &sample{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"-addr, T_ADDR  (default :9090)", "-timeout, T_TIMEOUT  (default 20s)", "-token, T_TOKEN\n", "T_NAME  (default x; environment only)"} {
		if !strings.Contains(out, want) {
			t.Errorf("PrintSettings lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("PrintSettings shows the environment's secret:\n%s", out)
	}
}
