//! Which webhooks this node's commits gave events to: the sender skips a claim that could only
//! find webhooks it is delivering already (their next claim follows that delivery), so a
//! stream of commits for one busy webhook costs no claims that come back empty.

use std::collections::HashSet;

use uuid::Uuid;

/// The webhooks that have new events, as far as this node knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommittedFor {
    /// Some commit did not say which (a team command's transaction), or the sender is to look
    /// at every webhook anyway (its periodic poll).
    any: bool,
    webhooks: HashSet<Uuid>,
}

impl CommittedFor {
    /// Every webhook may have new events.
    pub fn any() -> Self {
        Self {
            any: true,
            webhooks: HashSet::new(),
        }
    }

    /// These webhooks have new events.
    pub fn webhooks(webhooks: impl IntoIterator<Item = Uuid>) -> Self {
        Self {
            any: false,
            webhooks: webhooks.into_iter().collect(),
        }
    }

    /// Adds what `other` knows.
    pub fn merge(&mut self, other: Self) {
        self.any |= other.any;
        self.webhooks.extend(other.webhooks);
    }

    /// Whether a claim could find one of these webhooks that `delivering` does not hold.
    pub fn beyond(&self, delivering: &HashSet<Uuid>) -> bool {
        self.any || self.webhooks.iter().any(|w| !delivering.contains(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_needed_only_for_webhooks_not_being_delivered() {
        let (busy, idle) = (Uuid::now_v7(), Uuid::now_v7());
        let delivering = HashSet::from([busy]);

        assert!(!CommittedFor::webhooks([busy]).beyond(&delivering));
        assert!(CommittedFor::webhooks([busy, idle]).beyond(&delivering));
        assert!(CommittedFor::any().beyond(&delivering));
        assert!(!CommittedFor::default().beyond(&delivering));

        let mut merged = CommittedFor::webhooks([busy]);
        merged.merge(CommittedFor::webhooks([idle]));
        assert!(merged.beyond(&delivering));
    }
}
