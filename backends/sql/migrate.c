/*
 * The SQL stores' migrations, once (sql.h: sql_schema): the engine reads
 * the version, takes the store's migration lock, applies the missing
 * versions and records them; each store gives its statements (its
 * schema.c: history, appended and never edited) and its hooks.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "sql/sql.h"

/* The recorded version; a newer one than this code writes is refused. */
static int read_version(sql_store *st, void *conn, int *version)
{
	const sql_schema *sc = st->driver->schema;
	int rc = sc->version(st, conn, version);

	if (rc == 0 && *version > sc->latest)
		return booking_error_set(BOOKING_ESCHEMA, NULL,
		                         "database schema version %d is newer than this libbooking (%d)", *version,
		                         sc->latest);
	return rc;
}

int sql_migrate(int *version_out, booking_store *bst)
{
	sql_store *st = (sql_store *)bst;
	const sql_schema *sc = st->driver->schema;
	void *conn = NULL;
	int version = 0;
	int rc = read_version(st, NULL, &version); /* the usual case: up to date, one read */
	const int first = version;

	if (version_out != NULL)
		*version_out = 0;
	if (rc == 0 && version < sc->latest && (rc = sc->begin(st, &conn)) == 0) {
		for (const char *const *sql = sc->lock; *sql != NULL && rc == 0; sql++)
			rc = sc->exec(conn, *sql);
		if (rc == 0)
			rc = read_version(st, conn, &version); /* under the lock: another process may have done it */
		while (rc == 0 && version < sc->latest) {
			char record[200];

			for (const char *const *sql = sc->steps[version]; *sql != NULL && rc == 0; sql++)
				rc = sc->exec(conn, *sql);
			snprintf(record, sizeof record, sc->record, version + 1, version + 1);
			if (rc == 0 && (rc = sc->exec(conn, record)) == 0)
				version++;
		}
		rc = sc->end(st, conn, rc);
	}
	if (rc != 0)
		return rc;
	if (sc->after != NULL && first < version)
		sc->after(st, first, version);
	if (version_out != NULL)
		*version_out = version;
	return 0;
}
