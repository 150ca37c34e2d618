/*
 * pg_compat.h
 *	  Owns every difference between the PostgreSQL major versions pgmq builds
 *	  against (15, 16, 17, 18).  This is the only file that tests
 *	  PG_VERSION_NUM: the rest of src/ calls the named helpers below.
 */
#ifndef PGMQ_PG_COMPAT_H
#define PGMQ_PG_COMPAT_H

#include "postgres.h"

#include "storage/proc.h"

/*
 * pgmq_my_proc_number(): this backend's index into the PGPROC array, stable
 * for the life of the backend and below MaxBackends + auxiliary processes.
 * 17 replaced PGPROC->pgprocno and MyBackendId with MyProcNumber.
 */
#if PG_VERSION_NUM >= 170000
#define pgmq_my_proc_number()		((int) MyProcNumber)
#define pgmq_proc_number(proc)		((int) GetNumberFromPGProc(proc))
#else
#define pgmq_my_proc_number()		((int) MyProc->pgprocno)
#define pgmq_proc_number(proc)		((int) (proc)->pgprocno)
#endif

/*
 * pgmq_my_lxid(): the local id of this backend's current top-level
 * transaction.  17 moved PGPROC->lxid into PGPROC->vxid.
 */
#if PG_VERSION_NUM >= 170000
#define pgmq_my_lxid()				(MyProc->vxid.lxid)
#else
#define pgmq_my_lxid()				(MyProc->lxid)
#endif

/*
 * pgmq_index_beginscan(): index_beginscan() without ORDER BY keys and
 * without instrumentation.  18 added the instrumentation argument.
 */
#if PG_VERSION_NUM >= 180000
#define pgmq_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), 0)
#else
#define pgmq_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), 0)
#endif

/*
 * pgmq_rel_ownercheck(relid, roleid): does roleid own relation relid (or is
 * it a superuser)?  16 replaced pg_class_ownercheck with object_ownercheck.
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_class_d.h"
#include "utils/acl.h"
#define pgmq_rel_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#include "utils/acl.h"
#define pgmq_rel_ownercheck(relid, roleid)	pg_class_ownercheck((relid), (roleid))
#endif

/*
 * pgmq_insert_index_tuples(rri, slot, estate, noDupErr, specConflict): the
 * index entries of a newly inserted row (not an update), every unique index
 * an arbiter.  16 added the onlySummarizing argument.
 */
#include "executor/executor.h"
#if PG_VERSION_NUM >= 160000
#define pgmq_insert_index_tuples(rri, slot, estate, noDupErr, specConflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, (noDupErr), (specConflict), NIL, false)
#else
#define pgmq_insert_index_tuples(rri, slot, estate, noDupErr, specConflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, (noDupErr), (specConflict), NIL)
#endif

/*
 * pgmq_check_index_constraints(rri, slot, estate, conflictTid): whether a row
 * about to be inserted (not an update) conflicts with none of the unique
 * indexes, every one an arbiter.  18 added the tupleid argument (the row
 * being updated; NULL for an insert).
 */
#if PG_VERSION_NUM >= 180000
#define pgmq_check_index_constraints(rri, slot, estate, conflictTid) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflictTid), NULL, NIL)
#else
#define pgmq_check_index_constraints(rri, slot, estate, conflictTid) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflictTid), NIL)
#endif

/*
 * pgmq_index_beginscan(heap, index, snapshot, nkeys): an index scan without
 * ORDER BY keys.  18 added the instrumentation argument.
 */
#include "access/genam.h"
#if PG_VERSION_NUM >= 180000
#define pgmq_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), 0)
#else
#define pgmq_index_beginscan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), 0)
#endif

#endif							/* PGMQ_PG_COMPAT_H */
