//! Keyset pages (tasks, teams, audit entries): a checked request, one row more read than the
//! page holds to know whether another follows, and the next page's cursor.

use uuid::Uuid;

use super::validate::LIMIT;
use crate::error::{Error, FieldError, Result};

/// One page of a keyset-paginated listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass this as `cursor` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// A page request, checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    /// How many items the page holds.
    pub limit: i64,
    /// Where the previous page ended: its last item's id.
    pub cursor: Option<Uuid>,
}

impl PageRequest {
    /// `limit` is 1..=200 (50 when absent); `cursor` one this server issued.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(50);
        if !(LIMIT.0..=LIMIT.1).contains(&limit) {
            return Err(Error::Validation(vec![FieldError::new(
                "limit",
                "must be 1..=200",
            )]));
        }
        // Opaque to clients, a cursor is the last item's id.
        let cursor = cursor
            .map(|c| {
                Uuid::try_parse(c).map_err(|_| {
                    Error::Validation(vec![FieldError::new(
                        "cursor",
                        "is not a cursor this server issued",
                    )])
                })
            })
            .transpose()?;
        Ok(Self { limit, cursor })
    }

    /// How many rows to read: one more than the page holds, to know whether another follows.
    pub fn rows(&self) -> i64 {
        self.limit + 1
    }

    /// The page of `rows` (read with [`PageRequest::rows`]); when another page follows, its
    /// cursor is the `id` of the last item kept.
    pub fn page<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let next_cursor = if rows.len() as i64 > self.limit {
            rows.truncate(self.limit as usize);
            rows.last().map(|item| id(item).simple().to_string())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}
