-- Feed topics (docs/feeds.md): every node reads the audit log forward in the order of the
-- transactions that wrote it, and each subscriber gets the entries of its feed.
--
-- `tx` is the writing transaction's id. An entry is read only once every transaction with a
-- smaller id has ended (below the snapshot's xmin), so no entry can later appear behind one
-- already delivered: (tx, id) is a position that only grows, the same on every node.
-- `audience` lists the users whose `feed:user` shows the entry: the actor, the task's owner and
-- the users it is shared with, the member a membership change is about.
ALTER TABLE audit_log
    ADD COLUMN tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    ADD COLUMN audience uuid[] NOT NULL DEFAULT '{}';

UPDATE audit_log SET audience = ARRAY[actor_id] WHERE actor_id IS NOT NULL;

CREATE INDEX audit_log_feed_idx ON audit_log (tx, id);
