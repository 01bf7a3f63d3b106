DROP TABLE aggregate_changes;
