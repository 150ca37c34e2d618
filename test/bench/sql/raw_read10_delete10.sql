-- physical limit of read 10 + delete 10
WITH r AS (
  UPDATE bench.raw_q SET vt = now() + interval '30 seconds', read_ct = read_ct + 1, last_read_at = now()
   WHERE msg_id = ANY (ARRAY(SELECT msg_id FROM bench.raw_q WHERE vt <= now()
                             ORDER BY vt, msg_id LIMIT 10 FOR UPDATE SKIP LOCKED))
   RETURNING msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers)
SELECT pg_catalog.array_agg(msg_id) AS ids FROM r \gset
DELETE FROM bench.raw_q WHERE msg_id = ANY (:ids::bigint[]) RETURNING msg_id;
