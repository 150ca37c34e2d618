-- pop one message
SELECT * FROM pgmq.pop(:q);
