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
//
// Load reads no network and no database, so a command can answer --help
// (PrintSettings lists every setting with its default) before it connects
// anywhere. A command line Load cannot use is a *UsageError; ExitCode gives
// it status 2, as the flag package does.
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
// args. It prints nothing: help (-h, --help, or the lone argument "help")
// returns flag.ErrHelp for the caller to print its usage, and a flag it
// does not know, a flag value it cannot parse or a stray argument returns a
// *UsageError naming it and where help is; the caller names the command.
func Load(command string, args []string, cfgs ...any) error {
	return load(command, args, os.LookupEnv, cfgs...)
}

// UsageError is a command line a command cannot run: an unknown command or
// flag, a missing required one, a stray argument. Its message names what is
// wrong and where help is; Usage, when set, is the usage to show with it.
type UsageError struct {
	Msg   string
	Usage string
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Msg
	}
	return e.Msg + "\n\n" + strings.TrimRight(e.Usage, "\n")
}

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, a ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, a...)}
}

// ExitCode is the process status for what a command's run returned: 0 for
// nil or flag.ErrHelp, 2 for a *UsageError (as the flag package exits), 1
// for anything else.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

type lookupFunc func(string) (string, bool)

func load(command string, args []string, lookup lookupFunc, cfgs ...any) error {
	var fields []field
	for _, cfg := range cfgs {
		fs, err := walk(cfg)
		if err != nil {
			return err
		}
		fields = append(fields, fs...)
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
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
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usagef("%v (%s --help lists the settings)", err, command)
	}
	if fs.NArg() == 1 && fs.Arg(0) == "help" {
		return flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %s (%s --help lists the settings)", strings.Join(fs.Args(), " "), command)
	}
	return nil
}

// PrintSettings writes every setting of cfgs (pointers to structs, as Load
// takes them), in their order: the flag, the environment variable, the
// default, and the help. It reads the tags only, never the environment, so
// a secret set there is not shown.
func PrintSettings(w io.Writer, cfgs ...any) error {
	fmt.Fprintln(w, "settings (a flag overrides its environment variable, which overrides the default):")
	for _, cfg := range cfgs {
		fields, err := walk(cfg)
		if err != nil {
			return err
		}
		for _, f := range fields {
			var names []string
			if f.flag != "" {
				names = append(names, "-"+f.flag)
			}
			if f.env != "" {
				names = append(names, f.env)
			}
			var notes []string
			if f.def != "" {
				notes = append(notes, "default "+f.def)
			}
			if f.flag == "" {
				notes = append(notes, "environment only")
			}
			line := "  " + strings.Join(names, ", ")
			if len(notes) > 0 {
				line += "  (" + strings.Join(notes, "; ") + ")"
			}
			fmt.Fprintln(w, line)
			if f.help != "" {
				fmt.Fprintln(w, "      "+f.help)
			}
		}
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
