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
static int read_version(const sql_schema *sc, void *conn, int *version)
{
	int rc = sc->version(conn, version);

	if (rc == 0 && *version > sc->latest)
		return booking_error_set(BOOKING_ESCHEMA, NULL,
		                         "database schema version %d is newer than this libbooking (%d)", *version,
		                         sc->latest);
	return rc;
}

/* Run the NULL-terminated statements `sql` on `conn`; the first error stops. */
static int exec_all(const sql_driver *d, void *conn, const char *const *sql)
{
	int rc = 0;

	for (; *sql != NULL && rc == 0; sql++)
		rc = d->exec(conn, *sql);
	return rc;
}

int sql_migrate(int *version_out, booking_store *bst)
{
	sql_store *st = (sql_store *)bst;
	const sql_driver *d = st->driver;
	const sql_schema *sc = d->schema;
	void *conn = NULL;
	int version = 0;
	int rc = d->acquire(st, &conn);
	int first;

	if (version_out != NULL)
		*version_out = 0;
	if (rc == 0)
		rc = read_version(sc, conn, &version); /* the usual case: up to date, one read */
	first = version;
	if (rc == 0 && version < sc->latest && (rc = exec_all(d, conn, sc->lock)) == 0) {
		rc = read_version(sc, conn, &version); /* under the lock: another process may have done it */
		while (rc == 0 && version < sc->latest) {
			char record[200];

			rc = exec_all(d, conn, sc->steps[version]);
			snprintf(record, sizeof record, sc->record, version + 1, version + 1);
			if (rc == 0 && (rc = d->exec(conn, record)) == 0)
				version++;
		}
		if (rc == 0)
			rc = d->exec(conn, "COMMIT");
	}
	if (conn != NULL)
		d->release(st, conn); /* on an error, the pool rolls back */
	if (rc != 0)
		return rc;
	if (sc->after != NULL && first < version)
		sc->after(st, first, version);
	if (version_out != NULL)
		*version_out = version;
	return 0;
}
