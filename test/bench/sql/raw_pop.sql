-- physical limit of pop: DELETE ... RETURNING of the first visible message, SKIP LOCKED
DELETE FROM bench.raw_q
 WHERE msg_id = ANY (ARRAY(SELECT msg_id FROM bench.raw_q WHERE vt <= now()
                           ORDER BY vt, msg_id LIMIT 1 FOR UPDATE SKIP LOCKED))
 RETURNING msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers;
