DROP TABLE task_shares;
DROP TABLE tasks;
