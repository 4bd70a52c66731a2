// Package store is the customer service's PostgreSQL storage: tenants,
// credentials, customers and extended records in schema "customer".
package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors the store reports; the domain and gRPC layers map them.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict is a unique-key violation; Constraint names the key.
	ErrConflict = errors.New("already exists")
)

// ConflictError tells which unique key a write collided with.
type ConflictError struct{ Constraint string }

func (e *ConflictError) Error() string { return "conflict on " + e.Constraint }

// Unwrap makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Store reads and writes the customer schema.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// translate turns driver errors into the store's own.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%s: %w", what, &ConflictError{Constraint: pe.ConstraintName})
	}
	return fmt.Errorf("%s: %w", what, err)
}
