package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"entgo.io/ent/dialect"

	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/seliq/seliq/ent/migrate"
)

// SchemaFingerprint identifies the PostgreSQL schema Migrate creates: ent's
// tables, the job queue's migrations and the SQL this package runs beside
// them. Tests name a migrated template database by it, so a changed schema
// gets a template of its own.
func SchemaFingerprint() (string, error) {
	h := sha256.New()
	for _, t := range migrate.Tables {
		describeTable(h, t)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{})
	if err != nil {
		return "", err
	}
	for _, m := range migrator.AllVersions() {
		fmt.Fprintf(h, "river %d\n%s\n", m.Version, m.SQLUp)
	}
	d := &DB{Dialect: "postgres"}
	for _, stmts := range [][]string{indexStatements(dialect.Postgres), postgresIndexes, trigramIndexes,
		postgresCounterTables, postgresSlotTables, periodStatements(AlertCountGrain.postgresTables), d.countTriggers(),
		postgresBackfill, postgresSlotBackfill, periodStatements(func(g AlertCountGrain) []string { return g.backfill(true) }),
		postgresCountViews, periodStatements(AlertCountGrain.postgresView)} {
		for _, q := range stmts {
			fmt.Fprintln(h, q)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// describeTable writes t's definition to h by name and value only (the
// schema's structures point at each other).
func describeTable(h hash.Hash, t *entschema.Table) {
	names := func(cols []*entschema.Column) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c.Name
		}
		return out
	}
	w := io.Writer(h)
	fmt.Fprintf(w, "table %s %s view=%v pk=%v\n", t.Name, t.Schema, t.View, names(t.PrimaryKey))
	for _, c := range t.Columns {
		fmt.Fprintf(w, "col %s %v %v %q %d %s unique=%v incr=%v null=%v default=%#v enums=%v\n",
			c.Name, c.Type, c.SchemaType, c.Attr, c.Size, c.Key, c.Unique, c.Increment, c.Nullable, c.Default, c.Enums)
	}
	for _, i := range t.Indexes {
		fmt.Fprintf(w, "index %s unique=%v %v", i.Name, i.Unique, names(i.Columns))
		if a := i.Annotation; a != nil {
			fmt.Fprintf(w, " %q %v %v %q %v %v", a.Type, a.Types, a.Desc, a.Where, a.IncludeColumns, a.OpClass)
		}
		fmt.Fprintln(w)
	}
	for _, fk := range t.ForeignKeys {
		fmt.Fprintf(w, "fk %s %v %s %v %s %s\n", fk.Symbol, names(fk.Columns), fk.RefTable.Name, names(fk.RefColumns), fk.OnUpdate, fk.OnDelete)
	}
	if a := t.Annotation; a != nil {
		fmt.Fprintf(w, "checks %v %v\n", a.Check, a.Checks)
	}
}
