import GRDB

/// The ledger's schema as frozen migration steps. Never edit a shipped step; add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: hosts, runs, channels, samples, events, batches") { db in
            try db.execute(
                sql: """
                    CREATE TABLE host (
                        id INTEGER PRIMARY KEY,
                        hostname TEXT NOT NULL, cpu_model TEXT NOT NULL, cpu_cores INTEGER NOT NULL,
                        memory_bytes INTEGER NOT NULL, kernel TEXT NOT NULL, gpus TEXT NOT NULL,
                        tool_version TEXT NOT NULL, boot_id TEXT NOT NULL);
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY,
                        host_id INTEGER NOT NULL REFERENCES host(id),
                        started_at TEXT NOT NULL, ended_at TEXT,
                        command TEXT NOT NULL, region TEXT,
                        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
                        pid INTEGER NOT NULL, recorder_start_ticks INTEGER NOT NULL, previous_run_id INTEGER,
                        monotonic_origin_ns INTEGER NOT NULL, exit_code INTEGER,
                        genesis_hash BLOB NOT NULL, seal_hash BLOB);
                    CREATE TABLE batch (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        seq INTEGER NOT NULL,
                        committed_at TEXT NOT NULL,
                        row_count INTEGER NOT NULL,
                        prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
                        PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
                    CREATE TABLE channel (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        idx INTEGER NOT NULL,
                        batch_seq INTEGER NOT NULL, row_seq INTEGER NOT NULL,
                        device TEXT NOT NULL, domain TEXT NOT NULL, kind TEXT NOT NULL, role TEXT NOT NULL, unit TEXT NOT NULL,
                        source TEXT NOT NULL, mode TEXT NOT NULL CHECK (mode IN ('measured', 'estimated')),
                        resolution REAL, wrap_range REAL, uncertainty REAL NOT NULL,
                        row_hash BLOB NOT NULL,
                        PRIMARY KEY (run_id, idx)) WITHOUT ROWID;
                    CREATE TABLE sample (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        batch_seq INTEGER NOT NULL, row_seq INTEGER NOT NULL,
                        channel INTEGER NOT NULL, t_ns INTEGER NOT NULL, value REAL NOT NULL,
                        row_hash BLOB NOT NULL,
                        PRIMARY KEY (run_id, batch_seq, row_seq)) WITHOUT ROWID;
                    CREATE INDEX sample_by_channel ON sample(run_id, channel, t_ns);
                    CREATE TABLE event (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        batch_seq INTEGER NOT NULL, row_seq INTEGER NOT NULL,
                        t_ns INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
                        row_hash BLOB NOT NULL,
                        PRIMARY KEY (run_id, batch_seq, row_seq)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2: channel key, device class and power bound") { db in
            try db.execute(
                sql: """
                    ALTER TABLE channel ADD COLUMN key TEXT;
                    ALTER TABLE channel ADD COLUMN device_class TEXT;
                    ALTER TABLE channel ADD COLUMN max_watts REAL;
                    """)
        }
        migrator.registerMigration("v3: provenance of runs merged from other ledgers") { db in
            try db.execute(
                sql: """
                    ALTER TABLE run ADD COLUMN origin_run_id INTEGER;
                    ALTER TABLE run ADD COLUMN origin_previous_genesis BLOB;
                    ALTER TABLE run ADD COLUMN origin_ledger TEXT;
                    ALTER TABLE run ADD COLUMN merged_at TEXT;
                    CREATE UNIQUE INDEX run_by_genesis ON run(genesis_hash);
                    """)
        }
        return migrator
    }
}
