ALTER TABLE aggregate_changes
    ALTER COLUMN scope_kind TYPE text,
    ALTER COLUMN version TYPE bigint,
    ADD CONSTRAINT aggregate_changes_scope_kind_check CHECK (scope_kind IN ('user', 'team')),
    ADD CONSTRAINT aggregate_changes_version_check CHECK (version >= 1);

ALTER TABLE audit_log
    ALTER COLUMN action TYPE text,
    ALTER COLUMN target_type TYPE text,
    ADD CONSTRAINT audit_log_action_check CHECK (char_length(action) BETWEEN 1 AND 64),
    ADD CONSTRAINT audit_log_target_type_check CHECK (char_length(target_type) BETWEEN 1 AND 32);

ALTER TABLE task_shares
    ALTER COLUMN permission TYPE text,
    ADD CONSTRAINT task_shares_permission_check CHECK (permission IN ('view', 'edit'));

ALTER TABLE tasks
    ALTER COLUMN title TYPE text,
    ALTER COLUMN description TYPE text,
    ALTER COLUMN status TYPE text,
    ALTER COLUMN priority TYPE text,
    ALTER COLUMN version TYPE bigint,
    ADD CONSTRAINT tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    ADD CONSTRAINT tasks_description_check CHECK (char_length(description) <= 10000),
    ADD CONSTRAINT tasks_status_check CHECK (status IN ('pending', 'in_progress', 'completed')),
    ADD CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    ADD CONSTRAINT tasks_version_check CHECK (version >= 1);

DROP DOMAIN row_version;
DROP DOMAIN aggregate_scope_kind;
DROP DOMAIN audit_target_type;
DROP DOMAIN audit_action;
DROP DOMAIN share_permission;
DROP DOMAIN task_priority;
DROP DOMAIN task_status;
DROP DOMAIN task_description;
DROP DOMAIN task_title;
