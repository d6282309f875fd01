/*-------------------------------------------------------------------------
 *
 * position.c
 *		Where a read starts: per-queue positions in shared memory, so that
 *		a read's cost does not grow with the dead or leased rows ahead of
 *		the first message it can take.
 *
 * A message table is read in id order through its primary key.  Acked
 * messages leave dead index entries at the front of the key, which no
 * vacuum can remove while an old snapshot is held; messages leased by a
 * stalled consumer stay live at the front for their whole visibility
 * timeout.  Without help, every read walks all of them before it finds a
 * message it may take.  So each queue has, in its shared slot:
 *
 *	- ready: an id below which no message can be taken now.  Every row
 *	  below it is, in its committed state, dead, leased or delayed (and
 *	  visible again only at a known time), blocked by max_deliveries, of
 *	  another priority (the priority index serves those), or waiting for
 *	  an earlier message of its group;
 *	- rescan_at: the earliest time one of the leased or delayed rows below
 *	  ready becomes visible again; from then on reads start at head again;
 *	- head: an id below which every row is dead;
 *	- max_id and the sending markers: which ids may still appear.
 *
 * A read starts its key scan at ready, not at the start of the key, and
 * moves ready (and head, when it started there) up past the rows it could
 * pass, when its transaction is in READ COMMITTED (its snapshot is taken
 * after the position was read) and has not deleted rows of the table (a
 * rollback would bring them back).  It stops moving them at the first row
 * it cannot pass:
 *
 *	- a row it takes itself, a row version its own transaction wrote, or a
 *	  row another transaction is changing or has locked (any of them may
 *	  roll back and leave the row ready);
 *	- an index entry whose row it cannot see but whose insert (or change)
 *	  is still in progress or committed after its snapshot (SnapshotDirty
 *	  sees it);
 *	- an id that a sender may still insert: senders take a marker before
 *	  they take an id, write their first id into it, and drop it once
 *	  their rows are in the index, raising max_id to their last id first;
 *	  so a read never passes an id that is taken but not yet in the
 *	  index.
 *
 * Whatever makes a passed row ready again moves ready back, at commit:
 * a nack or extend (rescan_at), an ack or dead letter that frees the next
 * message of a group (ordered queues), redrive (which brings back old ids,
 * and moves head back too), queue.alter.  A move back made while a read
 * was scanning is seen by that read (a small ring of the latest ones), so
 * it cannot move ready past it.  As a backstop for what no note tells
 * (rows changed behind the API, a prepared transaction that commits
 * later), reads start at head again once a minute.  Nothing here is
 * crash-safe or needs to be: after a restart every position is 0, and the
 * first read walks once from the start.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "queue.h"

/* reads start at head again at least this often (microseconds) */
#define POSITION_BACKSTOP_USECS	(60 * USECS_PER_SEC)

#define MARKER_FREE		((uint64) 0)
#define MARKER_PENDING	PG_UINT64_MAX

/* the markers this backend holds, until its sends are in the index */
typedef struct HeldMarker
{
	Oid			relid;
	QueuePosition *pos;
	int			index;			/* into pos->sending; -1: counted in overflow */
	int			nest_level;		/* (sub)transaction that took it */
	int64		first_id;		/* the first id taken (0: none yet) */
	int64		last_id;		/* the highest id taken */
} HeldMarker;

#define MAX_HELD_MARKERS 16
static HeldMarker held[MAX_HELD_MARKERS];
static int	nheld = 0;
/* markers that found no room in held[]: every position is frozen meanwhile */
static int	nheld_lost = 0;
static pg_atomic_uint32 *frozen_all = NULL;

static void position_rewind_locked(QueuePosition *pos, int64 id, bool with_head);

/*
 * queue_position_init
 *		Set up a position in shared memory, at the start of the table.
 */
void
queue_position_init(QueuePosition *pos)
{
	int			i;

	SpinLockInit(&pos->mutex);
	pos->head = 0;
	pos->ready = 0;
	pos->rewinds = 0;
	memset(pos->rewound, 0, sizeof(pos->rewound));
	pos->rescan_at = DT_NOEND;
	pos->reset_at = 0;
	pg_atomic_init_u64(&pos->max_id, 0);
	pg_atomic_init_u32(&pos->overflow, 0);
	for (i = 0; i < POSITION_MARKERS; i++)
		pg_atomic_init_u64(&pos->sending[i], MARKER_FREE);
}

/*
 * queue_position_reset
 *		Start a position from the beginning of the table again (a new queue
 *		may have the OID of a dropped one).  Markers held by senders stay.
 */
void
queue_position_reset(QueuePosition *pos)
{
	SpinLockAcquire(&pos->mutex);
	position_rewind_locked(pos, 0, true);
	pos->rescan_at = DT_NOEND;
	pos->reset_at = 0;
	SpinLockRelease(&pos->mutex);
	pg_atomic_write_u64(&pos->max_id, 0);
}

/*
 * queue_position_set_frozen_flag
 *		The flag that freezes every position (shared memory, counters.c).
 */
void
queue_position_set_frozen_flag(pg_atomic_uint32 *flag)
{
	frozen_all = flag;
}

/*
 * atomic_max
 *		Raise *var to value unless it is higher already.
 */
static void
atomic_max(pg_atomic_uint64 *var, uint64 value)
{
	uint64		cur = pg_atomic_read_u64(var);

	while (cur < value && !pg_atomic_compare_exchange_u64(var, &cur, value))
		;
}

/*
 * queue_sending_begin
 *		A sender is about to take ids for relid's table: until
 *		queue_sending_end, no read moves past an id it takes.  Returns a
 *		handle for queue_sending_id and queue_sending_end.
 */
int
queue_sending_begin(Oid relid)
{
	QueuePosition *pos = queue_position_slot(relid, true);
	int			handle = nheld;
	int			i;

	if (pos == NULL)
		return handle;			/* no slot: reads of it have no position either */
	if (nheld == MAX_HELD_MARKERS)
	{
		/* nested too deep to remember: freeze every position until the end */
		if (frozen_all != NULL)
			pg_atomic_fetch_add_u32(frozen_all, 1);
		nheld_lost++;
		return handle;
	}
	held[nheld].relid = relid;
	held[nheld].pos = pos;
	held[nheld].index = -1;
	held[nheld].nest_level = GetCurrentTransactionNestLevel();
	held[nheld].first_id = 0;
	held[nheld].last_id = 0;
	for (i = 0; i < POSITION_MARKERS; i++)
	{
		uint64		expected = MARKER_FREE;

		if (pg_atomic_compare_exchange_u64(&pos->sending[i], &expected, MARKER_PENDING))
		{
			held[nheld].index = i;
			break;
		}
	}
	if (held[nheld].index < 0)
		pg_atomic_fetch_add_u32(&pos->overflow, 1);
	nheld++;
	return handle;
}

/*
 * queue_sending_id
 *		This backend, between queue_sending_begin and queue_sending_end for
 *		relid, took id (from the sequence, or through an idempotency key or
 *		producer sequence claim).
 */
void
queue_sending_id(Oid relid, int64 id)
{
	HeldMarker *m = NULL;
	int			i;

	for (i = nheld - 1; i >= 0; i--)
		if (held[i].relid == relid)
		{
			m = &held[i];
			break;
		}
	if (m == NULL)
		return;					/* no slot, or frozen everywhere */

	/*
	 * The marker holds the first id, which later ones (from the same
	 * sequence) only follow; max_id is raised when the marker goes.
	 */
	if (m->first_id == 0 || id < m->first_id)
	{
		m->first_id = id;
		if (m->index >= 0)
		{
			/* only this backend changes a marker it holds */
			pg_atomic_write_u64(&m->pos->sending[m->index], (uint64) id);
			pg_memory_barrier();
		}
	}
	m->last_id = Max(m->last_id, id);
}

/*
 * queue_sending_end
 *		The rows of the sender that holds handle (and of any sender nested
 *		in it) are in the index now: let reads pass their ids.
 */
void
queue_sending_end(int handle)
{
	/* the index entries must be visible before the markers go */
	pg_memory_barrier();
	while (nheld > handle)
	{
		HeldMarker *m = &held[--nheld];

		/* every id it took is in the index: reads may go up to them */
		if (m->last_id > 0)
			atomic_max(&m->pos->max_id, (uint64) m->last_id);
		pg_memory_barrier();
		if (m->index >= 0)
			pg_atomic_write_u64(&m->pos->sending[m->index], MARKER_FREE);
		else
			pg_atomic_fetch_sub_u32(&m->pos->overflow, 1);
	}
	if (nheld == 0 && nheld_lost > 0)
	{
		if (frozen_all != NULL)
			pg_atomic_fetch_sub_u32(frozen_all, nheld_lost);
		nheld_lost = 0;
	}
}

/*
 * queue_sending_abort
 *		A (sub)transaction at nest_level (0: the whole transaction) rolled
 *		back: an error may have left the markers it took held.
 */
void
queue_sending_abort(int nest_level)
{
	int			handle = nheld;

	while (handle > 0 && held[handle - 1].nest_level >= nest_level)
		handle--;
	if (nest_level == 0 || handle < nheld)
		queue_sending_end(nest_level == 0 ? 0 : handle);
}

/*
 * position_rewind_locked
 *		Move ready (and head, if with_head) back to id; pos->mutex held.
 */
static void
position_rewind_locked(QueuePosition *pos, int64 id, bool with_head)
{
	if (with_head)
		pos->head = Min(pos->head, id);
	else
		id = Max(id, pos->head);	/* every row below head is dead */
	pos->ready = Min(pos->ready, id);
	pos->rewinds++;
	pos->rewound[pos->rewinds % POSITION_REWIND_RING] = id;
}

/*
 * queue_position_rewind
 *		Reads must look at id again (and below it, with_head, rows may be
 *		live again).  Called at commit, when the change that makes the row
 *		ready is visible to every new snapshot.
 */
void
queue_position_rewind(Oid relid, int64 id, bool with_head)
{
	QueuePosition *pos = queue_position_slot(relid, false);

	if (pos == NULL)
		return;
	SpinLockAcquire(&pos->mutex);
	position_rewind_locked(pos, id, with_head);
	SpinLockRelease(&pos->mutex);
}

/*
 * queue_position_rescan_at
 *		A row behind ready becomes visible at 'at' (nack, extend): reads
 *		start at head again from then on.
 */
void
queue_position_rescan_at(Oid relid, TimestampTz at)
{
	QueuePosition *pos = queue_position_slot(relid, false);

	if (pos == NULL)
		return;
	SpinLockAcquire(&pos->mutex);
	pos->rescan_at = Min(pos->rescan_at, at);
	SpinLockRelease(&pos->mutex);
}

/*
 * max_id_in_index
 *		The highest id in the primary key, dead rows included: every id
 *		taken before the call is at most this, or still held by a sender.
 */
static int64
max_id_in_index(Relation rel, Relation pkey)
{
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int64		id = 0;

	scan = index_beginscan(rel, pkey, SnapshotAny, 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		id = DatumGetInt64(slot_getattr(slot, MSG_ID + 1, &isnull));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return id;
}

/*
 * queue_position_begin
 *		Where a read of relid's table through its primary key starts, and
 *		how far it may move the position; call before taking the snapshot
 *		the read finds rows with.
 */
void
queue_position_begin(ReadPosition *rp, Oid relid, Relation rel, Relation pkey,
					 TimestampTz now)
{
	QueuePosition *pos = queue_position_slot(relid, true);
	uint64		max_id;
	int64		cap;
	int64		own_rewind;
	TimestampTz own_rescan;
	int			i;

	memset(rp, 0, sizeof(*rp));
	rp->pos = pos;
	rp->min_visible = DT_NOEND;
	if (pos == NULL)
		return;

	SpinLockAcquire(&pos->mutex);
	if (pos->rescan_at <= now || now - pos->reset_at >= POSITION_BACKSTOP_USECS)
	{
		/* a passed row may be visible again: start at head */
		position_rewind_locked(pos, pos->head, false);
		pos->rescan_at = DT_NOEND;
		pos->reset_at = now;
	}
	rp->rewinds = pos->rewinds;
	rp->start = pos->ready;
	rp->from_head = (pos->ready == pos->head);
	rp->rescan_at = pos->rescan_at;
	/* what this transaction noted for others' reads at commit holds for its own now */
	queue_pending_position(relid, &own_rewind, &own_rescan);
	if (own_rescan <= now)
		own_rewind = Min(own_rewind, pos->head);
	if (own_rewind < rp->start)
	{
		rp->start = Max(own_rewind, pos->head);
		rp->from_head = (rp->start == pos->head);
	}
	rp->rescan_at = Min(rp->rescan_at, own_rescan);
	SpinLockRelease(&pos->mutex);

	/*
	 * A read in REPEATABLE READ or SERIALIZABLE uses the position but
	 * does not move it: its snapshot may be older than what it read.
	 */
	if (IsolationUsesXactSnapshot())
		return;
	/* rows this transaction deleted look dead, but a rollback brings them back */
	if (queue_deleted_in_xact(relid))
		return;

	/*
	 * The highest id taken first, then the markers: an id at most max_id
	 * was taken after its sender put up its marker, so the marker is seen
	 * below unless the row is in the index already.
	 */
	max_id = pg_atomic_read_u64(&pos->max_id);
	if (max_id == 0)
	{
		/* not known since the slot was given out: ask the index */
		atomic_max(&pos->max_id, (uint64) max_id_in_index(rel, pkey));
		max_id = pg_atomic_read_u64(&pos->max_id);
	}
	pg_memory_barrier();
	cap = (int64) Min(max_id, (uint64) PG_INT64_MAX - 1) + 1;
	if (pg_atomic_read_u32(&pos->overflow) > 0 ||
		(frozen_all != NULL && pg_atomic_read_u32(frozen_all) > 0))
		cap = rp->start;
	for (i = 0; i < POSITION_MARKERS; i++)
	{
		uint64		m = pg_atomic_read_u64(&pos->sending[i]);

		if (m == MARKER_PENDING)
			cap = rp->start;
		else if (m != MARKER_FREE)
			cap = Min(cap, (int64) m);
	}
	pg_memory_barrier();
	rp->cap = cap;
	rp->may_move = (cap > rp->start);
	rp->moving = rp->may_move;
	rp->head_moving = rp->may_move && rp->from_head;
	rp->ready_to = rp->start;
	rp->head_to = rp->start;
}

/*
 * queue_position_pass
 *		The read passed the index entry of id: can_pass tells whether the
 *		row may stay behind ready (visible_at, when the row is visible
 *		again at a known time), live whether it is a live row (head stops
 *		at it).
 */
void
queue_position_pass(ReadPosition *rp, int64 id, bool can_pass, bool live,
					TimestampTz visible_at)
{
	if (!rp->moving)
		return;
	if (id >= rp->cap)
	{
		/* an id a sender may still be inserting lies before this one */
		rp->ready_to = Max(rp->ready_to, rp->cap);
		if (rp->head_moving)
			rp->head_to = Max(rp->head_to, rp->cap);
		rp->moving = false;
		rp->head_moving = false;
		return;
	}
	if (rp->head_moving)
	{
		if (live || !can_pass)
		{
			rp->head_moving = false;
			rp->head_to = id;
		}
		else
			rp->head_to = id + 1;
	}
	if (!can_pass)
	{
		rp->moving = false;
		rp->ready_to = id;
		return;
	}
	rp->ready_to = id + 1;
	if (visible_at != DT_NOBEGIN)
		rp->min_visible = Min(rp->min_visible, visible_at);
}

/*
 * queue_position_end
 *		The read is over: exhausted tells whether it reached the end of
 *		the key (then every id below the cap was seen).  Moves the
 *		position up, unless a rewind made meanwhile forbids it.
 */
void
queue_position_end(ReadPosition *rp, bool exhausted)
{
	QueuePosition *pos = rp->pos;
	int64		floor = PG_INT64_MAX;
	uint64		g;

	if (pos == NULL || !rp->may_move)
		return;
	if (exhausted && rp->moving)
	{
		rp->ready_to = Max(rp->ready_to, rp->cap);
		if (rp->head_moving)
			rp->head_to = Max(rp->head_to, rp->cap);
	}
	if (!rp->from_head)
		rp->head_to = 0;

	SpinLockAcquire(&pos->mutex);
	if (pos->rewinds - rp->rewinds >= POSITION_REWIND_RING)
		floor = rp->start;		/* too many to know: leave it */
	else
		for (g = rp->rewinds + 1; g <= pos->rewinds; g++)
			floor = Min(floor, pos->rewound[g % POSITION_REWIND_RING]);
	pos->ready = Max(pos->ready, Min(rp->ready_to, floor));
	pos->head = Max(pos->head, Min(rp->head_to, floor));
	if (rp->min_visible != DT_NOEND)
		pos->rescan_at = Min(pos->rescan_at, rp->min_visible);
	SpinLockRelease(&pos->mutex);
}
