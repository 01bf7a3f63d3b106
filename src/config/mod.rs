//! The command line: every setting is a flag with a `TASKPULSE_*` environment variable beside
//! it, parsed once into typed values and passed down. The identity provider's flags are in
//! `identity.rs`, the cluster's in `cluster.rs`.

mod cluster;
mod identity;
mod notifications;
mod origins;

pub use cluster::{ClusterArgs, SignalArg};
pub use identity::IdentityArgs;
pub use notifications::{NotificationArgs, SmtpUrl};
pub use origins::validate_origins;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use taskpulse_actors::PoolOptions;
use taskpulse_actors::database::DatabaseOptions;

/// taskpulse: a real-time statistics engine for task management.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log line format.
    #[arg(long, global = true, env = "TASKPULSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// A TOML file of settings, keyed by flag name (`listen = "0.0.0.0:8080"`); flags and
    /// `TASKPULSE_*` variables override it. See `deploy/taskpulse.toml`.
    #[arg(long, global = true, env = "TASKPULSE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP and WebSocket server.
    Serve(Box<ServeArgs>),
    /// Apply the database migrations, then exit.
    Migrate(DatabaseArgs),
    /// Fill the database with realistic demo data (bulk inserts), then exit.
    Seed(SeedArgs),
    /// Verify that the aggregates equal the tasks: exit 1 and list every difference if not.
    Check(CheckArgs),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. Without it: the server on 127.0.0.1:5432, else an embedded cluster in
    /// the data directory. `DATABASE_URL` is read too.
    #[arg(long, env = "TASKPULSE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The PostgreSQL schema that holds taskpulse's tables (created by the migrations; a
    /// database that holds them in `public` from an older version has them moved there).
    /// Default: the URL's `search_path` option, else `taskpulse`.
    #[arg(long, env = "TASKPULSE_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// Directory for taskpulse's own files (the embedded cluster, a generated JWT secret).
    #[arg(long, env = "TASKPULSE_DATA_DIR", default_value = ".taskpulse")]
    pub data_dir: PathBuf,
    /// The most database connections open at once.
    #[arg(long, env = "TASKPULSE_DB_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,
    /// How many database connections stay open while idle, opened in the background, so that
    /// a burst (the clients of a failed node, all back at once) does not wait for PostgreSQL
    /// to start backends. Default: all of them (`--db-pool-size`).
    #[arg(long, env = "TASKPULSE_DB_POOL_MIN_IDLE", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub db_pool_min_idle: Option<u32>,
    /// How long a request waits for a database connection before answering 503.
    #[arg(long, env = "TASKPULSE_DB_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_timeout: Duration,
    /// How many connections the writes to one aggregate (a user's or a team's statistics) may
    /// hold at once. They run one after another anyway (each locks the aggregate's row until it
    /// commits); the rest wait in the server instead of in PostgreSQL's lock queue.
    #[arg(long, env = "TASKPULSE_DB_WRITES_PER_AGGREGATE", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_writes_per_aggregate: u32,
}

impl DatabaseArgs {
    /// The options for locating the database.
    pub fn database_options(&self) -> DatabaseOptions {
        DatabaseOptions {
            url: self
                .database_url
                .clone()
                .or_else(|| std::env::var("DATABASE_URL").ok())
                .filter(|url| !url.is_empty()),
            data_dir: self.data_dir.clone(),
            ..DatabaseOptions::default()
        }
    }

    /// The options for the connection pool.
    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions {
            max_size: self.db_pool_size,
            min_idle: Some(self.db_pool_min_idle.unwrap_or(self.db_pool_size)),
            connection_timeout: self.db_timeout,
            writes_per_aggregate: self.db_writes_per_aggregate,
            ..PoolOptions::default()
        }
    }
}

/// `serve`'s settings.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "TASKPULSE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not apply pending migrations at start-up.
    #[arg(long, env = "TASKPULSE_NO_MIGRATE")]
    pub no_migrate: bool,
    /// HS256 secret for access tokens (at least 32 bytes). Without it one is generated once
    /// and kept in the data directory.
    #[arg(long, env = "TASKPULSE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// How long an access token lives.
    #[arg(long, env = "TASKPULSE_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_token_ttl: Duration,
    /// How long a refresh token lives.
    #[arg(long, env = "TASKPULSE_REFRESH_TOKEN_TTL", default_value = "30d", value_parser = humantime::parse_duration)]
    pub refresh_token_ttl: Duration,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    #[arg(long, env = "TASKPULSE_SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How long a new connection may take to send its first complete request head before it
    /// is closed (silent and half-sent heads hold no socket for long).
    #[arg(long, env = "TASKPULSE_HEAD_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub head_timeout: Duration,
    /// How long a connection may stay without traffic before it is closed (keep-alive between
    /// requests; WebSocket sessions are pinged well within it).
    #[arg(long, env = "TASKPULSE_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// Connections one client IP address may hold at once; more are answered 503.
    #[arg(long, env = "TASKPULSE_MAX_CONNECTIONS_PER_IP", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_ip: u32,
    /// Connections the server holds at once; more are answered 503. Default: the open-file
    /// limit less 1024 kept for the database, the log and the rest.
    #[arg(long, env = "TASKPULSE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Origins allowed to call the REST API from a browser (CORS) and to open WebSocket
    /// sessions, comma-separated: `*` for any, or scheme://host[:port] such as
    /// `https://app.example.com`; empty: the server's own origin only.
    #[arg(long, env = "TASKPULSE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// WebSocket sessions one user may hold at once.
    #[arg(long, env = "TASKPULSE_WS_MAX_SESSIONS_PER_USER", default_value_t = 16)]
    pub ws_max_sessions_per_user: usize,
    /// Topics one WebSocket session may subscribe to.
    #[arg(long, env = "TASKPULSE_WS_MAX_TOPICS", default_value_t = 32)]
    pub ws_max_topics: usize,
    /// How often the server pings each WebSocket session.
    #[arg(long, env = "TASKPULSE_WS_PING_EVERY", default_value = "20s", value_parser = humantime::parse_duration)]
    pub ws_ping_every: Duration,
    /// A WebSocket session silent this long (no frame, no pong) is closed.
    #[arg(long, env = "TASKPULSE_WS_SILENCE_LIMIT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub ws_silence_limit: Duration,
    /// MCP sessions (`/mcp`) one user may hold at once.
    #[arg(long, env = "TASKPULSE_MCP_MAX_SESSIONS_PER_USER", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub mcp_max_sessions_per_user: u32,
    /// An MCP session with no request and no open stream for this long is ended.
    #[arg(long, env = "TASKPULSE_MCP_IDLE_TIMEOUT", default_value = "30m", value_parser = humantime::parse_duration)]
    pub mcp_idle_timeout: Duration,
    /// The server's public base URL (`https://tasks.example.com`), which the MCP
    /// protected-resource metadata names; absent, each request's `Host` over http.
    #[arg(long, env = "TASKPULSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Requests to `/api/v1/auth/*` one client IP may make per minute.
    #[arg(
        long,
        env = "TASKPULSE_RATE_LIMIT_AUTH_PER_MINUTE",
        default_value = "30"
    )]
    pub rate_limit_auth_per_minute: NonZeroU32,
    /// Requests per second one user (or, unauthenticated, one client IP) may make to the other
    /// `/api/v1` routes, sustained.
    #[arg(long, env = "TASKPULSE_RATE_LIMIT_PER_SECOND", default_value = "50")]
    pub rate_limit_per_second: NonZeroU32,
    /// Requests one user may make at once before the per-second rate applies.
    #[arg(long, env = "TASKPULSE_RATE_LIMIT_BURST", default_value = "100")]
    pub rate_limit_burst: NonZeroU32,
    /// Switch rate limiting off (load tests).
    #[arg(long, env = "TASKPULSE_NO_RATE_LIMIT")]
    pub no_rate_limit: bool,
    /// Reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names
    /// the client that rate limits count; from anyone else the header is ignored.
    #[arg(long, env = "TASKPULSE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How this node shares its database with other nodes.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// An external identity provider, and whether local accounts sign in.
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Webhooks, mail and the outbox's leases.
    #[command(flatten)]
    pub notifications: NotificationArgs,
    /// Time a WebSocket session has to authenticate by message when its upgrade carried no
    /// token. The README promises 5 s, so it has no flag; tests shorten it.
    #[arg(skip = taskpulse_live::LiveSettings::default().auth_timeout)]
    pub ws_auth_timeout: Duration,
}

/// `seed`'s settings.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How many users to create.
    #[arg(long, env = "TASKPULSE_SEED_USERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub users: u32,
    /// How many teams to create (members are drawn from the new users).
    #[arg(long, env = "TASKPULSE_SEED_TEAMS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub teams: u32,
    /// How many tasks to create.
    #[arg(long, env = "TASKPULSE_SEED_TASKS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(0..=100_000_000))]
    pub tasks: u32,
}

/// `check`'s settings.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Check every user and every team.
    #[arg(long, conflicts_with = "sample", required_unless_present = "sample")]
    pub all: bool,
    /// Check this many users and this many teams, chosen at random.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub sample: Option<i64>,
}

impl ServeArgs {
    /// These settings with `--allowed-origins` checked and written as browsers send them.
    pub fn with_valid_origins(mut self) -> anyhow::Result<Self> {
        self.allowed_origins = validate_origins(&self.allowed_origins)?;
        Ok(self)
    }

    /// The rate limits.
    pub fn rate_limits(&self) -> taskpulse_api::RateLimitSettings {
        taskpulse_api::RateLimitSettings {
            enabled: !self.no_rate_limit,
            auth_per_minute: self.rate_limit_auth_per_minute,
            per_second: self.rate_limit_per_second,
            burst: self.rate_limit_burst,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    /// The MCP settings.
    pub fn mcp_settings(&self) -> taskpulse_api::McpSettings {
        taskpulse_api::McpSettings {
            max_sessions_per_user: usize::try_from(self.mcp_max_sessions_per_user)
                .unwrap_or(usize::MAX),
            idle_timeout: self.mcp_idle_timeout,
            public_url: self.public_url.clone(),
        }
    }

    /// The WebSocket settings.
    pub fn ws_settings(&self) -> taskpulse_live::LiveSettings {
        taskpulse_live::LiveSettings {
            allowed_origins: self
                .allowed_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            max_sessions_per_user: self.ws_max_sessions_per_user,
            max_topics_per_session: self.ws_max_topics,
            ping_every: self.ws_ping_every.max(Duration::from_millis(10)),
            silence_limit: self.ws_silence_limit,
            auth_timeout: self.ws_auth_timeout,
        }
    }
}

/// A network (`10.0.0.0/8`) or a single address (`10.0.0.1`, taken as `/32` or `/128`).
fn parse_network(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{value}` is neither an IP address nor a network like 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_url_never_shows_in_the_settings_debug_output() -> anyhow::Result<()> {
        let cli = Cli::try_parse_from([
            "taskpulse",
            "serve",
            "--smtp-url",
            "smtp://mailer:hunter2@mail.example.com:587",
        ])?;
        let Command::Serve(args) = cli.command else {
            anyhow::bail!("not serve");
        };

        assert!(args.notifications.notification_config().email);
        assert!(!format!("{args:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn a_websocket_session_has_five_seconds_to_authenticate() -> anyhow::Result<()> {
        // The README's figure; it has no flag, and the WebSocket tests run with a shorter one.
        let Command::Serve(args) = Cli::try_parse_from(["taskpulse", "serve"])?.command else {
            anyhow::bail!("not serve");
        };

        assert_eq!(args.ws_settings().auth_timeout, Duration::from_secs(5));
        Ok(())
    }
}
