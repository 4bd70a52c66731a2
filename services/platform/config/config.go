// Package config loads a service's configuration from the environment, with
// defaults, and lets command-line flags override it.
//
// A configuration is a struct whose fields carry tags:
//
//	GRPCAddr string `env:"ABACUS_GRPC_ADDR" flag:"grpc-addr" default:":9090" help:"gRPC listen address"`
//	Token    string `env:"ABACUS_SERVICE_TOKEN" flag:"service-token" secret:"true"`
//
// Precedence: flag, then environment, then default. Nested structs are walked,
// so services embed the platform's common sections.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Load fills each of cfgs (pointers to structs) from the environment and
// args. The flag set is named after the command, for usage messages.
func Load(command string, args []string, cfgs ...any) error {
	return load(command, args, os.LookupEnv, os.Stderr, cfgs...)
}

type lookupFunc func(string) (string, bool)

func load(command string, args []string, lookup lookupFunc, usage io.Writer, cfgs ...any) error {
	var fields []field
	for _, cfg := range cfgs {
		fs, err := walk(cfg)
		if err != nil {
			return err
		}
		fields = append(fields, fs...)
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(usage)
	for _, f := range fields {
		def := f.def
		if v, ok := lookup(f.env); ok && f.env != "" {
			def = v
		}
		if err := f.set(def); err != nil {
			return fmt.Errorf("config %s: %w", f.source(), err)
		}
		if f.flag != "" {
			fs.Func(f.flag, f.usage(), f.set)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// String renders cfg for the start-up log with secrets masked.
func String(cfg any) string {
	fields, err := walk(cfg)
	if err != nil {
		return err.Error()
	}
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		v := fmt.Sprint(f.value.Interface())
		if f.secret && v != "" {
			v = "*****"
		}
		parts = append(parts, f.env+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

type field struct {
	env, flag, def, help string
	secret               bool
	value                reflect.Value
}

func (f field) source() string {
	if f.env != "" {
		return f.env
	}
	return "-" + f.flag
}

func (f field) usage() string {
	u := f.help
	if f.env != "" {
		u += " (env " + f.env + ")"
	}
	return u
}

func (f field) set(s string) error {
	v := f.value
	switch v.Interface().(type) {
	case time.Duration:
		if s == "" {
			v.SetInt(0)
			return nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q", s)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int32, reflect.Int64:
		if s == "" {
			v.SetInt(0)
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(n)
	case reflect.Bool:
		if s == "" {
			v.SetBool(false)
			return nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid boolean %q", s)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func walk(cfg any) ([]field, error) {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, errors.New("config: want a pointer to a struct")
	}
	var out []field
	var visit func(v reflect.Value)
	visit = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			fv := v.Field(i)
			if !sf.IsExported() {
				continue
			}
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[time.Duration]() {
				visit(fv)
				continue
			}
			env, fl := sf.Tag.Get("env"), sf.Tag.Get("flag")
			if env == "" && fl == "" {
				continue
			}
			out = append(out, field{
				env: env, flag: fl, def: sf.Tag.Get("default"), help: sf.Tag.Get("help"),
				secret: sf.Tag.Get("secret") == "true", value: fv,
			})
		}
	}
	visit(rv.Elem())
	return out, nil
}
