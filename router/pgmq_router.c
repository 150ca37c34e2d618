/*
 * pgmq_router.c
 *	  The one thing PL/Proxy cannot express for the router: clients begin with
 *	  CREATE EXTENSION IF NOT EXISTS pgmq, and in a router database the pgmq
 *	  API comes from extension pgmq_router, not pgmq.
 *
 * Loaded by session_preload_libraries (or shared_preload_libraries) on the
 * router, a ProcessUtility hook answers CREATE EXTENSION pgmq in a database
 * that has pgmq_router: with IF NOT EXISTS a NOTICE and nothing else (what
 * PostgreSQL does when the extension exists), without it the duplicate_object
 * error PostgreSQL gives for an existing extension.  Every other statement,
 * and every database without pgmq_router, is untouched.
 */
#include "postgres.h"

#include "commands/extension.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static ProcessUtility_hook_type prev_process_utility = NULL;

static void
router_process_utility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, CreateExtensionStmt) &&
		strcmp(((CreateExtensionStmt *) stmt)->extname, "pgmq") == 0 &&
		OidIsValid(get_extension_oid("pgmq_router", true)))
	{
		if (((CreateExtensionStmt *) stmt)->if_not_exists)
		{
			ereport(NOTICE,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("extension \"pgmq\" is provided by extension \"pgmq_router\" in this database, skipping")));
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("extension \"pgmq\" is provided by extension \"pgmq_router\" in this database"),
				 errhint("This database is a pgmq router: its pgmq functions run on the shards.")));
	}

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
_PG_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = router_process_utility;
}
