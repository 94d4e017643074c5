package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
)

// emptyDB is a fresh database with no schema at all.
func emptyDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	dsn, drop, err := devpg.NewScratchDatabase(ctx, "duban_test")
	require.NoError(t, err)
	t.Cleanup(drop)
	db, err := store.Open(ctx, dsn, 2)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

func tableExists(t *testing.T, db *store.DB, name string) bool {
	return count(t, db, `SELECT count(*) FROM information_schema.tables WHERE table_name = $1`, name) == 1
}

// TestAnEditedMigrationIsRefused: a migration file changed after it was
// applied stops the migrator, naming the file, before any new migration
// runs; the same files as before pass.
func TestAnEditedMigrationIsRefused(t *testing.T) {
	t.Parallel()
	db := emptyDB(t)
	ctx := context.Background()
	released := fstest.MapFS{
		"migrations/001_people.sql": {Data: []byte("CREATE TABLE people (id int PRIMARY KEY);\n")},
		"migrations/002_places.sql": {Data: []byte("CREATE TABLE places (id int PRIMARY KEY);\n")},
	}
	applied, err := db.MigrateFS(ctx, released)
	require.NoError(t, err)
	require.Equal(t, []string{"001_people.sql", "002_places.sql"}, applied)

	applied, err = db.MigrateFS(ctx, released)
	require.NoError(t, err, "unchanged files pass")
	require.Empty(t, applied)

	edited := fstest.MapFS{
		"migrations/001_people.sql": released["migrations/001_people.sql"],
		"migrations/002_places.sql": {Data: []byte("CREATE TABLE places (id int PRIMARY KEY, name text);\n")},
		"migrations/003_things.sql": {Data: []byte("CREATE TABLE things (id int PRIMARY KEY);\n")},
	}
	applied, err = db.MigrateFS(ctx, edited)
	require.Error(t, err)
	require.Empty(t, applied)
	var changed *store.MigrationChangedError
	require.True(t, errors.As(err, &changed), "%v", err)
	require.Equal(t, "002_places.sql", changed.Name)
	require.Contains(t, err.Error(), "migration 002_places.sql was applied")
	require.Contains(t, err.Error(), "new migration file")
	require.False(t, tableExists(t, db, "things"), "nothing new runs on a database whose history does not match")
	require.Zero(t, count(t, db, `SELECT count(*) FROM schema_migrations WHERE name = '003_things.sql'`))

	// Restored as released, the new migration goes through.
	edited["migrations/002_places.sql"] = released["migrations/002_places.sql"]
	applied, err = db.MigrateFS(ctx, edited)
	require.NoError(t, err)
	require.Equal(t, []string{"003_things.sql"}, applied)
	require.True(t, tableExists(t, db, "things"))
}

// TestAMigrationsTableWithoutChecksumsIsUpgraded: a database migrated by a
// release that recorded no checksums starts without complaint, gets the
// checksums of its files, and from then on an edit is refused.
func TestAMigrationsTableWithoutChecksumsIsUpgraded(t *testing.T) {
	t.Parallel()
	db := testenv.OpenDB(t)
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `ALTER TABLE schema_migrations DROP COLUMN sha256`)
	require.NoError(t, err)

	applied, err := db.Migrate(ctx)
	require.NoError(t, err)
	require.Empty(t, applied)

	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	onDisk := fstest.MapFS{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		var recorded string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT sha256 FROM schema_migrations WHERE name = $1`, filepath.Base(f)).Scan(&recorded))
		require.Equal(t, hex.EncodeToString(sum[:]), recorded, filepath.Base(f))
		onDisk["migrations/"+filepath.Base(f)] = &fstest.MapFile{Data: b}
	}

	first := "migrations/" + filepath.Base(files[0])
	onDisk[first] = &fstest.MapFile{Data: append(append([]byte(nil), onDisk[first].Data...), []byte("\n-- edited after release\n")...)}
	_, err = db.MigrateFS(ctx, onDisk)
	var changed *store.MigrationChangedError
	require.True(t, errors.As(err, &changed), "%v", err)
	require.Equal(t, filepath.Base(files[0]), changed.Name)
}
