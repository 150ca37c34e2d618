-- pop ten messages
SELECT * FROM pgmq.pop(:q, 10);
