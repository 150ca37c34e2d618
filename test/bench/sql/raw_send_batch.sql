-- physical limit of send_batch: one INSERT ... SELECT from the array
INSERT INTO bench.raw_q (vt, message)
SELECT now(), m FROM pg_catalog.unnest(:batch::jsonb[]) AS m RETURNING msg_id;
