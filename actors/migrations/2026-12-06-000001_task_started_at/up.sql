-- When a task first entered `in_progress` (API.md, Task: kept when the status moves on), for
-- cycle time (`completed_at - started_at`) and the trends' `started` counts.
ALTER TABLE tasks ADD COLUMN started_at timestamptz;

-- What the audit log can tell of the tasks that exist: the first update that left the task
-- `in_progress` (its details name the status after the change, and `status` among the changed
-- fields), kept between the task's creation and its completion (the log's clock and the
-- writer's need not agree to the microsecond); a task in progress now with no such entry was
-- created in progress.
UPDATE tasks t
SET started_at = greatest(t.created_at, least(first.at, coalesce(t.completed_at, first.at)))
FROM (
    SELECT target_id, min(at) AS at
    FROM audit_log
    WHERE action = 'task.update'
      AND target_type = 'task'
      AND details ->> 'status' = 'in_progress'
      AND details -> 'changed' ? 'status'
    GROUP BY target_id
) first
WHERE t.id = first.target_id;

UPDATE tasks SET started_at = created_at
WHERE started_at IS NULL AND status = 'in_progress';
