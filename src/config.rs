//! The command line: every setting is a flag with a `TASKPULSE_*` environment variable beside
//! it, parsed once into typed values and passed down.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use taskpulse_actors::database::DatabaseOptions;
use taskpulse_actors::{ClusterConfig, PoolOptions, SignalMode};
use taskpulse_api::auth::ProviderSettings;

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
    /// Load a running server on this machine and measure write-to-WebSocket latency.
    Loadgen(crate::loadgen::LoadgenArgs),
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
    /// How long a request waits for a database connection before answering 503.
    #[arg(long, env = "TASKPULSE_DB_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_timeout: Duration,
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
            connection_timeout: self.db_timeout,
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
    /// Time a WebSocket session has to authenticate by message when its upgrade carried no
    /// token. The README promises 5 s, so it has no flag; tests shorten it.
    #[arg(skip = taskpulse_api::ws::WsSettings::default().auth_timeout)]
    pub ws_auth_timeout: Duration,
}

/// An external identity provider (OpenID Connect) whose tokens are accepted wherever ours
/// are (docs/identity.md).
#[derive(Debug, Clone, Args)]
pub struct IdentityArgs {
    /// The identity provider's issuer URL: a provider token's `iss` must equal it, and its
    /// keys are found by discovery (`<issuer>/.well-known/openid-configuration`) unless
    /// `--jwks-url` is given. https (plain http only on a loopback address).
    #[arg(long, env = "TASKPULSE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Where the provider publishes its keys (JWKS), instead of discovery; needs
    /// `--oidc-issuer`. https (plain http only on a loopback address).
    #[arg(long, env = "TASKPULSE_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The audience a provider token's `aud` must contain; required with `--oidc-issuer`.
    #[arg(long, env = "TASKPULSE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// The provider token claim that names the user.
    #[arg(long, env = "TASKPULSE_OIDC_USER_CLAIM", default_value = "sub")]
    pub oidc_user_claim: String,
    /// The claim with the user's email, taken when an account is created (empty: none).
    #[arg(long, env = "TASKPULSE_OIDC_EMAIL_CLAIM", default_value = "email")]
    pub oidc_email_claim: String,
    /// The claim with the user's display name, taken when an account is created (empty:
    /// none).
    #[arg(long, env = "TASKPULSE_OIDC_NAME_CLAIM", default_value = "name")]
    pub oidc_name_claim: String,
    /// Whether people may register and sign in with email and password here (`false`: the
    /// identity provider signs everyone in; register, login and refresh answer 403).
    #[arg(long, env = "TASKPULSE_LOCAL_ACCOUNTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub local_accounts: bool,
    /// The provider's keys are fetched again at most this often when tokens name an unknown
    /// key. No flag (docs/identity.md gives 30 s); tests shorten it.
    #[arg(skip = Duration::from_secs(30))]
    pub oidc_refetch_interval: Duration,
}

impl IdentityArgs {
    /// The identity provider's settings, when one is configured; an incomplete or unsafe
    /// configuration is an error that names the flag.
    pub fn provider_settings(&self) -> anyhow::Result<Option<ProviderSettings>> {
        let Some(issuer) = &self.oidc_issuer else {
            if self.jwks_url.is_some() || self.oidc_audience.is_some() {
                anyhow::bail!(
                    "--jwks-url and --oidc-audience need --oidc-issuer: a provider token's \
                     `iss` must equal it"
                );
            }
            if !self.local_accounts {
                anyhow::bail!(
                    "--local-accounts false needs an identity provider (--oidc-issuer and \
                     --oidc-audience), or nobody could sign in"
                );
            }
            return Ok(None);
        };
        let Some(audience) = &self.oidc_audience else {
            anyhow::bail!(
                "--oidc-issuer needs --oidc-audience: the audience a provider token must be \
                 issued for"
            );
        };
        let optional = |claim: &str| (!claim.trim().is_empty()).then(|| claim.to_owned());
        let settings = ProviderSettings {
            jwks_url: self.jwks_url.clone(),
            user_claim: self.oidc_user_claim.clone(),
            email_claim: optional(&self.oidc_email_claim),
            name_claim: optional(&self.oidc_name_claim),
            refetch_interval: self.oidc_refetch_interval,
            ..ProviderSettings::new(issuer.clone(), audience.clone())
        };
        settings.check()?;
        Ok(Some(settings))
    }
}

/// Several nodes on one database: on by default, every `serve` on the same database joins.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// This node's id in signals, health and logs (letters, digits, `.`, `_`, `-`; at most 64);
    /// unique per node. Generated when absent.
    #[arg(long, env = "TASKPULSE_NODE_ID", value_parser = parse_node_id)]
    pub node_id: Option<String>,
    /// This node is alone on its database: write no change log and hear no other node. Only
    /// for a deployment that will never run a second node (or for measuring the machinery).
    #[arg(long, env = "TASKPULSE_SINGLE_NODE")]
    pub single_node: bool,
    /// When the other nodes are told of a commit: `after-commit` (a NOTIFY batched per node;
    /// committers never wait) or `in-transaction` (a NOTIFY inside each writing transaction;
    /// PostgreSQL then serialises committers). See BENCHMARKS.md.
    #[arg(long, env = "TASKPULSE_CLUSTER_SIGNAL", value_enum, default_value_t = SignalArg::AfterCommit)]
    pub cluster_signal: SignalArg,
    /// How often every live aggregate is compared with its row (and team subscriptions with
    /// the team's members): the bound on how long a lost signal can leave anything stale.
    #[arg(long, env = "TASKPULSE_CLUSTER_CHECK_EVERY", default_value = "500ms", value_parser = parse_check_every)]
    pub cluster_check_every: Duration,
    /// The change log keeps the last this many versions of each aggregate (clients further
    /// behind resume from a snapshot).
    #[arg(long, env = "TASKPULSE_CHANGE_LOG_KEEP_VERSIONS", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub change_log_keep_versions: i64,
    /// The change log keeps nothing older than this.
    #[arg(long, env = "TASKPULSE_CHANGE_LOG_KEEP_FOR", default_value = "24h", value_parser = humantime::parse_duration)]
    pub change_log_keep_for: Duration,
}

/// `--cluster-signal`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignalArg {
    /// A NOTIFY after commit, batched per node.
    AfterCommit,
    /// A NOTIFY inside each writing transaction.
    InTransaction,
}

impl ClusterArgs {
    /// The engine's cluster settings.
    pub fn cluster_config(&self) -> ClusterConfig {
        let defaults = ClusterConfig::default();
        ClusterConfig {
            enabled: !self.single_node,
            node_id: self.node_id.clone().unwrap_or(defaults.node_id),
            signal: match self.cluster_signal {
                SignalArg::AfterCommit => SignalMode::AfterCommit,
                SignalArg::InTransaction => SignalMode::InTransaction,
            },
            heal_every: self.cluster_check_every,
            log_keep_versions: self.change_log_keep_versions,
            log_keep_for: self.change_log_keep_for,
            ..defaults
        }
    }
}

fn parse_node_id(value: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err("a node id has 1 to 64 letters, digits, '.', '_' or '-'".to_owned())
    }
}

fn parse_check_every(value: &str) -> Result<Duration, String> {
    let every = humantime::parse_duration(value).map_err(|err| err.to_string())?;
    if (Duration::from_millis(10)..=Duration::from_secs(60)).contains(&every) {
        Ok(every)
    } else {
        Err("between 10ms and 60s".to_owned())
    }
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

    /// The WebSocket settings.
    pub fn ws_settings(&self) -> taskpulse_api::ws::WsSettings {
        taskpulse_api::ws::WsSettings {
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

/// The `--allowed-origins` entries as browsers write them in `Origin` (scheme and host in
/// lower case, no default port), blanks dropped; an error names the first entry that is
/// neither `*` nor an http(s) origin.
pub fn validate_origins(values: &[String]) -> anyhow::Result<Vec<String>> {
    values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(|value| {
            if value == "*" {
                return Ok(value.to_owned());
            }
            parse_origin(value).ok_or_else(|| {
                anyhow::anyhow!(
                    "--allowed-origins: `{value}` is not an origin; write `*` or \
                     scheme://host[:port] with http or https and no path, such as \
                     https://app.example.com"
                )
            })
        })
        .collect()
}

/// An origin: http or https, a host, maybe a port, and nothing else (a browser's `Origin`
/// never has a path, not even `/`, so a configured one would never match).
fn parse_origin(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && !value.contains('*')
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && !value.ends_with('/')
        && url.query().is_none()
        && url.fragment().is_none();
    plain.then(|| url.origin().ascii_serialization())
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

    fn origins(values: &[&str]) -> anyhow::Result<Vec<String>> {
        validate_origins(&values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() -> anyhow::Result<()> {
        assert_eq!(
            origins(&["https://App.Example.com", " http://localhost:3000", "*", ""])?,
            ["https://app.example.com", "http://localhost:3000", "*"]
        );
        assert_eq!(origins(&["https://a.example:443"])?, ["https://a.example"]);
        Ok(())
    }

    #[test]
    fn anything_but_an_http_origin_is_refused() {
        for bad in [
            "not a url",
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?q=1",
            "https://user@app.example.com",
            "https://*.example.com",
        ] {
            assert!(origins(&[bad]).is_err(), "{bad} was accepted");
        }
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
