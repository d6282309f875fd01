/*-------------------------------------------------------------------------
 *
 * queue.h
 *		Declarations shared by the files of the queue extension.
 *
 * A queue is a row in queue.registry plus five tables of its own in the
 * schema queue (catalog.c): q_<name> (messages), dl_<name> (dead letters),
 * a_<name> (archive of acked messages when the queue has a retention),
 * k_<name> (idempotency keys) and p_<name> (producer sequence numbers).
 * The hot path (send, read, ack, nack, extend, pop) works on the heap
 * directly (direct.c), or else runs SPI plans prepared once per backend and
 * queue (plan_cache.c).  DESIGN.md describes the whole.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "postgres.h"

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* Longest queue name: every derived table name must fit in NAMEDATALEN */
#define QUEUE_NAME_MAXLEN	48

/*
 * Longest span of a queue option (visibility_timeout, retry delays,
 * dedup_window, retention, message_ttl) and of a nack's backoff, in years:
 * the worker subtracts them from clock_timestamp(), which must stay in
 * range.  SQL reads it through queue._max_span().
 */
#define QUEUE_MAX_SPAN_YEARS	100

/* The hash of a queue's message table in shared-memory tables keyed by
 * database and table (counters.c, deliveries.c, wait.c) */
static inline uint32
queue_table_hash(Oid dbid, Oid relid)
{
	return hash_combine(hash_bytes_uint32(dbid), hash_bytes_uint32(relid));
}

/* GUCs (queue.c) */
extern int	queue_max_message_size;
extern int	queue_max_batch;
extern int	queue_max_wait;
extern int	queue_worker_interval;
extern int	queue_worker_batch;
extern bool queue_worker_enabled;
extern bool queue_preloaded;

/* The statements of one queue, prepared lazily (see plan_cache.c) */
typedef enum QueuePlanKind
{
	QPLAN_SEND,
	QPLAN_SEND_BATCH,
	QPLAN_READ,
	QPLAN_POP,
	QPLAN_ACK,
	QPLAN_ACK_RECEIPT,
	QPLAN_ACK_ARRAY,
	QPLAN_NACK_LOCK,
	QPLAN_NACK_RETRY,
	QPLAN_DEAD_LETTER,
	QPLAN_EXTEND,
	QPLAN_CLAIM_KEY,
	QPLAN_KEY_ID,
	QPLAN_CLAIM_SEQ,
	QPLAN_SEQ_ID,
	QPLAN_SEQ_SET_ID,
	QPLAN_COUNT
} QueuePlanKind;

/* What a backend knows about one queue: its options and its plans */
typedef struct QueueEntry
{
	char		name[NAMEDATALEN];	/* hash key: the queue name */
	bool		valid;			/* false once an invalidation hit it */
	Oid			relid;			/* OID of queue.q_<name> */
	Interval	visibility_timeout;
	int32		max_deliveries;
	Interval	retry_delay;
	Interval	retry_delay_max;
	Interval	dedup_window;
	bool		has_retention;
	int32		group_limit;	/* max_in_flight_per_group; 0: none (1: ordered) */
	bool		paused;			/* queue.pause: reads and pops take nothing */
	char		dead_letter_queue[NAMEDATALEN]; /* "": its own dead letters */
	bool		has_ttl;		/* message_ttl is set: */
	Interval	message_ttl;	/* a message expires this long after enqueued_at */
	/* direct table access (direct.c): -1 not known yet, 0 no, 1 yes */
	int			direct_ok;
	Oid			seqid;			/* identity sequence of id */
	Oid			index_oids[3];	/* DIRECT_PKEY, DIRECT_PRIORITY, DIRECT_GROUP */
	SPIPlanPtr	plans[QPLAN_COUNT];
	/* the privileges of acl_user on the queue (acl.c), while
	 * acl_generation is current (0: never) */
	Oid			acl_user;
	uint64		acl_generation;
	int			acl_mask;
} QueueEntry;

/* acl.c */
typedef enum QueuePrivilege
{
	QPRIV_SEND,
	QPRIV_CONSUME,
	QPRIV_MANAGE
} QueuePrivilege;

extern void queue_acl_init(void);
extern void queue_require(QueueEntry *entry, QueuePrivilege priv);
extern void queue_require_relid(Oid relid, QueuePrivilege priv);
extern const char *queue_relid_name(Oid relid);
extern Oid	queue_extension_owner(void);

/* plan_cache.c */
extern void queue_plan_cache_init(void);
extern QueueEntry *queue_lookup(const char *name);
extern QueueEntry *queue_lookup_for(const char *name, QueuePrivilege priv,
									 bool lock);
extern SPIPlanPtr queue_plan(QueueEntry *entry, QueuePlanKind kind);

/* catalog.c */
extern void queue_relname(char *buf, const char *prefix, const char *name);
extern Oid	queue_table_oid(const char *name);

/* validate.c */
extern char *queue_name_arg(FunctionCallInfo fcinfo, int argno);
extern void queue_check_name(const char *name, const char *what);
extern int32 queue_quantity_arg(FunctionCallInfo fcinfo, int argno, int32 dflt);
extern int	queue_array_length_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern int	queue_batch_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern Interval *queue_interval_arg(FunctionCallInfo fcinfo, int argno,
									const char *argname);
extern void queue_check_body(Datum body, const char *argname);
extern void queue_check_headers(Datum headers, const char *argname);
/* the header that holds a message's own expiry (send's ttl) */
#define QUEUE_EXPIRES_HEADER "queue_expires_at"
extern bool queue_header_expiry(Datum headers, TimestampTz *at);

/* spi_util.c */
extern int	queue_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls,
						   bool read_only, long count, int expected,
						   const char *what);
extern void queue_spi_init(void);
extern void queue_spi_connect(void);
extern void queue_spi_finish(void);

/* counters.c */
extern void queue_counters_shmem_request(void);
extern void queue_counters_shmem_startup(void);
extern void queue_counters_init(void);
extern void queue_count_sent(Oid relid, int64 n);
extern void queue_count_acked(Oid relid, int64 n);
extern void queue_count_dead(Oid relid, int64 n);
extern void queue_count_visible(Oid relid, int64 n);
extern void queue_note_sweep(Oid relid, TimestampTz due);
extern TimestampTz queue_pending_sweep_due(Oid relid);
extern void queue_note_expiry(Oid relid, TimestampTz at, bool own);
extern int	queue_slot_relids(Oid **relids);
extern void queue_read_totals(Oid relid, int64 *sent, int64 *acked, int64 *dead);

/*
 * sweep.c: the worker's schedule of a queue, kept in the queue's counter
 * slot
 */
typedef struct QueueSchedule
{
	pg_atomic_uint64 sweep_due; /* TimestampTz; PG_INT64_MAX: nothing due */
	pg_atomic_uint64 swept_at;	/* TimestampTz of the last sweep taken */
	pg_atomic_uint64 swept_changes; /* table_changes() + 1 then; 0: unknown */
	pg_atomic_uint32 housekeep;	/* archive, keys or producers may hold rows */
	pg_atomic_uint64 expire_at; /* TimestampTz: a message may expire then */
	pg_atomic_uint32 expiry_headers;	/* 0: no message has its own expiry */
} QueueSchedule;

extern QueueSchedule *queue_schedule_slot(Oid relid, bool create);	/* counters.c */
extern void queue_schedule_init(QueueSchedule *s);
extern void queue_schedule_reset(QueueSchedule *s);
extern void queue_schedule_note(QueueSchedule *s, TimestampTz sweep_due,
								TimestampTz expire_at);
extern void queue_sweep_xact_end(bool aborted);
extern void queue_sweep_subxact_end(int level, bool aborted);
extern bool queue_sweep_take(Oid relid);
extern int64 queue_table_changes(Oid relid);
extern bool queue_housekeeping(Oid relid, int set);
extern void queue_expiry_headers_mark(Oid relid);
extern uint32 queue_expiry_headers(Oid relid);
extern bool queue_expiry_due(Oid relid, TimestampTz now);

/*
 * measure.c: the counts of queue.stats as of the worker's last measurement,
 * kept in the queue's counter slot
 */
typedef struct QueueMeasure
{
	slock_t		mutex;			/* for every field */
	TimestampTz as_of;			/* when measured; 0: never */
	int64		ready;
	int64		in_flight;
	int64		delayed;
	int64		dead;
	int64		archived;
	TimestampTz oldest_ready;	/* enqueued_at of the oldest ready; DT_NOEND: none */
	TimestampTz next_change;	/* first visible_at after as_of; DT_NOEND: none */
	int64		changes;		/* queue_table_changes() when it began */
	int64		changes_due;	/* ... of the measurement under way */
	int64		cost;			/* what it took (microseconds) */
} QueueMeasure;

extern QueueMeasure *queue_measure_slot(Oid relid, bool create);	/* counters.c */
extern void queue_measure_reset(QueueMeasure *m);
extern bool queue_measure_due(Oid relid, TimestampTz now);
extern int	queue_stats_interval;

/* position.c: where reads start (one per queue, in its counter slot) */
#define POSITION_MARKERS		32	/* senders taking ids at once, per queue */
#define POSITION_REWIND_RING	8	/* rewinds a read can see made meanwhile */

typedef struct QueuePosition
{
	slock_t		mutex;			/* for the fields up to reset_at */
	int64		head;			/* every row below is dead */
	int64		ready;			/* no row below can be taken now */
	uint64		rewinds;		/* how many times ready moved back */
	int64		rewound[POSITION_REWIND_RING];	/* to where, by number */
	TimestampTz rescan_at;		/* a row below ready is visible again then */
	TimestampTz reset_at;		/* last start from head */
	pg_atomic_uint64 max_id;	/* highest id taken (0: not known) */
	pg_atomic_uint32 overflow;	/* senders without a marker */
	pg_atomic_uint64 sending[POSITION_MARKERS]; /* lowest id each holds */
} QueuePosition;

/* One read's view of a position (see position.c) */
typedef struct ReadPosition
{
	QueuePosition *pos;			/* NULL: no position, start at the beginning */
	int64		start;			/* the first id to look at */
	uint64		rewinds;		/* pos->rewinds when the read began */
	bool		from_head;		/* start is head: head may move too */
	TimestampTz rescan_at;		/* when passed rows become visible again */
	int64		cap;			/* no id from here on can be passed */
	bool		may_move;		/* this read may move the position */
	bool		moving;			/* every row so far could be passed */
	bool		head_moving;	/* every row so far was dead */
	int64		ready_to;		/* ready may move up to here */
	int64		head_to;		/* head may move up to here */
	TimestampTz min_visible;	/* earliest visible_at of the rows passed */
} ReadPosition;

extern void queue_position_init(QueuePosition *pos);
extern void queue_position_reset(QueuePosition *pos);
extern void queue_position_set_frozen_flag(pg_atomic_uint32 *flag);
extern QueuePosition *queue_position_slot(Oid relid, bool create);
extern int	queue_sending_begin(Oid relid);
extern void queue_sending_id(Oid relid, int64 id);
extern void queue_sending_end(int handle);
extern void queue_sending_abort(int nest_level);
extern void queue_position_rewind(Oid relid, int64 id, bool with_head);
extern void queue_position_rescan_at(Oid relid, TimestampTz at);
extern void queue_position_begin(ReadPosition *rp, Oid relid, Relation rel,
								 Relation pkey, TimestampTz now);
extern void queue_position_pass(ReadPosition *rp, int64 id, bool can_pass,
								bool live, TimestampTz visible_at);
extern void queue_position_end(ReadPosition *rp, bool exhausted);
/* counters.c: noted now, applied at commit */
extern void queue_note_rewind(Oid relid, int64 id, bool with_head);
extern void queue_note_rescan(Oid relid, TimestampTz at);
extern bool queue_deleted_in_xact(Oid relid);
extern void queue_pending_position(Oid relid, int64 *rewind_to,
								   TimestampTz *rescan_at);

/* direct.c: table access without planning a statement */
#define DIRECT_PKEY		0		/* primary key on id */
#define DIRECT_PRIORITY	1		/* (priority DESC, id) WHERE priority <> 0 */
#define DIRECT_GROUP	2		/* (group_key, id) WHERE group_key IS NOT NULL */
#define DIRECT_NINDEXES	3

typedef struct DirectTable
{
	Relation	rel;
	bool		with_indexes;
	Relation	indexes[DIRECT_NINDEXES];	/* open ones (with_indexes) */
	Oid			index_oids[DIRECT_NINDEXES];	/* to open the others */
	Snapshot	snapshot;		/* registered; set by direct_snapshot */
} DirectTable;

/* attribute numbers of a message table, as queue.create makes it */
#define MSG_ID				0
#define MSG_BODY			1
#define MSG_HEADERS			2
#define MSG_DELIVERY_COUNT	3
#define MSG_ENQUEUED_AT		4
#define MSG_VISIBLE_AT		5
#define MSG_GROUP_KEY		6
#define MSG_IDEMPOTENCY_KEY 7
#define MSG_PRIORITY		8
#define MSG_LEASED			9
#define MSG_NATTS			10

extern bool direct_open(QueueEntry *entry, bool with_indexes, DirectTable *dt);
extern void direct_snapshot(DirectTable *dt);
extern void direct_index_insert(DirectTable *dt, Datum *values, bool *nulls,
								ItemPointer tid, bool update);
extern void direct_close(DirectTable *dt);
extern void direct_close_ext(DirectTable *dt, bool release);
extern TimestampTz queue_now(void);

/* deliveries.c */
extern void queue_deliveries_shmem_request(void);
extern void queue_deliveries_shmem_startup(void);
extern void queue_deliveries_init(void);
extern void queue_note_delivery(Oid relid, int64 id, int32 taken, bool count_failure,
								int32 count);
extern int32 queue_pending_failures(Oid relid, int64 id, int32 count, bool take);
extern void queue_pending_restore(Oid dbid, Oid relid, int64 id, int32 count);
extern int64 queue_failures_dropped(void);

/* journal.c */
extern void queue_journal_note(Oid relid, int64 id, int32 count);
extern void queue_journal_flush(void);
extern void queue_journal_end_xact(void);
extern void queue_journal_load(void);

/* wait.c */
extern void queue_wait_shmem_request(void);
extern void queue_wait_shmem_startup(void);
extern void queue_wake_waiters(Oid relid, int64 n);
extern void queue_wait_check(void);
extern void queue_wait_begin(Oid relid);
extern void queue_wait_sleep(Oid relid, long timeout_ms);
extern void queue_wait_end(void);
extern bool queue_has_sleepers(Oid relid);

/* placement.c */
extern void queue_placement_init(void);
extern void queue_report_missing(const char *name) pg_attribute_noreturn();
extern void queue_report_missing_as(const char *name, const char *what) pg_attribute_noreturn();
extern void queue_placement_check_utility(Node *stmt);

/* prepared.c */
extern void queue_prepared_shmem_request(void);
extern void queue_prepared_shmem_startup(void);
extern void queue_prepared_init(void);
extern void queue_prepared_keep(Oid relid, int64 n, int64 rewind_to,
								bool rewind_head, TimestampTz rescan_at,
								bool own_expiry);

/* worker.c */
extern void queue_worker_wake_launcher(void);
extern void queue_worker_shmem_request(void);
extern void queue_worker_shmem_startup(void);
extern void queue_worker_register(void);

/* schedule.c */
extern bool queue_in_worker_step;
extern int	queue_compact_min_size;
extern int	queue_compact_max_live;

#endif							/* QUEUE_H */
