//! Hand-written statements that PostgreSQL prepares once per connection.
//!
//! diesel's `sql_query` is never cached: every execution parses, plans and costs a second round
//! trip. A [`Sql`] is cached under its text, like any dynamic diesel query, so a statement whose
//! shape is built at run time (how many aggregates a write bumps, say) is prepared once per
//! shape and connection and then only bound and executed.

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Date, Nullable, SqlType, Text, Timestamptz, Uuid as SqlUuid,
};
use uuid::Uuid;

/// A value bound to a statement parameter.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    BigInts(Vec<i64>),
    Statics(Vec<&'static str>),
    OptUuid(Option<Uuid>),
    Text(String),
    Static(&'static str),
    BigInt(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Date(NaiveDate),
}

impl From<Uuid> for Bind {
    fn from(value: Uuid) -> Self {
        Self::Uuid(value)
    }
}

impl From<Vec<Uuid>> for Bind {
    fn from(value: Vec<Uuid>) -> Self {
        Self::Uuids(value)
    }
}

impl From<Vec<i64>> for Bind {
    fn from(value: Vec<i64>) -> Self {
        Self::BigInts(value)
    }
}

impl From<Vec<&'static str>> for Bind {
    fn from(value: Vec<&'static str>) -> Self {
        Self::Statics(value)
    }
}

impl From<Option<Uuid>> for Bind {
    fn from(value: Option<Uuid>) -> Self {
        Self::OptUuid(value)
    }
}

impl From<String> for Bind {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&'static str> for Bind {
    fn from(value: &'static str) -> Self {
        Self::Static(value)
    }
}

impl From<i64> for Bind {
    fn from(value: i64) -> Self {
        Self::BigInt(value)
    }
}

impl From<bool> for Bind {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<DateTime<Utc>> for Bind {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Time(value)
    }
}

impl From<Option<DateTime<Utc>>> for Bind {
    fn from(value: Option<DateTime<Utc>>) -> Self {
        Self::OptTime(value)
    }
}

impl From<NaiveDate> for Bind {
    fn from(value: NaiveDate) -> Self {
        Self::Date(value)
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Static(&'static str),
    Owned(String),
    Bind(Bind),
}

/// A statement built piece by piece, whose rows have the SQL type `ST`.
#[derive(Debug, Clone)]
pub(crate) struct Sql<ST> {
    pieces: Vec<Piece>,
    binds: usize,
    row: PhantomData<ST>,
}

/// Statements with more parameters than this are not kept prepared: they are rare (a task
/// shared with many users being deleted, a team's deletion) and each has a shape of its own.
const CACHED_PARAMETERS: usize = 256;

impl<ST> Sql<ST> {
    pub fn new() -> Self {
        Self {
            pieces: Vec::new(),
            binds: 0,
            row: PhantomData,
        }
    }

    /// Appends SQL text.
    pub fn sql(&mut self, text: &'static str) -> &mut Self {
        self.pieces.push(Piece::Static(text));
        self
    }

    /// Appends SQL text made at run time (generated names, never a value from outside).
    pub fn generated(&mut self, text: String) -> &mut Self {
        self.pieces.push(Piece::Owned(text));
        self
    }

    /// Appends a parameter.
    pub fn bind(&mut self, value: impl Into<Bind>) -> &mut Self {
        self.binds += 1;
        self.pieces.push(Piece::Bind(value.into()));
        self
    }

    /// Appends parameters separated by commas (a row of `INSERT … SELECT`).
    pub fn values<const N: usize>(&mut self, values: [Bind; N]) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.bind(value);
        }
        self
    }

    /// How many parameters it has.
    pub fn parameters(&self) -> usize {
        self.binds
    }
}

impl<ST> QueryId for Sql<ST> {
    type QueryId = ();
    // Cached by its text and parameter types, not by its Rust type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: SqlType + 'static> Query for Sql<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Sql<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if self.binds > CACHED_PARAMETERS {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Static(text) => out.push_sql(text),
                Piece::Owned(text) => out.push_sql(text),
                Piece::Bind(bind) => match bind {
                    Bind::Uuid(v) => out.push_bind_param::<SqlUuid, _>(v)?,
                    Bind::Uuids(v) => out.push_bind_param::<Array<SqlUuid>, _>(v)?,
                    Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                    Bind::Statics(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                    Bind::OptUuid(v) => out.push_bind_param::<Nullable<SqlUuid>, _>(v)?,
                    Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                    Bind::Static(v) => out.push_bind_param::<Text, _>(v)?,
                    Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                    Bind::Bool(v) => out.push_bind_param::<diesel::sql_types::Bool, _>(v)?,
                    Bind::Time(v) => out.push_bind_param::<Timestamptz, _>(v)?,
                    Bind::OptTime(v) => out.push_bind_param::<Nullable<Timestamptz>, _>(v)?,
                    Bind::Date(v) => out.push_bind_param::<Date, _>(v)?,
                },
            }
        }
        Ok(())
    }
}
