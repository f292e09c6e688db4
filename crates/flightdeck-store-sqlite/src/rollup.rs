//! Metric series kept small: samples older than a cut-off are replaced by one point per
//! bucket (a minute by default) holding their mean, at the bucket's start; points older than
//! the retention are deleted. A bucket already reduced to one point at its start is left as
//! it is, so running it again changes nothing. A sample that arrives late, into a bucket
//! already rolled up, is averaged with the roll-up as one more sample.

use rusqlite::{Connection, params};

/// Rolls up samples before `raw_before` (ns) into buckets of `step_ns`, and deletes points
/// before `keep_after` (ns). Returns (samples rolled up, points deleted).
pub fn roll_up(
    conn: &Connection,
    raw_before: i64,
    step_ns: i64,
    keep_after: i64,
) -> rusqlite::Result<(usize, usize)> {
    let deleted = conn.execute("DELETE FROM metrics WHERE at < ?1", [keep_after])?;
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS rolled (
           name TEXT, labels TEXT, session_id TEXT, bucket INTEGER, value REAL, unit TEXT);
         DELETE FROM rolled;",
    )?;
    conn.execute(
        "INSERT INTO rolled
         SELECT name, labels, session_id, (at / ?2) * ?2 AS bucket, avg(value), max(unit)
         FROM metrics WHERE at < ?1
         GROUP BY name, labels, session_id, bucket
         HAVING count(*) > 1 OR min(at) != bucket",
        params![raw_before, step_ns],
    )?;
    let rolled = conn.execute(
        "DELETE FROM metrics WHERE at < ?1
           AND (name, labels, session_id, (at / ?2) * ?2)
               IN (SELECT name, labels, session_id, bucket FROM rolled)",
        params![raw_before, step_ns],
    )?;
    conn.execute(
        "INSERT INTO metrics (name, labels, session_id, at, value, unit)
         SELECT name, labels, session_id, bucket, value, unit FROM rolled",
        [],
    )?;
    conn.execute("DELETE FROM rolled", [])?;
    Ok((rolled, deleted))
}
