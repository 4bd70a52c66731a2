package config

import (
	"io"
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
			if err := load("test", tc.args, env(tc.env), io.Discard, &got); err != nil {
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
		err := load("test", tc.args, env(tc.env), io.Discard, &got)
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
