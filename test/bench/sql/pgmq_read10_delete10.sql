-- read ten messages, then delete the ten ids in one call
SELECT pg_catalog.array_agg(msg_id) AS ids FROM pgmq.read(:q, 30, 10) \gset
SELECT * FROM pgmq.delete(:q, :ids::bigint[]);
