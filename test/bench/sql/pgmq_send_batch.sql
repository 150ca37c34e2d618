-- send_batch: 100 messages per transaction (:batch is a jsonb[] literal)
SELECT * FROM pgmq.send_batch(:q, :batch);
