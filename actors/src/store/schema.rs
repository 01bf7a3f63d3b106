// The diesel view of actors/migrations/. Written by hand in the form `diesel print-schema`
// emits, so that building needs no libpq; the migration tests check every table against the
// database.

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        created_at -> Timestamptz,
        time_zone -> Text,
        email_notifications -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    teams (id) {
        id -> Uuid,
        name -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    tasks (id) {
        id -> Uuid,
        title -> Text,
        description -> Text,
        status -> Text,
        priority -> Text,
        due_at -> Nullable<Timestamptz>,
        owner_id -> Uuid,
        team_id -> Nullable<Uuid>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        shares_version -> Int8,
        started_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    task_shares (task_id, user_id) {
        task_id -> Uuid,
        user_id -> Uuid,
        permission -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Uuid>,
        team_id -> Nullable<Uuid>,
        details -> Jsonb,
        tx -> Int8,
        audience -> Array<Uuid>,
    }
}

diesel::table! {
    user_stats (user_id) {
        user_id -> Uuid,
        version -> Int8,
        pending -> Int8,
        in_progress -> Int8,
        completed -> Int8,
        low -> Int8,
        medium -> Int8,
        high -> Int8,
        urgent -> Int8,
        shared_with_me -> Int8,
        shared_by_me -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    team_stats (team_id) {
        team_id -> Uuid,
        version -> Int8,
        pending -> Int8,
        in_progress -> Int8,
        completed -> Int8,
        low -> Int8,
        medium -> Int8,
        high -> Int8,
        urgent -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    team_member_stats (team_id, user_id) {
        team_id -> Uuid,
        user_id -> Uuid,
        total -> Int8,
        completed -> Int8,
    }
}

diesel::table! {
    user_activity (user_id, day) {
        user_id -> Uuid,
        day -> Date,
        created -> Int8,
        completed -> Int8,
    }
}

diesel::table! {
    team_activity (team_id, day) {
        team_id -> Uuid,
        day -> Date,
        created -> Int8,
        completed -> Int8,
    }
}

diesel::table! {
    aggregate_changes (scope_kind, scope_id, version) {
        scope_kind -> Text,
        scope_id -> Uuid,
        version -> Int8,
        delta -> Jsonb,
        committed_at -> Timestamptz,
    }
}

diesel::table! {
    external_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    personal_access_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        scopes -> Array<Text>,
        digest -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        tx -> Int8,
        channel -> Text,
        due_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        attempts -> Int4,
        at -> Timestamptz,
        kind -> Text,
        actor_id -> Nullable<Uuid>,
        task_id -> Nullable<Uuid>,
        team_id -> Nullable<Uuid>,
        recipients -> Array<Uuid>,
        details -> Jsonb,
        webhook_id -> Nullable<Uuid>,
        event_id -> Nullable<Uuid>,
        failing_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        owner_id -> Nullable<Uuid>,
        team_id -> Nullable<Uuid>,
        created_by -> Nullable<Uuid>,
        url -> Text,
        events -> Array<Text>,
        secret -> Text,
        created_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        retry_at -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        event_id -> Uuid,
        event -> Text,
        attempt -> Int4,
        at -> Timestamptz,
        status -> Text,
        response_status -> Nullable<Int4>,
        next_attempt_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        source_id -> Uuid,
        at -> Timestamptz,
        kind -> Text,
        task_id -> Nullable<Uuid>,
        team_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        text -> Text,
        read_at -> Nullable<Timestamptz>,
        tx -> Int8,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(personal_access_tokens -> users (user_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(external_identities -> users (user_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(tasks -> users (owner_id));
diesel::joinable!(tasks -> teams (team_id));
diesel::joinable!(task_shares -> tasks (task_id));
diesel::joinable!(task_shares -> users (user_id));
diesel::joinable!(user_stats -> users (user_id));
diesel::joinable!(team_stats -> teams (team_id));
diesel::joinable!(team_member_stats -> teams (team_id));
diesel::joinable!(user_activity -> users (user_id));
diesel::joinable!(team_activity -> teams (team_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    teams,
    team_members,
    tasks,
    task_shares,
    audit_log,
    user_stats,
    team_stats,
    team_member_stats,
    user_activity,
    team_activity,
    aggregate_changes,
    external_identities,
    personal_access_tokens,
    outbox,
    notifications,
    webhooks,
    webhook_deliveries,
);
