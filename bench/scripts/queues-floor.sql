-- queues (floor side): the same on plain tables :t1 .. :t:nq shaped as raw_q
-- (-D t=fq_ -D nq=1000: fq_1 .. fq_1000; -D t=fs_ -D nq=1: fs_1): INSERT, then
-- bench/run's recv floor (take the oldest visible row, hide it for 30 s; then
-- delete it).  The table name is a variable, so this runs with -M simple
-- (pgbench substitutes :t:q into the text; a prepared statement cannot take a
-- table name), and the body comes quoted as a literal (-D qbody="'...'").
--
-- Copyright (c) 2026, the queue authors
\set q random(1, :nq)
INSERT INTO :t:q (body) VALUES (:qbody);
WITH m AS (
  UPDATE :t:q SET visible_at = now() + '30s', delivery_count = delivery_count + 1
   WHERE id = (SELECT id FROM :t:q WHERE visible_at <= now()
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id)
SELECT coalesce((SELECT id FROM m), 0) AS id \gset
\if :id > 0
DELETE FROM :t:q WHERE id = :id;
\endif
