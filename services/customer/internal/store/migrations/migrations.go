// Package migrations embeds the customer schema's numbered SQL migrations.
package migrations

import "embed"

// FS holds the migration files, applied in order by database.Migrate.
//
//go:embed *.sql
var FS embed.FS
