//! The integration tests, one binary: a module per feature, most of them against the real
//! server in this process ([`common::TestApp`]), a few against the binary itself
//! ([`common::ProcessApp`]) where the process is what is tested.

mod common;

mod access_log;
mod audit;
mod auth;
mod browser;
mod check;
mod cluster;
mod connections;
mod cors;
mod dashboard;
mod dashboard_page;
mod email;
mod failover;
mod feed;
mod health;
mod http_basics;
mod js_client;
mod mcp;
mod metrics;
mod notifications;
mod openapi;
mod outage;
mod rate_limit;
mod seed;
mod shutdown;
mod startup;
mod tasks;
mod teams;
mod tokens;
mod transfer;
mod trends;
mod webhooks;
mod ws;
