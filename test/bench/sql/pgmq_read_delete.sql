-- read one message, then delete it (two transactions, as a consumer does)
SELECT * FROM pgmq.read(:q, 30, 1) \gset
SELECT pgmq.delete(:q, :msg_id::bigint);
