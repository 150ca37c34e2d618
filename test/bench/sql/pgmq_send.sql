-- send: one message per transaction
SELECT * FROM pgmq.send(:q, :msg);
