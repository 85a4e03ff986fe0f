/*
 * libbooking backend API — the store.
 *
 * The core decides, the store applies atomically: every write member is one
 * transaction that re-checks its guards (the store is the authority on who
 * holds a seat) and appends the outbox events it is given, so a state change
 * and its event commit together (invariant 4). Every member may be called
 * from many threads at once; a store serialises or isolates as it needs.
 *
 * Conventions: members return 0 or a negative booking_error_code and set
 * the thread's error with booking_error_set(). A member's parameters come
 * in the public calls' order: its outputs first (an array before its
 * count), then the store, then its inputs. Strings in requests are
 * borrowed for the call. Records a member returns through `out` are
 * allocated with booking_malloc() and owned by the caller (the core frees
 * them with the public booking_*_free()). Iteration members call `cb` once
 * per row; a non-zero return from `cb` stops the iteration and is returned.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_STORE_H
#define BOOKING_SYS_STORE_H

#include "../common.h"
#include "../errors.h"
#include "../options.h"
#include "../catalog.h"
#include "../reservation.h"
#include "../payment.h"
#include "../auth.h"

BOOKING_BEGIN_DECL

/**
 * 2 appended the users and token revocations members (optional); 3 gave
 * reservation_list_by_user its page (after-key and max) in place and appended
 * payment_attempts; 4 replaced the members that decided (transition,
 * pay_begin, pay_finish, refund) with apply() and idempotency_get(), in
 * place; 5 split the members into groups by concern (catalog, ledger,
 * outbox, users: one table each, versioned on its own), made
 * payment_attempts required, made the reads that named a state
 * generic: list_due became reservation_list_by_status and list_processing
 * payment_list_by_status (the status comes from the core), and
 * payment_attempts counts the status it is given; and gave the root the
 * store's clock (clock_now, optional); 6 put the outputs first in every
 * member (outputs, then the store, then the inputs, as the public calls)
 * and made the arrays of records the store exchanges (a screen's seats, a
 * showtime's prices, a reservation's seats, each seat with its position)
 * arrays of pointers (<booking/sys/records.h>). A store must declare 6:
 * booking_open() refuses one built against an older header (its members
 * would be called with the wrong arguments or records). 7 appended the
 * optional kv group (booking_store.kv); a store of version 6 is still
 * accepted and has none.
 */
#define BOOKING_STORE_VERSION 7

/** An outbox event as the store keeps it (the envelope is rendered by the core). */
typedef struct booking_event_record {
	char id[BOOKING_ID_SIZE];
	const char *type;
	const char *aggregate_type;
	char aggregate_id[BOOKING_ID_SIZE];
	int64_t sequence;       /**< assigned by the store on insert: 1 + the aggregate's last sequence */
	int64_t occurred_at;
	const char *correlation_id;
	const char *traceparent; /**< "" when none */
	const char *data_json;
	int64_t position;       /**< assigned by the store: strictly increasing in commit order (store: transport cursor) */
	bool published;         /**< relayed already (read only) */
} booking_event_record;

/** One seat row of a showtime, as stored. */
typedef struct booking_store_seat {
	char label[BOOKING_LABEL_SIZE];
	char category[BOOKING_CATEGORY_SIZE];
	booking_seat_status status;  /**< FREE, HELD (maybe expired: see hold_until), SOLD or BLOCKED (catalog version 2) */
	char reservation_id[BOOKING_ID_SIZE]; /**< holder or buyer, "" when free or blocked */
	int64_t hold_until;          /**< HELD: claimable by others once now >= hold_until */
	int64_t version;             /**< bumped on every change (fencing) */
	char note[BOOKING_CATEGORY_SIZE]; /**< catalog version 2: the note a seat write gave (a block's reason), "" when none */
} booking_store_seat;

/**
 * The claimable-seat rule, defined once: a new hold may claim a seat that is
 * FREE, or HELD by a hold whose time is up (hold_until <= now); a SOLD seat
 * never. The core uses it (seat maps, the checker); a store written in C
 * calls it; a store in SQL writes it with BOOKING_SEAT_CLAIMABLE_SQL.
 */
static inline bool booking_store_seat_claimable(booking_seat_status status, int64_t hold_until, int64_t now)
{
	return status == BOOKING_SEAT_FREE || (status == BOOKING_SEAT_HELD && hold_until <= now);
}

/**
 * booking_store_seat_claimable() in SQL over the columns `status` and
 * `hold_until` (named with `prefix`, e.g. "s.") and the SQL expression
 * `now` (e.g. "?5"), for seat statuses stored as their numbers (FREE 0,
 * HELD 1, SOLD 2).
 */
#define BOOKING_SEAT_CLAIMABLE_SQL(prefix, now) \
	"(" prefix "status = 0 OR (" prefix "status = 1 AND " prefix "hold_until <= " now "))"

/**
 * Set the thread's error for a row a store does not have, in the core's
 * words ("movie not found", "reservation not found", ...), and return `code`:
 * one of BOOKING_EMOVIE_NOT_FOUND, BOOKING_ETHEATER_NOT_FOUND,
 * BOOKING_ESCREEN_NOT_FOUND, BOOKING_ESHOWTIME_NOT_FOUND,
 * BOOKING_ERESERVATION_NOT_FOUND, BOOKING_EPAYMENT_NOT_FOUND or
 * BOOKING_ENOTFOUND ("not found"). Every not-found a store answers goes
 * through it, so the same miss reads the same on every store.
 * @return the not-found code, always: `code` when it is one of the six
 *         above, else BOOKING_ENOTFOUND.
 * Thread-safe: sets the calling thread's record.
 */
BOOKING_EXTERN(booking_error_code) booking_store_not_found(int code);

/**
 * Hold: claim seats and insert the reservation and its event, in one transaction.
 * The reservation's seats come in layout order, each with its label and its
 * position (index in the screen's layout, as seat_list() numbers the
 * showtime's seat rows from 0); the reads of a reservation give back each
 * seat's label and that position, in any order (the core orders them and
 * derives rows and numbers from the labels: a store need not keep those).
 */
typedef struct booking_store_hold {
	const booking_reservation *reservation; /**< complete record (PENDING, saga SEATS_RESERVED, version 1) */
	int64_t now;                        /**< a HELD seat with hold_until <= now is claimable */
	const booking_event_record *event;  /**< reservation.created */
	/**
	 * Ledger version 3; 0: none. Else the reservation's user may have at
	 * most this many *taken* seats in the showtime once the hold is made:
	 * the seats of the showtime whose holder is a reservation of that user
	 * and that are not claimable at `now` (booking_store_seat_claimable()),
	 * plus this hold's. More: change nothing and answer
	 * BOOKING_ELIMIT_REACHED (the core words it). Counted and claimed in
	 * one transaction, serialised per (user, showtime) with any other hold
	 * or change that carries a limit for them (two racing holds of one
	 * user must not both pass).
	 */
	size_t user_seat_limit;
	/**
	 * Ledger version 4; 0: none. Else the reservation's user may have at
	 * most this many *live holds* (in every showtime) once the hold is
	 * made: the reservations of that user whose status is `live_status`
	 * and whose expires_at > `now`, plus this one. More: change nothing
	 * and answer BOOKING_ELIMIT_REACHED with *taken_count_out 0. Counted
	 * and claimed in one transaction, serialised per user with any other
	 * hold or change that carries a hold limit for that user.
	 */
	size_t user_hold_limit;
	booking_reservation_status live_status; /**< with user_hold_limit: the status that counts (the core's PENDING) */
} booking_store_hold;

/** A user's idempotency record, as idempotency_get() reads it. */
typedef struct booking_store_idempotency_record {
	char request_hash[128];             /**< the request's fingerprint (the core's) */
	char payment_id[BOOKING_ID_SIZE];   /**< the payment it started */
	bool completed;                     /**< the payment has an outcome */
	int replay_error;                   /**< completed: what a replay answers (0: the payment) */
} booking_store_idempotency_record;


/*
 * A change: the core reads what it needs, decides, and hands the store one
 * atomic change — guards (what the decision rested on) plus writes. The
 * store applies all of it or nothing: it compares the guards with what is
 * stored and reports the first that no longer holds; it never decides what
 * a state means. The core then re-reads and decides again.
 */

/** What a guard checks. */
typedef enum booking_store_guard_kind {
	BOOKING_GUARD_RESERVATION_VERSION = 1, /**< reservation `id` exists with version == `value` */
	BOOKING_GUARD_PAYMENT_STATUS = 2,  /**< payment `id` exists with status == `value` */
	BOOKING_GUARD_SEATS_OWNED = 3,     /**< reservation `id` exists and every seat of it has status `value` and is its */
	BOOKING_GUARD_KEY_UNUSED = 4,      /**< user `id` has no idempotency record for `key` */
	/**
	 * ledger version 3: user `id` has at most `value` taken seats in
	 * showtime `key` before the change (taken as in booking_store_hold's
	 * user_seat_limit), serialised per (user, showtime) as the hold's limit
	 */
	BOOKING_GUARD_USER_SEATS = 5,
	/**
	 * ledger version 4: user `id` has at most `value` live holds before
	 * the change: reservations of that user, in any showtime, whose status
	 * is the change's `live_status` and whose expires_at > the change's
	 * `now`; serialised per user as the hold's user_hold_limit
	 */
	BOOKING_GUARD_USER_HOLDS = 6
} booking_store_guard_kind;

/**
 * The stable name of a guard kind: the constant without its prefix ("SEATS_OWNED").
 * @param kind a booking_store_guard_kind; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_store_guard_kind_name(booking_store_guard_kind kind);

/** One guard of a change: what must still hold for the change to apply. */
typedef struct booking_store_guard {
	booking_store_guard_kind kind;
	const char *id;
	int64_t value;
	const char *key;  /**< KEY_UNUSED: the idempotency key; USER_SEATS: the showtime */
} booking_store_guard;

/** A reservation row's new state; the store also sets version = version + 1. */
typedef struct booking_store_reservation_set {
	const char *id;
	booking_reservation_status status;
	booking_saga_state saga;
	int64_t updated_at;
	/* ledger version 2 (a store of version 1 is never given these) */
	int64_t expires_at;             /**< > 0: the reservation's new expires_at; 0: unchanged */
	size_t seat_count;              /**< with `seats`: how many */
	booking_seat_ref *const *seats; /**< non-NULL: the reservation's seats become these (label and position of each), and its total_amount `total_amount`; NULL: both unchanged */
	int64_t total_amount;           /**< with `seats` only */
} booking_store_reservation_set;

/**
 * A move of the seats a reservation has: every seat row of reservation `reservation_id`
 * (its showtime) whose status is `from` becomes `to` (version + 1). To
 * FREE: reservation_id cleared and hold_until 0; to HELD: hold_until = `hold_until`.
 */
typedef struct booking_store_seat_move {
	const char *reservation_id;
	booking_seat_status from;
	booking_seat_status to;
	int64_t hold_until;
} booking_store_seat_move;

/** A payment row's new state. */
typedef struct booking_store_payment_set {
	const char *id;
	booking_payment_status status;
	const char *gateway_ref;  /**< NULL: unchanged */
	const char *failure_code; /**< NULL: unchanged */
	int64_t refunded_amount;  /**< < 0: unchanged */
	int64_t updated_at;
} booking_store_payment_set;

/**
 * A payment that starts: insert the payment row and the user's idempotency
 * record for it (not completed). The store refuses a second record of
 * (user_id, idempotency_key) with BOOKING_EEXISTS.
 */
typedef struct booking_store_payment_start {
	const booking_payment *payment;     /**< the complete new row */
	const char *user_id;
	const char *idempotency_key;
	const char *request_hash;
} booking_store_payment_start;

/** The idempotency record of payment `payment_id` completed, answering `replay_error` on a replay. */
typedef struct booking_store_idempotency_set {
	const char *payment_id;
	int replay_error;
} booking_store_idempotency_set;

/** What a seat write expects of its seat before it writes (ledger version 2). */
typedef enum booking_store_seat_expect {
	/** the seat is claimable at the change's `now`: booking_store_seat_claimable(status, hold_until, now) */
	BOOKING_SEAT_EXPECT_CLAIMABLE = 1,
	/**
	 * the seat has status `expect_status` and holder `expect_reservation`
	 * (NULL or "": no holder); its hold_until is not compared
	 */
	BOOKING_SEAT_EXPECT_STATUS = 2
} booking_store_seat_expect;

/**
 * One seat of a showtime, checked and (when `write`) written by apply()
 * (ledger version 2). A seat the showtime lacks fails the check. Written:
 * status `status`, holder `reservation_id` (NULL or "": none), hold_until
 * `hold_until`, note `note` (NULL: ""), version + 1. The store gives the
 * values no meaning: the core sets hold_until 0 and no holder on a FREE
 * seat, a reason as the note of a BLOCKED one.
 */
typedef struct booking_store_seat_write {
	const char *label;
	booking_store_seat_expect expect;
	booking_seat_status expect_status;  /**< EXPECT_STATUS */
	const char *expect_reservation;     /**< EXPECT_STATUS: the holder it must have; NULL or "": none */
	bool write;                         /**< false: a guard only, nothing written */
	booking_seat_status status;
	const char *reservation_id;
	int64_t hold_until;
	const char *note;
} booking_store_seat_write;

/**
 * The idempotency record of a hold (ledger version 2): (user_id, key) now
 * names reservation `reservation_id`, completed, with the request's
 * fingerprint. It lives with the payments' records (one key names one
 * request of a user, a hold or a payment): idempotency_get() reads it back
 * with `payment_id` = the reservation's id, completed, replay_error 0. The
 * store refuses a second record of (user_id, key) with BOOKING_EEXISTS.
 */
typedef struct booking_store_key_record {
	const char *user_id;
	const char *key;
	const char *request_hash;
	const char *reservation_id;
} booking_store_key_record;

/** One atomic change for apply(): guards, then writes, all or nothing. Every pointer borrowed for the call. */
typedef struct booking_store_change {
	size_t guard_count;
	const booking_store_guard *guards;
	const booking_store_reservation_set *reservation; /**< NULL: no reservation row changes */
	const booking_store_seat_move *seats;     /**< NULL: no seat changes */
	size_t event_count;
	const booking_event_record *events;       /**< appended in order (outbox) */
	const booking_store_payment_set *payment; /**< NULL: no payment row changes */
	const booking_store_idempotency_set *idempotency; /**< NULL: no idempotency record changes */
	const booking_store_payment_start *start; /**< NULL: no payment starts */
	/*
	 * Ledger version 2: seat writes, a new reservation, a hold's key. A store
	 * of version 1 is never given these (the core leaves them zero).
	 */
	const char *showtime_id;          /**< the showtime of `seat_writes` */
	int64_t now;                      /**< EXPECT_CLAIMABLE compares hold_until with it */
	size_t seat_write_count;
	const booking_store_seat_write *seat_writes; /**< checked after the guards: seat write i failing answers failed guard `guard_count + i` */
	const booking_reservation *insert; /**< NULL: none; else a new reservation row (its seats' labels and positions) inserted: BOOKING_EEXISTS when its id exists */
	const booking_store_key_record *key; /**< NULL: none; else a hold's idempotency record inserted: BOOKING_EEXISTS when (user_id, key) has one */
	/* Ledger version 4. */
	booking_reservation_status live_status; /**< the status BOOKING_GUARD_USER_HOLDS counts */
} booking_store_change;

/** What payment_attempts() counts (for the payment attempt limits). */
typedef struct booking_store_payment_attempts {
	bool key_used;            /**< (user_id, idempotency_key) has an idempotency record */
	size_t reservation_count;     /**< payments of the reservation in `status` */
	size_t user_count;        /**< payments of the user in `status`, created at or after `since` */
} booking_store_payment_attempts;

/** An idempotency record (for booking_check()). */
typedef struct booking_store_idempotency {
	const char *user_id;
	const char *key;
	const char *payment_id;
	bool completed;
} booking_store_idempotency;

/** An inbox row (for booking_check()). */
typedef struct booking_store_inbox {
	const char *group;
	const char *event_id;
} booking_store_inbox;

/** Callbacks for scan(): each may be NULL to skip that table. */
typedef struct booking_store_scan_cbs {
	int (*showtime_seat)(const char *showtime_id, const booking_store_seat *seat, void *payload);
	int (*reservation)(const booking_reservation *reservation, void *payload);
	int (*payment)(const booking_payment *payment, void *payload);
	int (*idempotency)(const booking_store_idempotency *rec, void *payload);
	int (*event)(const booking_event_record *event, void *payload);
	int (*inbox)(const booking_store_inbox *row, void *payload);
} booking_store_scan_cbs;

/** Register a user: insert it with its password hash and its event, in one transaction. */
typedef struct booking_store_user_insert {
	const booking_user *user;          /**< complete record; email normalised (unique) */
	const char *password_hash;         /**< argon2id PHC string ("$argon2id$v=19$m=...") */
	const booking_event_record *event; /**< user.registered (aggregate "user", the user id) */
} booking_store_user_insert;

/** Receives one movie of an iteration member; `m` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_movie_cb)(const booking_movie *m, void *payload);
/** Receives one theater of an iteration member; `t` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_theater_cb)(const booking_theater *t, void *payload);
/** Receives one showtime of an iteration member; `s` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_showtime_cb)(const booking_showtime *s, void *payload);
/** Receives one seat row of an iteration member; `seat` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_seat_cb)(const booking_store_seat *seat, void *payload);
/**
 * A seat row as seat_states() hands it on (catalog version 3): what a
 * decision needs of a seat that is not in the status asked about.
 */
typedef struct booking_store_seat_state {
	char label[BOOKING_LABEL_SIZE];
	booking_seat_status status;           /**< as stored (a HELD seat may have run out: see hold_until) */
	char reservation_id[BOOKING_ID_SIZE]; /**< holder or buyer, "" when none */
	int64_t hold_until;                   /**< as stored */
	char note[BOOKING_CATEGORY_SIZE];     /**< as seat_list gives it (a block's reason), "" when none */
} booking_store_seat_state;
/** Receives one seat row of seat_states(); `seat` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration and is returned. Called on the member's calling thread. */
typedef int (*booking_store_seat_state_cb)(const booking_store_seat_state *seat, void *payload);
/** Receives one reservation of an iteration member; `b` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_reservation_cb)(const booking_reservation *b, void *payload);
/** Receives one payment of an iteration member; `p` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_payment_cb)(const booking_payment *p, void *payload);
/** Receives one outbox event of an iteration member; `e` is borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_event_cb)(const booking_event_record *e, void *payload);

/*
 * The store is split by concern into groups, each a small vtable of its
 * own with `version` first: the catalog, the ledger (seats, reservations,
 * payments), the outbox and its consumers, and users and tokens. A store
 * points at one table per group (usually `static const`, shared by every
 * instance); every member takes the store itself right after its
 * outputs (first when it has none).
 * Start each table from its *_INIT and set members by name: members are
 * appended, never reordered, in later versions of a group, and a member
 * added in version N of its group is called only when the table declares
 * version >= N. booking_store_validate() checks every table when the store
 * is opened: each group's version, and every member a group requires.
 */

/**
 * The catalog: movies, theaters, screens, showtimes and their seat rows. Required.
 * Version 2: screen_insert keeps each seat's `column` and screen_get gives
 * it back; seat rows keep the BLOCKED status and a note (seat_list and
 * scan give them). A store of version 1 loses columns (the core falls
 * back to seat numbers) and cannot block seats.
 * Version 3 appends seat_states, optional: the seat rows of a showtime
 * whose status is not a given one. The core reads the seats a decision
 * needs with it (the box office's and the seat map's: all but the FREE
 * ones), so the read grows with the seats taken, not with the venue;
 * without it the core reads every row with seat_list.
 */
#define BOOKING_STORE_CATALOG_VERSION 3
typedef struct booking_store_catalog {
	unsigned int version; /**< BOOKING_STORE_CATALOG_VERSION */
	/* inserts fail with BOOKING_EEXISTS on a duplicate id */
	int (*movie_insert)(booking_store *st, const booking_movie *m);                /**< required */
	int (*movie_get)(booking_movie **out, booking_store *st, const char *id);      /**< required; BOOKING_EMOVIE_NOT_FOUND */
	int (*movie_list)(booking_store *st, booking_store_movie_cb cb, void *payload); /**< required; by created_at */
	int (*theater_insert)(booking_store *st, const booking_theater *t);            /**< required */
	int (*theater_get)(booking_theater **out, booking_store *st, const char *id);  /**< required; BOOKING_ETHEATER_NOT_FOUND */
	int (*theater_list)(booking_store *st, booking_store_theater_cb cb, void *payload); /**< required */
	/** required: the screen and its seats; BOOKING_ETHEATER_NOT_FOUND when its theater is missing. */
	int (*screen_insert)(booking_store *st, const booking_screen *s);
	int (*screen_get)(booking_screen **out, booking_store *st, const char *id);    /**< required; BOOKING_ESCREEN_NOT_FOUND */
	/**
	 * required: the showtime, and one FREE seat row per seat of its screen
	 * (with the screen's categories), in one transaction.
	 * BOOKING_EMOVIE_NOT_FOUND / BOOKING_ESCREEN_NOT_FOUND when they are missing.
	 */
	int (*showtime_insert)(booking_store *st, const booking_showtime *s);
	int (*showtime_get)(booking_showtime **out, booking_store *st, const char *id); /**< required; BOOKING_ESHOWTIME_NOT_FOUND */
	/** required: showtimes of `movie_id` (NULL: all) by starts_at. */
	int (*showtime_list)(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload);
	/** required: the seat rows of a showtime in layout order; BOOKING_ESHOWTIME_NOT_FOUND. */
	int (*seat_list)(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload);
	/**
	 * optional since version 3: one consistent read of the seat rows of the
	 * showtime whose status is not `except`, in any order, each once; the
	 * others are not handed on. A showtime the store does not have has no
	 * such rows (0, nothing handed on). The store compares the status it
	 * is given; it decides nothing about what a status means.
	 */
	int (*seat_states)(booking_store *st, const char *showtime_id, booking_seat_status except,
	                   booking_store_seat_state_cb cb, void *payload);
} booking_store_catalog;

/**
 * The ledger: seats held and sold, reservations, payments and their idempotency records. Required.
 * Version 2: apply() takes seat writes, a new reservation and a hold's key
 * (booking_store_change), and a reservation's new expiry, seats and total
 * (booking_store_reservation_set); reservation_list_by_showtime is
 * required. The box office (best available, extend, change, blocks,
 * idempotent holds, door lists) needs it: on a store of version 1 those
 * calls answer BOOKING_ENOTSUPPORTED.
 * Version 3: per-buyer limits: booking_store_hold's user_seat_limit and
 * the guard BOOKING_GUARD_USER_SEATS. On a store of version 2 or less the
 * per-buyer limit is not enforced (it cannot be decided in the hold's own
 * transaction there).
 * Version 4: the live-hold limit: booking_store_hold's user_hold_limit and
 * live_status, the guard BOOKING_GUARD_USER_HOLDS and the change's
 * live_status. On a store of version 3 or less it is not enforced.
 */
#define BOOKING_STORE_LEDGER_VERSION 4
typedef struct booking_store_ledger {
	unsigned int version; /**< BOOKING_STORE_LEDGER_VERSION */
	/**
	 * required: one transaction: every requested seat must exist and be
	 * claimable (booking_store_seat_claimable()); claim them all (HELD by
	 * the reservation until its expires_at, version+1), insert the reservation and
	 * the event. Otherwise change nothing and name the seats that refused
	 * the hold in `taken_out` (caller's array of the reservation's seat_count
	 * entries) with their number in `*taken_count_out`: the labels the
	 * showtime does not have, with BOOKING_EVALIDATION, else the taken
	 * ones, with BOOKING_ESEAT_ALREADY_BOOKED. The message need say
	 * nothing: the core words both refusals.
	 */
	int (*hold)(booking_seat_ref *taken_out, size_t *taken_count_out, booking_store *st, const booking_store_hold *req);
	/** required: the reservation, each seat with its label and position; BOOKING_ERESERVATION_NOT_FOUND */
	int (*reservation_get)(booking_reservation **out, booking_store *st, const char *id);
	/**
	 * required: reservations of a user, newest first by (created_at, id) both
	 * descending (ids compared bytewise), at most `max` of them. When
	 * `after_id` is not NULL, only those strictly after the key
	 * (after_created_at, after_id) in that order: created_at <
	 * after_created_at, or equal and id < after_id. The core pages with
	 * this (it asks one row more than a page to learn whether another
	 * follows), so a store must not read more rows than it returns: an
	 * index on (user_id, created_at, id) serves it.
	 */
	int (*reservation_list_by_user)(booking_store *st, const char *user_id, int64_t after_created_at,
	                            const char *after_id, size_t max, booking_store_reservation_cb cb, void *payload);
	/**
	 * required: apply `change` in one transaction, all or nothing. When a
	 * guard does not hold (a reservation or payment missing, or at another
	 * version or status), change nothing and return BOOKING_EINVALID_STATE
	 * with the guard's index in *failed_guard_out (may be NULL); no message
	 * is needed: the core re-reads and decides what to answer. The core
	 * guards every row it writes; a write naming a row that does not exist
	 * is the caller's mistake, which a store may refuse (NOT_FOUND codes) or
	 * ignore. A `start` whose (user, key) already has a record, or whose
	 * payment id exists, is BOOKING_EEXISTS (a twin request won the race).
	 *
	 * Version 2: after the guards, every seat write's expectation is
	 * checked (seat write i failing is failed guard `guard_count + i`), then
	 * everything is written: the inserted reservation and the hold's key
	 * (BOOKING_EEXISTS, nothing written, when either exists), the payment
	 * start, the reservation set (with its expiry, seats and total when
	 * given), the seat move (over the seats the reservation has after the
	 * set; the core never gives both a move and new seats), the seat
	 * writes, the payment, the idempotency completion, the events.
	 */
	int (*apply)(size_t *failed_guard_out, booking_store *st, const booking_store_change *change);
	/**
	 * required: reservations in `status` with expires_at <= `expires_before`,
	 * oldest expires_at first, at most `max`. A read: the core says which
	 * status it wants (the expiry sweep asks for PENDING reservations whose
	 * hold ran out). An index led by (status, expires_at) serves it.
	 */
	int (*reservation_list_by_status)(booking_store *st, booking_reservation_status status, int64_t expires_before, size_t max,
	                              booking_store_reservation_cb cb, void *payload);
	/**
	 * required: the idempotency record of (user_id, key), or
	 * BOOKING_ENOTFOUND. Starting a payment, its outcome and a refund are
	 * changes the core decides: apply().
	 */
	int (*idempotency_get)(booking_store_idempotency_record *out, booking_store *st, const char *user_id,
	                       const char *key);
	int (*payment_get)(booking_payment **out, booking_store *st, const char *id); /**< required; BOOKING_EPAYMENT_NOT_FOUND */
	/**
	 * required: payments in `status` with created_at <= `created_before`,
	 * oldest created_at first, at most `max`. A read: the core says which
	 * status it wants (recovery asks for PROCESSING ones). An index led by
	 * (status, created_at) serves it.
	 */
	int (*payment_list_by_status)(booking_store *st, booking_payment_status status, int64_t created_before,
	                              size_t max, booking_store_payment_cb cb, void *payload);
	/**
	 * required, a read: whether the user's idempotency key has a record,
	 * and how many payments in `status` the reservation has and the user has
	 * created at or after `since` (UTC ms). The core says which status
	 * counts (FAILED) and decides what the counts allow (the payment
	 * attempt limits).
	 */
	int (*payment_attempts)(booking_store_payment_attempts *out, booking_store *st, const char *user_id,
	                        const char *idempotency_key, const char *reservation_id, booking_payment_status status,
	                        int64_t since);
	/**
	 * required since version 2: reservations of a showtime, in `status`
	 * (0: any), in the order and with the paging of reservation_list_by_user
	 * (newest first by (created_at, id), strictly after the key when
	 * `after_id` is not NULL, at most `max`). An index led by (showtime_id,
	 * created_at) serves it.
	 */
	int (*reservation_list_by_showtime)(booking_store *st, const char *showtime_id, booking_reservation_status status,
	                                    int64_t after_created_at, const char *after_id, size_t max,
	                                    booking_store_reservation_cb cb, void *payload);
} booking_store_ledger;

/** The outbox and its consumers: events, cursors, inbox, dead letters. Required. */
#define BOOKING_STORE_OUTBOX_VERSION 1
typedef struct booking_store_outbox {
	unsigned int version; /**< BOOKING_STORE_OUTBOX_VERSION */
	/** required: unpublished events by position, at most `max`. */
	int (*outbox_unpublished)(booking_store *st, size_t max, booking_store_event_cb cb, void *payload);
	/** required: mark events published (unknown ids are ignored). */
	int (*outbox_mark_published)(booking_store *st, const char *const *event_ids, size_t n);
	/**
	 * required: events with position > after, by position, at most `max`
	 * (the `store:` transport). Positions must never be seen out of order:
	 * an event committed later must not get a smaller position than one a
	 * reader could already see.
	 */
	int (*outbox_read)(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *payload);
	/** required: a consumer group's cursor (0 when new). */
	int (*cursor_get)(int64_t *position_out, booking_store *st, const char *group);
	/** required: move the cursor from `expected` to `position`; BOOKING_EINVALID_STATE if it was not `expected`. */
	int (*cursor_advance)(booking_store *st, const char *group, int64_t expected, int64_t position);
	/** required: has `group` applied `event_id`? */
	int (*inbox_seen)(bool *seen_out, booking_store *st, const char *group, const char *event_id);
	/** required: record that `group` applied `event_id`; BOOKING_EEXISTS if it was already recorded. */
	int (*inbox_mark)(booking_store *st, const char *group, const char *event_id, int64_t now);
	/** required: park an event that failed too often. Idempotent per (group, event_id). */
	int (*dead_letter_put)(booking_store *st, const char *group, const char *event_id, const char *reason,
	                       const char *envelope_json, int64_t now);
	/** required: dead letters of `group` (NULL: all), oldest first. */
	int (*dead_letter_list)(booking_store *st, const char *group,
	                        int (*cb)(const char *group, const char *event_id, const char *reason,
	                                  const char *envelope_json, int64_t dead_at, void *payload),
	                        void *payload);
} booking_store_outbox;

/**
 * Users and token revocations. Optional as a group: a store without
 * accounts leaves booking_store.users NULL (the core answers
 * BOOKING_ENOTSUPPORTED to the calls that need it); a store that has the
 * group implements every member of it.
 */
#define BOOKING_STORE_USERS_VERSION 1
typedef struct booking_store_users {
	unsigned int version; /**< BOOKING_STORE_USERS_VERSION */
	/**
	 * required: one transaction: insert the user, its
	 * password hash and the event. BOOKING_EEXISTS (nothing written) when
	 * the email or the id is taken. Emails are compared byte for byte: the
	 * core normalises them.
	 */
	int (*user_insert)(booking_store *st, const booking_store_user_insert *req);
	/**
	 * required: a user by id into `user_out`; BOOKING_ENOTFOUND.
	 * `password_hash_out` may be NULL; otherwise the caller owns the
	 * string (booking_free()). The record follows the layout rule: one
	 * booking_malloc'd struct, `email` its own block.
	 */
	int (*user_get)(booking_user **user_out, char **password_hash_out, booking_store *st, const char *id);
	/** required: as user_get, by normalised email; BOOKING_ENOTFOUND. */
	int (*user_get_by_email)(booking_user **user_out, char **password_hash_out, booking_store *st,
	                         const char *email);
	/**
	 * required: replace the user's password hash, only
	 * if it still is `expected_hash` (NULL: unconditionally), and set
	 * updated_at = now. BOOKING_ENOTFOUND; BOOKING_EINVALID_STATE when the
	 * hash changed meanwhile (nothing written).
	 */
	int (*user_set_password_hash)(booking_store *st, const char *id, const char *expected_hash, const char *new_hash,
	                              int64_t now);
	/**
	 * required: remember that the token `jti` (1..128
	 * bytes) is revoked until `expires_at` (UTC ms) — the core passes the
	 * token's exp plus BOOKING_JWT_LEEWAY_MAX_SECONDS, the moment no verifier
	 * could accept it any more, so the store just keeps the row that long.
	 * Idempotent: revoking again keeps the later expiry. In the same call,
	 * forget revocations whose expires_at <= now, so the table stays as
	 * small as the number of revoked tokens still acceptable somewhere.
	 */
	int (*token_revoke)(booking_store *st, const char *jti, int64_t expires_at, int64_t now);
	/** required: *revoked_out = `jti` was revoked with expires_at > now. */
	int (*token_is_revoked)(bool *revoked_out, booking_store *st, const char *jti, int64_t now);
} booking_store_users;

/**
 * A record of the kv group: small text under (namespace, key), with a
 * version for compare-and-set, an order and an expiry. The core keeps in
 * it what no other table holds (waiting lists, rate-limit state); the
 * store gives the values no meaning.
 */
typedef struct booking_store_kv_record {
	char *value;        /**< kv_get, kv_list: the text (kv_get: booking_malloc'd, the caller frees it; kv_list: borrowed) */
	int64_t version;    /**< 1 when inserted, + 1 on every put; 0: absent */
	int64_t rank;       /**< kv_list's order (then the key, bytewise) */
	int64_t expires_at; /**< UTC ms; 0: never. A record with 0 < expires_at <= now is absent */
} booking_store_kv_record;

/** A put of the kv group: compare-and-set one record, and append events, in one transaction. */
typedef struct booking_store_kv_put {
	const char *ns;           /**< 1..64 bytes */
	const char *key;          /**< 1..200 bytes */
	int64_t expected_version; /**< the live version the put rests on; 0: the record must be absent (or expired) */
	const char *value;        /**< NULL: delete the record; else 0..4096 bytes of text */
	int64_t rank;
	int64_t expires_at;       /**< 0: never */
	int64_t now;              /**< which records are expired */
	size_t event_count;
	const booking_event_record *events; /**< appended in order (outbox), with the write */
} booking_store_kv_put;

/** Receives one record of kv_list; `key` and `rec` are borrowed for the call, `payload` is the member's. Non-zero stops the iteration. Called on the member's calling thread. */
typedef int (*booking_store_kv_cb)(const char *key, const booking_store_kv_record *rec, void *payload);

/**
 * Keyed records with compare-and-set (store version 7). Optional as a
 * group: a store without it leaves booking_store.kv NULL (the waiting list
 * answers BOOKING_ENOTSUPPORTED; rate limits need a lock manager with
 * registers instead); a store that has it implements every member.
 */
#define BOOKING_STORE_KV_VERSION 1
typedef struct booking_store_kv {
	unsigned int version; /**< BOOKING_STORE_KV_VERSION */
	/**
	 * required: the live record (ns, key) into `out` (value allocated
	 * with booking_malloc(), the caller frees it); BOOKING_ENOTFOUND (out
	 * zeroed) when there is none, or it expired (0 < expires_at <= now).
	 */
	int (*kv_get)(booking_store_kv_record *out, booking_store *st, const char *ns, const char *key, int64_t now);
	/**
	 * required: one transaction: when the record's live version (0 when
	 * absent or expired) is req->expected_version, write it — a NULL
	 * value deletes it, else value, rank and expires_at with version
	 * expected_version + 1 — append the events, and return 0 with
	 * *version_out the record's new version (0 after a delete).
	 * Otherwise write nothing and return BOOKING_EINVALID_STATE with
	 * *version_out the live version. `version_out` may be NULL. In the
	 * same transaction it deletes some records (of any namespace) that
	 * expired, at most a few dozen, so expired records cost no memory for
	 * long.
	 */
	int (*kv_put)(int64_t *version_out, booking_store *st, const booking_store_kv_put *req);
	/** required: the live records of `ns` by (rank, key) ascending, at most `max`. */
	int (*kv_list)(booking_store *st, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *payload);
} booking_store_kv;

/**
 * A store: the root vtable of a backend that keeps the data. Embed it as the
 * first member of the backend's struct; handing it to the core
 * (booking_options.store, a constructor's `out`) transfers ownership.
 */
struct booking_store {
	unsigned int version; /**< BOOKING_STORE_VERSION */

	/** required: close connections and free the store. */
	void (*free)(booking_store *st);

	/**
	 * required: create or upgrade the schema, idempotently and safely when
	 * several processes do it at once. BOOKING_ESCHEMA when the data was
	 * written by a newer schema. `version_out` may be NULL.
	 */
	int (*migrate)(int *version_out, booking_store *st);

	/**
	 * optional: the store's clock, for a store that many hosts share:
	 * *now_ms_out = the server's time now, in UTC milliseconds since the
	 * epoch, in one short round trip (no lock, no transaction left open).
	 * NULL: the host's clock is the deployment's (a store on one machine:
	 * memory, SQLite).
	 *
	 * When the host injected no clock (booking_options.clock NULL), the
	 * core reads it at open and every few seconds after, and every
	 * decision that rests on time (which holds are claimable, when a new
	 * hold expires, whether a payment comes too late, the expiry sweep,
	 * stuck payments, tokens) follows the store's clock instead of the
	 * host's: doc/rulebook.md, "One clock per deployment". It is called
	 * from a thread of the core's own, concurrently with other members.
	 */
	int (*clock_now)(int64_t *now_ms_out, booking_store *st);

	/** required (integrity): walk every table for booking_check(), in one consistent snapshot where the backend can. */
	int (*scan)(booking_store *st, const booking_store_scan_cbs *cbs, void *payload);

	const booking_store_catalog *catalog; /**< required */
	const booking_store_ledger *ledger;   /**< required */
	const booking_store_outbox *outbox;   /**< required */
	const booking_store_users *users;     /**< optional: NULL when the store keeps no accounts */
	const booking_store_kv *kv;           /**< optional (version 7): NULL when the store keeps no kv records */
};

#ifdef __cplusplus
/* C++17 has no designated initialisers: value-initialise, then set the version. */
extern "C++" {
template <typename T> static inline T booking__store_group_init(unsigned int version)
{
	T v = {};
	v.version = version;
	return v;
}
}
#define BOOKING_STORE_CATALOG_INIT booking__store_group_init<booking_store_catalog>(BOOKING_STORE_CATALOG_VERSION)
#define BOOKING_STORE_LEDGER_INIT booking__store_group_init<booking_store_ledger>(BOOKING_STORE_LEDGER_VERSION)
#define BOOKING_STORE_OUTBOX_INIT booking__store_group_init<booking_store_outbox>(BOOKING_STORE_OUTBOX_VERSION)
#define BOOKING_STORE_USERS_INIT booking__store_group_init<booking_store_users>(BOOKING_STORE_USERS_VERSION)
#define BOOKING_STORE_KV_INIT booking__store_group_init<booking_store_kv>(BOOKING_STORE_KV_VERSION)
#define BOOKING_STORE_INIT booking__store_group_init<booking_store>(BOOKING_STORE_VERSION)
#else
#define BOOKING_STORE_CATALOG_INIT {.version = BOOKING_STORE_CATALOG_VERSION}
#define BOOKING_STORE_LEDGER_INIT {.version = BOOKING_STORE_LEDGER_VERSION}
#define BOOKING_STORE_OUTBOX_INIT {.version = BOOKING_STORE_OUTBOX_VERSION}
#define BOOKING_STORE_USERS_INIT {.version = BOOKING_STORE_USERS_VERSION}
#define BOOKING_STORE_KV_INIT {.version = BOOKING_STORE_KV_VERSION}
#define BOOKING_STORE_INIT {.version = BOOKING_STORE_VERSION}
#endif

/**
 * Open a store by URL ("memory:", "sqlite:///path", "sqlite::memory:",
 * "postgresql://...", or a scheme registered with booking_backend_register(),
 * sys/registry.h). The store's settings (pool size, timeouts and the like)
 * are the URL's parameters (doc/backends.md). `clock` is handed to the
 * scheme's constructor (borrowed; NULL: the system clock). What the
 * constructor returns is checked with booking_store_validate().
 * @param out set to the store (caller owns; free it with its `free`
 *            member); NULL after a failure.
 * @param url the store's URL; borrowed for the call.
 * @param clock handed to the constructor; borrowed, must outlive the store; NULL: the system clock.
 * Thread-safe.
 * @return 0, BOOKING_EVALIDATION (unknown scheme, bad URL or parameter, or an
 *         invalid store), BOOKING_ENOTSUPPORTED (backend not built),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 */
BOOKING_EXTERN(booking_error_code) booking_store_open(booking_store **out, const char *url, const booking_clock *clock);

/**
 * Check that `st` has a version the core knows and every required member,
 * in the root and in each group table.
 * @param st the store; borrowed; NULL is refused.
 * @return 0, or BOOKING_EVALIDATION (the message names the version or the
 *         member at fault). Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_store_validate(const booking_store *st);

BOOKING_END_DECL

#endif
