-- read one message, then archive it
SELECT * FROM pgmq.read(:q, 30, 1) \gset
SELECT pgmq.archive(:q, :msg_id::bigint);
