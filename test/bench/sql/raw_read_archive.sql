-- physical limit of read + archive: the SKIP LOCKED select + update, then DELETE ... RETURNING into the archive
UPDATE bench.raw_q SET vt = now() + interval '30 seconds', read_ct = read_ct + 1, last_read_at = now()
 WHERE msg_id = ANY (ARRAY(SELECT msg_id FROM bench.raw_q WHERE vt <= now()
                           ORDER BY vt, msg_id LIMIT 1 FOR UPDATE SKIP LOCKED))
 RETURNING msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers \gset
WITH d AS (DELETE FROM bench.raw_q WHERE msg_id = :msg_id RETURNING msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers)
INSERT INTO bench.raw_a (msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers) SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM d;
