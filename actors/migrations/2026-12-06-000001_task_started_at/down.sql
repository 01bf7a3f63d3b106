ALTER TABLE tasks DROP COLUMN started_at;
