-- physical limit of send: one INSERT returning the new id
INSERT INTO bench.raw_q (vt, message) VALUES (now(), :msg) RETURNING msg_id;
