//! What the data generators share (`bench-impact` and `demo --scale national`): rows batched
//! into multi-row INSERTs, and a fixed-seed random generator so every run makes the same data.

use sqlx::AnyConnection;

/// A SQL value for the generator's batches.
pub enum Val {
    Text(String),
    Int(i64),
    Real(f64),
    /// A missing text; PostgreSQL wants a NULL of the column's type.
    Null,
    /// A missing integer.
    NullInt,
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Val::NullInt, Into::into)
    }
}

/// Rows waiting to be written to one table with multi-row INSERTs.
pub struct Batch {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    values: Vec<Val>,
    pub written: u64,
}

impl Batch {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Batch {
            table,
            columns,
            values: Vec::new(),
            written: 0,
        }
    }

    /// Organisations: id, name, kind, created_at.
    pub fn organisations() -> Self {
        Batch::new("organisations", &["id", "name", "kind", "created_at"])
    }

    /// Locations: id, org_id, name, address, postcode, place, lat_e6, lon_e6, created_at.
    pub fn locations() -> Self {
        Batch::new(
            "locations",
            &[
                "id",
                "org_id",
                "name",
                "address",
                "postcode",
                "place",
                "lat_e6",
                "lon_e6",
                "created_at",
            ],
        )
    }

    /// Offerings, every column in the order of the migration.
    pub fn offerings() -> Self {
        Batch::new(
            "offerings",
            &[
                "id",
                "org_id",
                "therapist_id",
                "location_id",
                "title",
                "kind",
                "description",
                "schedule",
                "weekdays",
                "start_date",
                "weeks",
                "capacity",
                "funding",
                "indications",
                "price_cents",
                "listed",
                "created_at",
                "updated_at",
            ],
        )
    }

    /// Group sessions: id, offering_id, session_date, start_time, duration_min,
    /// cancel_reason, created_at.
    pub fn group_sessions() -> Self {
        Batch::new(
            "group_sessions",
            &[
                "id",
                "offering_id",
                "session_date",
                "start_time",
                "duration_min",
                "cancel_reason",
                "created_at",
            ],
        )
    }

    /// Rows waiting to be written.
    pub fn pending(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    pub fn row<const N: usize>(&mut self, row: [Val; N]) {
        debug_assert_eq!(N, self.columns.len(), "{}", self.table);
        self.values.extend(row);
    }

    /// Rows per statement: a hundred, as statements of thousands of parameters bound far
    /// slower through sqlx (SQLite would allow 32766).
    fn per_statement(&self) -> usize {
        (30_000 / self.columns.len()).min(100)
    }

    pub async fn flush(&mut self, c: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let width = self.columns.len();
        let values = std::mem::take(&mut self.values);
        for chunk in values.chunks(self.per_statement() * width) {
            // Only the generator's own table and column names and numbered placeholders.
            let sql = insert_sql(self.table, self.columns, chunk.len() / width);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = match v {
                    Val::Text(s) => q.bind(s.as_str()),
                    Val::Int(i) => q.bind(*i),
                    Val::Real(f) => q.bind(*f),
                    Val::Null => q.bind(Option::<String>::None),
                    Val::NullInt => q.bind(Option::<i64>::None),
                };
            }
            q.execute(&mut *c).await?;
        }
        self.written += (values.len() / width) as u64;
        Ok(())
    }
}

fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// A fixed-seed generator (SplitMix64): the same data on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
