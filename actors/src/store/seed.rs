//! Demo data generated inside PostgreSQL with set-based inserts (a million tasks take seconds),
//! then every aggregate row rebuilt from it, all in one transaction.

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::truth::rebuild_aggregates;
use crate::error::{Error, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// Marks this run's emails (`seed-<tag>-<n>@example.com`), so seeding twice never collides.
    pub tag: String,
    /// The password hash every demo user signs in with.
    pub password_hash: String,
    /// How many users.
    pub users: u32,
    /// How many teams (members are drawn from the new users).
    pub teams: u32,
    /// How many tasks.
    pub tasks: u32,
}

/// Generates the data and rebuilds the aggregates, in one transaction.
pub(crate) async fn seed(conn: &mut AsyncPgConnection, data: &DemoData) -> Result<()> {
    conn.transaction::<_, Error, _>(async |conn| {
        diesel::sql_query(SEED_PARAMS)
            .bind::<Text, _>(&data.tag)
            .bind::<Text, _>(&data.password_hash)
            .bind::<BigInt, _>(i64::from(data.users))
            .bind::<BigInt, _>(i64::from(data.teams))
            .bind::<BigInt, _>(i64::from(data.tasks))
            .execute(conn)
            .await?;
        for statement in GENERATE {
            let step = std::time::Instant::now();
            diesel::sql_query(*statement).execute(conn).await?;
            tracing::debug!(elapsed = ?step.elapsed(), "{}", first_line(statement));
        }
        let step = std::time::Instant::now();
        rebuild_aggregates(conn).await?;
        tracing::debug!(elapsed = ?step.elapsed(), "rebuilt the aggregates");
        Ok(())
    })
    .await
}

fn first_line(statement: &str) -> &str {
    statement.trim().lines().next().unwrap_or_default()
}

/// The run's parameters in one temporary row, so the statements below read them by name.
const SEED_PARAMS: &str = "
CREATE TEMP TABLE seed_params ON COMMIT DROP AS
SELECT $1::text AS tag, $2::text AS hash, $3::bigint AS users, $4::bigint AS teams,
       $5::bigint AS tasks";

/// The generating statements, in order.
const GENERATE: &[&str] = &[
    // Big hash aggregates and joins stay in memory rather than spilling to disk.
    "SET LOCAL work_mem = '256MB'",
    UUID_V7,
    SEED_USERS,
    INSERT_USERS,
    INSERT_TEAMS,
    SEED_TASKS,
    INSERT_TASKS,
    INSERT_SHARES,
];

/// UUIDv7 from a timestamp (PostgreSQL 15 has none built in): a random UUID with the
/// timestamp's milliseconds in its first 48 bits and version bits 0111.
const UUID_V7: &str = "
CREATE FUNCTION pg_temp.seed_uuid(ts timestamptz) RETURNS uuid AS $f$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
         placing substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
         FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$f$ LANGUAGE sql VOLATILE";

const SEED_USERS: &str = "
CREATE TEMP TABLE seed_users ON COMMIT DROP AS
SELECT c.n, pg_temp.seed_uuid(c.created_at) AS id, c.created_at
FROM (SELECT g AS n, now() - random() * interval '120 days' AS created_at
      FROM seed_params p, generate_series(1, p.users) g) c";

const INSERT_USERS: &str = "
INSERT INTO users (id, email, password_hash, display_name, created_at)
SELECT u.id, 'seed-' || p.tag || '-' || u.n || '@example.com', p.hash,
       (ARRAY['Ada','Grace','Linus','Barbara','Ken','Margaret','Dennis','Frances'])
       [1 + u.n % 8] || ' ' || u.n, u.created_at
FROM seed_users u, seed_params p";

/// Each team gets its creator as owner and up to six drawn members (one admin, one viewer).
const INSERT_TEAMS: &str = "
WITH teams_made AS (
  INSERT INTO teams (id, name, created_by, created_at)
  SELECT pg_temp.seed_uuid(c.created_at),
         (ARRAY['Platform','Mobile','Design','Growth','Data','Support','Infra','Web'])
         [1 + c.g % 8] || ' ' || c.g, u.id, c.created_at
  FROM (SELECT g, 1 + floor(random() * p.users)::bigint AS pick,
               now() - random() * interval '90 days' AS created_at
        FROM seed_params p, generate_series(1, p.teams) g) c
  JOIN seed_users u ON u.n = c.pick
  RETURNING id, created_by, created_at
), owners AS (
  INSERT INTO team_members (team_id, user_id, role, joined_at)
  SELECT id, created_by, 'owner', created_at FROM teams_made
  RETURNING team_id
)
INSERT INTO team_members (team_id, user_id, role, joined_at)
SELECT c.id, u.id,
       CASE WHEN c.k = 1 THEN 'admin' WHEN c.k = 6 THEN 'viewer' ELSE 'member' END,
       c.created_at + interval '1 hour'
FROM (SELECT t.id, t.created_by, t.created_at, k,
             1 + floor(random() * p.users)::bigint AS pick
      FROM teams_made t, seed_params p, generate_series(1, 6) k) c
JOIN seed_users u ON u.n = c.pick
WHERE u.id <> c.created_by AND (SELECT count(*) FROM owners) >= 0
ON CONFLICT DO NOTHING";

/// Roughly 30% team tasks (owned by a writing member of the team), the rest personal;
/// 40% pending, 25% in progress, 35% completed; 60% with a due date, some already past.
const SEED_TASKS: &str = "
CREATE TEMP TABLE seed_tasks ON COMMIT DROP AS
WITH writers AS (
  SELECT row_number() OVER () AS n, m.team_id, m.user_id
  FROM team_members m JOIN seed_users u ON u.id = m.user_id
  WHERE m.role <> 'viewer'
), sizes AS (
  SELECT (SELECT count(*) FROM writers) AS writers, p.users, p.tasks FROM seed_params p
), drawn AS (
  SELECT g, random() AS r_status, random() AS r_priority, random() AS r_due, random() AS r_done,
         random() < 0.3 AND s.writers > 0 AS in_team,
         1 + floor(random() * s.users)::bigint AS user_pick,
         1 + floor(random() * greatest(s.writers, 1))::bigint AS writer_pick,
         now() - random() * interval '60 days' AS created_at
  FROM sizes s, generate_series(1, s.tasks) g
)
SELECT d.g AS n,
       pg_temp.seed_uuid(d.created_at) AS id,
       (ARRAY['Write the quarterly report','Review pull request','Fix login bug',
              'Plan the sprint','Update dependencies','Call the supplier','Draft the blog post',
              'Prepare the demo','Triage support tickets','Refactor the billing module'])
       [1 + d.g % 10] || ' #' || d.g AS title,
       CASE WHEN d.r_status < 0.40 THEN 'pending'
            WHEN d.r_status < 0.65 THEN 'in_progress' ELSE 'completed' END AS status,
       CASE WHEN d.r_priority < 0.25 THEN 'low' WHEN d.r_priority < 0.70 THEN 'medium'
            WHEN d.r_priority < 0.90 THEN 'high' ELSE 'urgent' END AS priority,
       CASE WHEN d.r_due < 0.60 THEN d.created_at + (d.r_due * 50 - 5) * interval '1 day' END
         AS due_at,
       coalesce(w.user_id, u.id) AS owner_id,
       w.team_id,
       d.created_at,
       d.created_at + d.r_done * (now() - d.created_at) AS done_at
FROM drawn d
LEFT JOIN seed_users u ON NOT d.in_team AND u.n = d.user_pick
LEFT JOIN writers w ON d.in_team AND w.n = d.writer_pick";

const INSERT_TASKS: &str = "
INSERT INTO tasks (id, title, description, status, priority, due_at, owner_id, team_id,
                   version, created_at, updated_at, started_at, completed_at)
SELECT id, title, '', status, priority, due_at, owner_id, team_id, 1, created_at,
       CASE WHEN status = 'completed' THEN done_at ELSE created_at END,
       CASE WHEN status <> 'pending' THEN created_at END,
       CASE WHEN status = 'completed' THEN done_at END
FROM seed_tasks";

/// Every tenth task is shared with someone else, mostly for viewing.
const INSERT_SHARES: &str = "
INSERT INTO task_shares (task_id, user_id, permission, created_at)
SELECT c.id, u.id, CASE WHEN c.n % 30 = 0 THEN 'edit' ELSE 'view' END, c.created_at
FROM (SELECT t.n, t.id, t.owner_id, t.created_at,
             1 + floor(random() * p.users)::bigint AS pick
      FROM seed_tasks t, seed_params p WHERE t.n % 10 = 0) c
JOIN seed_users u ON u.n = c.pick
WHERE u.id <> c.owner_id
ON CONFLICT DO NOTHING";
