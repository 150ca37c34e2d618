-- churn producer: top the queue up to :level messages, at most 1000 per batch
SELECT pg_catalog.count(*) AS n FROM pgmq.q_churn \gset
\set deficit least(1000, greatest(0, :level - :n))
\if :deficit > 0
SELECT pg_catalog.count(*) FROM pgmq.send_batch(:q, pg_catalog.array_fill(:msg::jsonb, ARRAY[:deficit::int]));
\endif
\sleep 5 ms
