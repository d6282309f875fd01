/*-------------------------------------------------------------------------
 *
 * journal.c
 *		The deliveries of transactions in progress, kept where a crash
 *		does not lose them.
 *
 * A read counts a delivery by raising delivery_count in the reader's
 * transaction.  When that transaction rolls back, deliveries.c counts the
 * failure in shared memory; but when the server crashes (a consumer
 * backend killed by a signal makes the postmaster restart every process
 * and reinitialise shared memory), the increment is gone with the
 * transaction and nothing remembers the delivery: a message that crashes
 * the server would be handed out again and again, the crash loop that
 * max_deliveries exists to stop.
 *
 * So before a read returns its rows, the backend writes what it handed
 * out (database, table, id, and the delivery_count it wrote) to a file of
 * its own, pg_queue/deliveries.<proc number> under the data directory,
 * with one pwrite(): no fsync, since a process crash does not lose what
 * the kernel holds, only a crash of the operating system does.  The end of
 * the transaction (commit, rollback, prepare) empties the file's list
 * with one more pwrite of its header.
 *
 * When shared memory is made (server start, and the restart after a
 * crash), the postmaster reads every file left with entries, hands them to
 * deliveries.c as *conditional* failures and removes the files.  Such an
 * entry says "this message's delivery_count should be at least N": if the
 * reading transaction committed, the row's count is N or more already (or
 * the row is gone: acked, dead-lettered) and the entry changes nothing; if
 * it did not, the row still holds the count from before the read, and the
 * difference is the deliveries that failed (the read's own, and the failed
 * ones it had taken over).  The rule needs no transaction status (xids of
 * a crashed run may be reused after recovery) and is idempotent, so an
 * entry of a transaction that committed just before the crash is harmless.
 *
 * Cost per read: one pwrite() to the page cache, and one per transaction
 * that read.  What a second crash before the entries are resolved (by the
 * next read of the message or the worker's next step) loses, and what a
 * crash of the operating system loses, is counted no better than before.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "common/file_perm.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "queue.h"

#define JOURNAL_DIR "pg_queue"
#define JOURNAL_MAGIC 0x51444c31	/* "QDL1" */
/* entries per transaction; deliveries beyond are not journaled */
#define JOURNAL_MAX_ENTRIES 65536

typedef struct JournalHeader
{
	uint32		magic;
	uint32		nentries;		/* valid entries after the header */
} JournalHeader;

typedef struct JournalEntry
{
	Oid			dbid;
	Oid			relid;
	int64		id;
	int32		count;			/* the delivery_count the read wrote */
	int32		unused;
} JournalEntry;

/* this backend's file, opened at its first read */
static int	journal_fd = -1;
/* entries in the file for the current transaction */
static uint32 journal_written = 0;
/* entries noted but not yet written */
static JournalEntry *journal_buf = NULL;
static int	journal_nbuf = 0;
static int	journal_bufsize = 0;

/*
 * queue_journal_note
 *		Remember a delivery of the current transaction; written by the next
 *		queue_journal_flush, before the read returns.
 */
void
queue_journal_note(Oid relid, int64 id, int32 count)
{
	JournalEntry *e;

	if (journal_written + journal_nbuf >= JOURNAL_MAX_ENTRIES)
		return;
	if (journal_nbuf == journal_bufsize)
	{
		int			newsize = Max(64, journal_bufsize * 2);

		/* room for a header in front, so that the first write is one */
		if (journal_buf == NULL)
			journal_buf = MemoryContextAlloc(TopMemoryContext,
											 (newsize + 1) * sizeof(JournalEntry));
		else
			journal_buf = repalloc(journal_buf, (newsize + 1) * sizeof(JournalEntry));
		journal_bufsize = newsize;
	}
	e = &journal_buf[1 + journal_nbuf++];
	e->dbid = MyDatabaseId;
	e->relid = relid;
	e->id = id;
	e->count = count;
	e->unused = 0;
}

/*
 * journal_open
 *		This backend's file, created if need be.
 */
static void
journal_open(void)
{
	char		path[MAXPGPATH];

	snprintf(path, sizeof(path), JOURNAL_DIR "/deliveries.%d", MyProc->pgprocno);
	ReserveExternalFD();
	journal_fd = BasicOpenFilePerm(path, O_RDWR | O_CREAT | PG_BINARY,
								   pg_file_create_mode);
	if (journal_fd < 0)
	{
		int			save_errno = errno;

		ReleaseExternalFD();
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	}
}

static void
journal_write(const void *buf, size_t len, off_t offset)
{
	ssize_t		written;

	errno = 0;
	written = pg_pwrite(journal_fd, buf, len, offset);
	if (written != (ssize_t) len)
	{
		/* a short write without errno: assume the disk is full */
		if (errno == 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write the delivery journal of the queue extension: %m")));
	}
}

/*
 * queue_journal_flush
 *		Write the noted deliveries, before the rows go to the client.  The
 *		entries go first and the header's count after, so that the file
 *		never lists an entry not yet written; the first write of a
 *		transaction is both at once.
 */
void
queue_journal_flush(void)
{
	JournalHeader header;

	if (journal_nbuf == 0)
		return;
	if (journal_fd < 0)
		journal_open();
	header.magic = JOURNAL_MAGIC;
	header.nentries = journal_written + journal_nbuf;
	StaticAssertStmt(sizeof(JournalHeader) <= sizeof(JournalEntry),
					 "the header must fit in the slot before the entries");
	if (journal_written == 0)
	{
		/* header and entries in one write, from the start of the file */
		char	   *start = (char *) &journal_buf[1] - sizeof(JournalHeader);

		memcpy(start, &header, sizeof(JournalHeader));
		journal_write(start, sizeof(JournalHeader) + journal_nbuf * sizeof(JournalEntry), 0);
	}
	else
	{
		journal_write(&journal_buf[1], journal_nbuf * sizeof(JournalEntry),
					  sizeof(JournalHeader) + journal_written * sizeof(JournalEntry));
		journal_write(&header, sizeof(header), 0);
	}
	journal_written = header.nentries;
	journal_nbuf = 0;
}

/*
 * queue_journal_end_xact
 *		The transaction ended: its deliveries are settled (committed, or
 *		counted as failures in shared memory).  Runs in commit and abort
 *		processing, so it must not fail: if the write does, a crash later
 *		finds entries whose rule changes nothing for committed reads.
 */
void
queue_journal_end_xact(void)
{
	JournalHeader header;

	journal_nbuf = 0;
	if (journal_written == 0)
		return;
	journal_written = 0;
	header.magic = JOURNAL_MAGIC;
	header.nentries = 0;
	if (pg_pwrite(journal_fd, &header, sizeof(header), 0) != sizeof(header))
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write the delivery journal of the queue extension: %m")));
}

/*
 * journal_load_file
 *		Hand the entries of one file to deliveries.c.
 */
static void
journal_load_file(const char *path)
{
	int			fd;
	JournalHeader header;
	JournalEntry *entries;
	ssize_t		len;
	uint32		i;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
		return;
	}
	if (read(fd, &header, sizeof(header)) != sizeof(header) ||
		header.magic != JOURNAL_MAGIC || header.nentries > JOURNAL_MAX_ENTRIES)
	{
		CloseTransientFile(fd);
		return;
	}
	if (header.nentries > 0)
	{
		entries = palloc(header.nentries * sizeof(JournalEntry));
		len = read(fd, entries, header.nentries * sizeof(JournalEntry));
		for (i = 0; i < header.nentries && (i + 1) * sizeof(JournalEntry) <= len; i++)
			queue_pending_restore(entries[i].dbid, entries[i].relid, entries[i].id,
								  entries[i].count);
		pfree(entries);
		ereport(LOG,
				(errmsg("queue: %u deliveries of transactions interrupted by a crash recovered from \"%s\"",
						header.nentries, path)));
	}
	CloseTransientFile(fd);
}

/*
 * queue_journal_load
 *		In the postmaster, when shared memory was just made: take over the
 *		entries every backend left (a crash, or an immediate shutdown) and
 *		remove the files.  Must not fail: problems are logged.
 */
void
queue_journal_load(void)
{
	DIR		   *dir;
	struct dirent *de;
	char		path[MAXPGPATH];

	if (MakePGDirectory(JOURNAL_DIR) < 0 && errno != EEXIST)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", JOURNAL_DIR)));
		return;
	}
	dir = AllocateDir(JOURNAL_DIR);
	while ((de = ReadDirExtended(dir, JOURNAL_DIR, LOG)) != NULL)
	{
		if (strncmp(de->d_name, "deliveries.", 11) != 0)
			continue;
		snprintf(path, sizeof(path), JOURNAL_DIR "/%s", de->d_name);
		journal_load_file(path);
		if (unlink(path) < 0)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
	}
	FreeDir(dir);
}
