-- The value rules of the tables a task command's one statement writes (tasks, task_shares,
-- audit_log, aggregate_changes) as domains, as the counters already are (2026-12-01-000002).
-- PostgreSQL reads a table's CHECK constraints back from their stored text, plans and compiles
-- them in every statement that writes the table; a domain's checks are read and planned once
-- per connection. A task creation checked ten such CHECKs, about a tenth of PostgreSQL's time
-- per write (BENCHMARKS.md, "Write path"). The rules themselves are unchanged. Changing a
-- column to a domain with checks rewrites its table, under an exclusive lock, once.
CREATE DOMAIN task_title AS text CHECK (char_length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN task_description AS text CHECK (char_length(VALUE) <= 10000);
CREATE DOMAIN task_status AS text CHECK (VALUE IN ('pending', 'in_progress', 'completed'));
CREATE DOMAIN task_priority AS text CHECK (VALUE IN ('low', 'medium', 'high', 'urgent'));
CREATE DOMAIN share_permission AS text CHECK (VALUE IN ('view', 'edit'));
CREATE DOMAIN audit_action AS text CHECK (char_length(VALUE) BETWEEN 1 AND 64);
CREATE DOMAIN audit_target_type AS text CHECK (char_length(VALUE) BETWEEN 1 AND 32);
CREATE DOMAIN aggregate_scope_kind AS text CHECK (VALUE IN ('user', 'team'));
-- A row's version: versions start at 1.
CREATE DOMAIN row_version AS bigint CHECK (VALUE >= 1);

ALTER TABLE tasks
    DROP CONSTRAINT tasks_title_check,
    DROP CONSTRAINT tasks_description_check,
    DROP CONSTRAINT tasks_status_check,
    DROP CONSTRAINT tasks_priority_check,
    DROP CONSTRAINT tasks_version_check,
    ALTER COLUMN title TYPE task_title,
    ALTER COLUMN description TYPE task_description,
    ALTER COLUMN status TYPE task_status,
    ALTER COLUMN priority TYPE task_priority,
    ALTER COLUMN version TYPE row_version;
-- `(status = 'completed') = (completed_at IS NOT NULL)` stays a table CHECK: a domain sees one
-- value.

ALTER TABLE task_shares
    DROP CONSTRAINT task_shares_permission_check,
    ALTER COLUMN permission TYPE share_permission;

ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_action_check,
    DROP CONSTRAINT audit_log_target_type_check,
    ALTER COLUMN action TYPE audit_action,
    ALTER COLUMN target_type TYPE audit_target_type;

ALTER TABLE aggregate_changes
    DROP CONSTRAINT aggregate_changes_scope_kind_check,
    DROP CONSTRAINT aggregate_changes_version_check,
    ALTER COLUMN scope_kind TYPE aggregate_scope_kind,
    ALTER COLUMN version TYPE row_version;
