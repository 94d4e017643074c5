package store

import (
	"context"
	"io/fs"
)

// MigrateFS applies the migrations under migrations/ in fsys, as Migrate
// does with the embedded ones.
func (db *DB) MigrateFS(ctx context.Context, fsys fs.FS) ([]string, error) {
	return db.migrate(ctx, fsys)
}
