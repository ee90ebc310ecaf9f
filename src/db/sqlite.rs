//! SQLite: the settings of every connection, the single writer, its WAL checkpoints and
//! the planner's statistics.
use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{Recorder, counted};

/// SQLite's memory, per connection: its page cache and its memory map. Chosen, not left
/// to chance: each of the pool's connections keeps its own cache, and the writer its own.
#[derive(Clone, Copy, Debug)]
pub struct SqliteMemory {
    /// Each read connection's page cache. Small: it is dropped whenever a write commits.
    pub cache_kib: u32,
    /// The writer's page cache, which stays warm (no other connection writes).
    pub writer_cache_kib: u32,
    pub mmap_mib: u32,
    /// The WAL is checkpointed by whoever calls `Db::checkpoint` (the server, on a
    /// timer), not by the writer's commits.
    pub background_checkpoints: bool,
}

impl Default for SqliteMemory {
    fn default() -> Self {
        SqliteMemory {
            cache_kib: 2048,
            writer_cache_kib: 8192,
            mmap_mib: 0,
            background_checkpoints: false,
        }
    }
}

/// The `-wal` file is truncated back to this size after a checkpoint (it otherwise keeps
/// its largest size).
const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// The WAL size (in 4 KiB pages: 16 MiB) from which `Writer::checkpoint` has it start over.
pub(super) const RESTART_FRAMES: i64 = 4096;

/// The settings of every SQLite connection, with its page cache (KiB) and memory map
/// (MiB). WAL mode with a busy timeout: readers never wait for the writer, and whatever
/// writes outside the writer's turn (migrations, a second process) waits instead of
/// failing with "database is locked".
pub(super) fn settings(opts: SqliteConnectOptions, cache_kib: u32, mmap_mib: u32) -> SqliteConnectOptions {
    opts.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("cache_size", format!("-{cache_kib}"))
        .pragma("mmap_size", (u64::from(mmap_mib) * 1024 * 1024).to_string())
        .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
        .pragma("wal_autocheckpoint", "1000")
}

/// SQLite's single writer: one connection that runs every write transaction, and the
/// turn to use it, handed out in arrival order (tokio's mutex is fair). Writers queue on
/// the turn instead of sleeping and retrying in SQLite's busy handler, where arrival
/// order meant nothing and some waited most of a second. The connection is kept for
/// writes: a SQLite connection drops its whole page cache whenever another connection has
/// committed, so a writer drawn from the read pool started cold after every commit and
/// read the pages of each FTS5 merge back through `pread` (measured: 278 → 418 req/s of
/// `createPost` with a warm writer).
#[derive(Clone)]
pub(super) struct Writer {
    conn: DatabaseConnection,
    turn: Arc<Mutex<()>>,
    /// Runs the checkpoints, on a connection of its own, uncounted (it belongs to no
    /// request); `None` without `background_checkpoints` and for an in-memory database.
    checkpointer: Option<DatabaseConnection>,
    /// False for an in-memory database: the writer is the pool's one connection (each
    /// connection would be a database of its own).
    own_connection: bool,
}

impl Writer {
    /// The writer of the database `options` (the read pool's) connect to; `pool` is that
    /// pool, the writer itself for an in-memory database.
    pub(super) async fn connect(
        options: &ConnectOptions,
        memory: SqliteMemory,
        in_memory: bool,
        pool: &DatabaseConnection,
        recorder: &Recorder,
    ) -> Result<Writer, DbErr> {
        if in_memory {
            return Ok(Writer {
                conn: pool.clone(),
                turn: Arc::default(),
                checkpointer: None,
                own_connection: false,
            });
        }
        let single = |cache_kib: u32, autocheckpoint: bool| {
            let mut options = options.clone();
            options
                .max_connections(1)
                .min_connections(1)
                .map_sqlx_sqlite_opts(move |opts| {
                    let opts = settings(opts, cache_kib, memory.mmap_mib);
                    if autocheckpoint {
                        opts
                    } else {
                        opts.pragma("wal_autocheckpoint", "0")
                    }
                });
            options
        };
        let background = memory.background_checkpoints;
        let conn = sea_orm::Database::connect(single(memory.writer_cache_kib, !background)).await?;
        let checkpointer = match background {
            // It copies WAL frames into the file: no page cache to speak of.
            true => Some(sea_orm::Database::connect(single(64, true)).await?),
            false => None,
        };
        Ok(Writer {
            conn: counted(conn, recorder),
            turn: Arc::default(),
            checkpointer,
            own_connection: true,
        })
    }

    /// A write transaction, once it is this caller's turn; the turn is given back when
    /// the guard drops (after the transaction ends).
    pub(super) async fn begin(
        &self,
        options: TransactionOptions,
    ) -> Result<(DatabaseTransaction, OwnedMutexGuard<()>), DbErr> {
        let turn = self.turn.clone().lock_owned().await;
        Ok((self.conn.begin_with_options(options).await?, turn))
    }

    /// A checkpoint of the WAL (copies committed pages into the database file), with
    /// `background_checkpoints`; nothing otherwise.
    ///
    /// The copying runs beside the writer, not in its turn: a checkpoint on commit
    /// (SQLite's default, every 1,000 pages) put the copy and its two `fsync`s into one
    /// writer's commit while the others queued. But the WAL only starts over when a write
    /// begins with every frame copied, which under steady writes never happens by itself
    /// (measured: a 6 GB `-wal` after 60 s). So once the WAL holds `RESTART_FRAMES`, a
    /// second pass runs in the writer's turn and copies what was written since the first;
    /// the next write then starts the WAL over.
    pub(super) async fn checkpoint(&self) -> Result<(), DbErr> {
        let Some(conn) = &self.checkpointer else {
            return Ok(());
        };
        let passive = || async {
            let row = conn
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA wal_checkpoint(PASSIVE)",
                ))
                .await?;
            // (busy, frames in the WAL, frames copied)
            row.map_or(Ok(0), |row| row.try_get_by_index::<i64>(1))
        };
        if passive().await? >= RESTART_FRAMES {
            let _turn = self.turn.lock().await;
            passive().await?;
        }
        Ok(())
    }

    /// `PRAGMA optimize` (statistics of the tables whose queries would gain), in the
    /// writer's turn: it writes the statistics.
    pub(super) async fn maintain(&self) {
        let _turn = self.turn.lock().await;
        if let Err(e) = self.conn.execute_unprepared("PRAGMA optimize=0x10002").await {
            tracing::warn!(error = %e, "PRAGMA optimize failed");
        }
    }

    /// At shutdown: fresh statistics, the WAL folded back into the file, the writer's
    /// connections closed.
    pub(super) async fn close(&self) -> Result<(), DbErr> {
        self.maintain().await;
        let _turn = self.turn.lock().await;
        if let Err(e) = self
            .conn
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
        {
            tracing::warn!(error = %e, "SQLite checkpoint at shutdown failed");
        }
        if self.own_connection {
            self.conn.clone().close().await?;
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.clone().close().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under back-to-back write transactions the WAL never has a moment with every frame
    /// copied, so without the checkpoint's second pass (in the writer's turn) it grows by
    /// everything written (a 6 GB `-wal` after 60 s of the write benchmark).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn steady_writes_keep_the_wal_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("wal.db").display());
        let memory = SqliteMemory {
            background_checkpoints: true,
            ..SqliteMemory::default()
        };
        let db = crate::db::connect_with(&url, 2, false, None, memory)
            .await
            .unwrap()
            .db;
        db.conn()
            .execute_unprepared("CREATE TABLE blobs (b BLOB)")
            .await
            .unwrap();
        const BLOB: i64 = 64 * 1024;
        let restart_bytes = RESTART_FRAMES * 4096;
        // Five times what starts the WAL over, in 64 KiB transactions with no pause.
        let writes = 5 * restart_bytes / BLOB;
        let writer = {
            let db = db.clone();
            tokio::spawn(async move {
                let insert = Statement::from_string(
                    DbBackend::Sqlite,
                    format!("INSERT INTO blobs VALUES (randomblob({BLOB}))"),
                );
                for _ in 0..writes {
                    let txn = db.begin_with_options(TransactionOptions::default()).await?;
                    txn.execute_raw(insert.clone()).await?;
                    txn.commit().await?;
                }
                Ok::<_, DbErr>(())
            })
        };
        // The server's timer, faster.
        let wal = dir.path().join("wal.db-wal");
        let mut largest = 0;
        while !writer.is_finished() {
            db.checkpoint().await.unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        writer.await.unwrap().unwrap();
        let written = writes * BLOB;
        assert!(
            largest < 3 * restart_bytes as u64,
            "the -wal file reached {largest} bytes ({written} written)"
        );
        db.close().await.unwrap();
    }
}
