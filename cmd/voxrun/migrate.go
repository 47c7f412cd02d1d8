package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

const migrateUsage = `Usage: voxrun migrate <up|status> [flags]

  up       create or upgrade the database schema; running it again changes nothing
  status   print each table's schema version and the applied migrations

The database is the one serve would use: mysql_dsn when it is set, else SQLite in
data_dir. Run "voxrun migrate up --help" for the flags.
`

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, migrateUsage)
			return errUsage
		}
		fmt.Fprint(stdout, migrateUsage)
		return flag.ErrHelp
	}
	sub := args[0]
	if sub != "up" && sub != "status" {
		fmt.Fprintf(stderr, "voxrun migrate: unknown subcommand %q\n\n%s", sub, migrateUsage)
		return errUsage
	}
	about := "Create or upgrade the database schema (idempotent)."
	if sub == "status" {
		about = "Print each table's schema version."
	}
	fs, path := newFlagSet("migrate "+sub, about, stderr)
	cfg, err := parseConfig(fs, path, args[1:], getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	db, kind, err := openProvisioning(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	if sub == "up" {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		log.Info("schema is up to date", "database", kind, "applied", applied)
		return nil
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "database\t%s\n", kind)
	fmt.Fprintf(tw, "schema version\t%d of %d\n\n", st.Current, st.Latest)
	fmt.Fprintln(tw, "MIGRATION\tAPPLIED")
	for _, m := range st.Migrations {
		applied := "pending"
		if !m.AppliedAt.IsZero() {
			applied = m.AppliedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\n", m.Name, applied)
	}
	fmt.Fprintln(tw, "\nTABLE\tVERSION")
	for _, v := range st.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", v.Table, v.Version)
	}
	return tw.Flush()
}
