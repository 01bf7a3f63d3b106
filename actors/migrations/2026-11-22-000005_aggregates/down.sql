DROP TABLE team_activity;
DROP TABLE user_activity;
DROP TABLE team_member_stats;
DROP TABLE team_stats;
DROP TABLE user_stats;
