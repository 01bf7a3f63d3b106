//! The engine's integration tests, one binary: a module per feature.

mod cluster;
mod common;
mod consistency;
mod email_outbox;
mod embedded_cluster;
mod engine_commands;
mod engine_sharing_and_teams;
mod feeds;
mod history;
mod import;
mod live_aggregates;
mod migrations;
mod notification_topic;
mod outbox;
mod reminders;
mod started_at;
mod webhook_outbox;
mod write_gates;
mod write_path;
