-- physical limit of read + delete: the SKIP LOCKED select + update, then a DELETE
UPDATE bench.raw_q SET vt = now() + interval '30 seconds', read_ct = read_ct + 1, last_read_at = now()
 WHERE msg_id = ANY (ARRAY(SELECT msg_id FROM bench.raw_q WHERE vt <= now()
                           ORDER BY vt, msg_id LIMIT 1 FOR UPDATE SKIP LOCKED))
 RETURNING msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers \gset
DELETE FROM bench.raw_q WHERE msg_id = :msg_id;
