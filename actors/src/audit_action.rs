//! What an audit entry says was done: every entry the engine writes names one of these, so the
//! strings that feeds, the audit log and their readers match on are written once.

// Declares `AuditAction` from one list of `Variant => "string"`, so that its variants, `ALL`
// and `as_str` cannot fall out of step.
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $stored:literal,)*) => {
        /// What was done, as an audit entry records it ([`AuditRecord::action`] holds its
        /// [`as_str`](AuditAction::as_str); entries read back keep the string, since older rows
        /// may name actions this version no longer writes).
        ///
        /// [`AuditRecord::action`]: crate::AuditRecord::action
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action.
            pub const ALL: &[AuditAction] = &[$(AuditAction::$variant),*];

            /// The string stored in the audit log and sent to clients, e.g. `task.create`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $stored,)*
                }
            }
        }
    };
}

audit_actions! {
    /// A task was created.
    TaskCreate => "task.create",
    /// A task was changed.
    TaskUpdate => "task.update",
    /// A task was deleted.
    TaskDelete => "task.delete",
    /// A task was shared with a user (or the share's permission changed).
    TaskShare => "task.share",
    /// A share of a task was withdrawn.
    TaskUnshare => "task.unshare",
    /// Tasks were imported from a file, all in one go (one entry for the whole import).
    TaskImport => "task.import",
    /// A team was created.
    TeamCreate => "team.create",
    /// A team was deleted.
    TeamDelete => "team.delete",
    /// A user was added to a team.
    TeamMemberAdd => "team.member_add",
    /// A member's role changed.
    TeamMemberRole => "team.member_role",
    /// A member left a team.
    TeamMemberLeave => "team.member_leave",
    /// A member was removed from a team by someone else.
    TeamMemberRemove => "team.member_remove",
    /// An account was created by its embedder (`Engine::create_account`).
    UserCreate => "user.create",
    /// An account was deleted.
    UserDelete => "user.delete",
    /// A user changed their settings (time zone, email notifications).
    UserUpdate => "user.update",
    /// Someone registered with an email and a password.
    AuthRegister => "auth.register",
    /// Someone signed in with an email and a password.
    AuthLogin => "auth.login",
    /// A sign-in with an email and a password failed.
    AuthLoginFailed => "auth.login_failed",
    /// A refresh token was exchanged for a new pair.
    AuthRefresh => "auth.refresh",
    /// A spent refresh token was presented again; its session is revoked.
    AuthRefreshReused => "auth.refresh_reused",
    /// Someone signed out: their session is revoked.
    AuthLogout => "auth.logout",
    /// An identity provider's user was seen for the first time and given an account.
    AuthExternalAccountCreated => "auth.external_account_created",
    /// A personal access token was created.
    TokenCreate => "token.create",
    /// A personal access token was used for the first time.
    TokenFirstUse => "token.first_use",
    /// A personal access token was deleted (revoked).
    TokenDelete => "token.delete",
    /// A webhook was created.
    WebhookCreate => "webhook.create",
    /// A webhook was deleted.
    WebhookDelete => "webhook.delete",
}

impl AuditAction {
    /// The action a stored string names, if this version knows it.
    pub fn parse(action: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == action)
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    /// The strings are stored in every audit row and sent to clients: renaming one loses the
    /// history written under the old name.
    #[test]
    fn every_action_keeps_its_stored_string() {
        let stored: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            stored,
            [
                "task.create",
                "task.update",
                "task.delete",
                "task.share",
                "task.unshare",
                "task.import",
                "team.create",
                "team.delete",
                "team.member_add",
                "team.member_role",
                "team.member_leave",
                "team.member_remove",
                "user.create",
                "user.delete",
                "user.update",
                "auth.register",
                "auth.login",
                "auth.login_failed",
                "auth.refresh",
                "auth.refresh_reused",
                "auth.logout",
                "auth.external_account_created",
                "token.create",
                "token.first_use",
                "token.delete",
                "webhook.create",
                "webhook.delete",
            ]
        );
    }

    #[test]
    fn every_action_parses_back_and_unknown_strings_do_not() {
        for &action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("task.archive"), None);
        assert_eq!(AuditAction::parse(""), None);
    }
}
