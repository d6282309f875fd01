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
 * which it maps into memory (MAP_SHARED) at its first read: a store into
 * the mapping is a store into the kernel's page cache, which a crash of
 * the process does not lose (only a crash of the operating system does;
 * there is no fsync), and costs no system call.  The end of the
 * transaction (commit, rollback, prepare) empties the file's list by
 * setting the count in its header to 0.
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
 * Cost per read: a memcpy of 24 bytes per message into the mapping, and
 * a store at the end of the transaction.  What a second crash before the
 * entries are resolved (by the next read of the message or the worker's
 * next step) loses, and what a crash of the operating system loses, is
 * counted no better than before.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "common/file_perm.h"
#include "port/atomics.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "queue.h"

#define JOURNAL_DIR "pg_queue"
#define JOURNAL_MAGIC 0x51444c31	/* "QDL1" */
/* entries per transaction (192 kB a file); deliveries beyond are not journaled */
#define JOURNAL_MAX_ENTRIES 8192

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

/* what the file holds: the header, then the entries */
typedef struct JournalFile
{
	JournalHeader header;
	JournalEntry entries[JOURNAL_MAX_ENTRIES];
} JournalFile;

/* this backend's file, mapped at its first read */
static JournalFile *journal = NULL;
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

		if (journal_buf == NULL)
			journal_buf = MemoryContextAlloc(TopMemoryContext,
											 newsize * sizeof(JournalEntry));
		else
			journal_buf = repalloc(journal_buf, newsize * sizeof(JournalEntry));
		journal_bufsize = newsize;
	}
	e = &journal_buf[journal_nbuf++];
	e->dbid = MyDatabaseId;
	e->relid = relid;
	e->id = id;
	e->count = count;
	e->unused = 0;
}

/*
 * journal_map
 *		Map this backend's file, created (with its blocks allocated, so
 *		that a full disk cannot fail a store into the mapping later) if
 *		need be.
 */
static void
journal_map(void)
{
	char		path[MAXPGPATH];
	int			fd;
	int			rc;
	void	   *p;

	snprintf(path, sizeof(path), JOURNAL_DIR "/deliveries.%d", MyProc->pgprocno);
	fd = OpenTransientFilePerm(path, O_RDWR | O_CREAT | PG_BINARY, pg_file_create_mode);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	rc = posix_fallocate(fd, 0, sizeof(JournalFile));
	if (rc != 0)
	{
		CloseTransientFile(fd);
		errno = rc;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not allocate file \"%s\": %m", path)));
	}
	p = mmap(NULL, sizeof(JournalFile), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not map file \"%s\": %m", path)));
	}
	/* the mapping stays when the descriptor goes */
	CloseTransientFile(fd);
	journal = (JournalFile *) p;
	journal->header.magic = JOURNAL_MAGIC;
	journal->header.nentries = 0;
}

/*
 * queue_journal_flush
 *		Write the noted deliveries, before the rows go to the client: into
 *		the mapping, that is into the kernel's page cache, where a crash of
 *		this process or of the whole server (but not of the operating
 *		system) leaves them.  The entries go first and the header's count
 *		after, so that the file never lists an entry not yet written.
 */
void
queue_journal_flush(void)
{
	if (journal_nbuf == 0)
		return;
	if (journal == NULL)
		journal_map();
	memcpy(&journal->entries[journal_written], journal_buf,
		   journal_nbuf * sizeof(JournalEntry));
	pg_write_barrier();
	journal_written += journal_nbuf;
	journal->header.nentries = journal_written;
	journal_nbuf = 0;
}

/*
 * queue_journal_end_xact
 *		The transaction ended: its deliveries are settled (committed, or
 *		counted as failures in shared memory).
 */
void
queue_journal_end_xact(void)
{
	journal_nbuf = 0;
	if (journal_written == 0)
		return;
	journal_written = 0;
	journal->header.nentries = 0;
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
				(errmsg("%u deliveries of transactions interrupted by a crash recovered from \"%s\"",
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
