//! Ids and times the OpenAPI document's examples share, so that one example's task is owned by
//! another example's user.

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub const TASK_ID: Uuid = Uuid::from_u128(0x0193_4f70_1c2a_7d4e_8f10_2b3c_4d5e_6f70);
pub const USER_ID: Uuid = Uuid::from_u128(0x0193_4f6e_8a10_7c3e_9b2d_5f41_a6c8_e012);
pub const OTHER_USER_ID: Uuid = Uuid::from_u128(0x0193_4f6f_02b1_7aa0_8c3d_1e2f_3a4b_5c6d);
pub const TEAM_ID: Uuid = Uuid::from_u128(0x0193_4f71_5e6f_7a80_9b1c_2d3e_4f50_6172);

/// A fixed time, `seconds` after 2025-11-22T08:00:00Z.
pub fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_798_400 + seconds, 0).unwrap_or_default()
}
pub const EMAIL: &str = "ada@example.com";
