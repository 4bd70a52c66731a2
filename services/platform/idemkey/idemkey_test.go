package idemkey

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"letters and digits", "order1001", true},
		{"punctuation", "order-1001_a.b:c/d~!", true},
		{"longest", strings.Repeat("k", MaxLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("k", MaxLen+1), false},
		{"cyrillic", "заказ-1", false},
		{"accent", "café-7", false},
		{"raw 0xFF byte", "key\xff", false},
		{"tab inside", "a\tb", false},
		{"space inside", "a b", false},
		{"leading space", " a", false},
		{"newline", "a\n", false},
		{"NUL", "a\x00", false},
		{"DEL", "a\x7f", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Valid(tt.key); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"order-1", "заказ-1", "a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !Valid(key) {
			return
		}
		// A valid key survives any ASCII-only carrier unchanged.
		if len(key) > MaxLen || strings.ContainsAny(key, " \t\r\n") || strings.ToValidUTF8(key, "") != key {
			t.Fatalf("Valid(%q) but it breaks the rule", key)
		}
	})
}
