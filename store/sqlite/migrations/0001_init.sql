-- sfsync internal tables, version 1. Object tables (one per sObject) are
-- created by EnsureTable and are not part of the migrations.

CREATE TABLE _sfsync_connections (
	org_id       TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	username     TEXT NOT NULL,
	instance_url TEXT NOT NULL,
	identity_url TEXT NOT NULL,
	login_url    TEXT NOT NULL,
	scopes       TEXT NOT NULL, -- JSON array of strings
	status       TEXT NOT NULL,
	issued_at    TEXT,          -- UTC, ISO-8601 with milliseconds
	sealed       BLOB,          -- token material sealed by package oauth
	version      INTEGER NOT NULL,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
);

-- The schema of every object table, as EnsureTable stored it.
CREATE TABLE _sfsync_tables (
	name       TEXT PRIMARY KEY COLLATE NOCASE,
	created_at TEXT NOT NULL
);

CREATE TABLE _sfsync_columns (
	table_name TEXT NOT NULL COLLATE NOCASE REFERENCES _sfsync_tables (name) ON DELETE CASCADE,
	position   INTEGER NOT NULL,
	name       TEXT NOT NULL COLLATE NOCASE,
	type       TEXT NOT NULL, -- a store.ColumnType
	precision  INTEGER NOT NULL DEFAULT 0,
	scale      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (table_name, name)
);

CREATE TABLE _sfsync_sync_state (
	org_id        TEXT NOT NULL,
	object        TEXT NOT NULL,
	watermark     TEXT,
	checkpoint    TEXT NOT NULL DEFAULT '',
	calculated_at TEXT,
	reconciled_at TEXT,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (org_id, object)
);

CREATE TABLE _sfsync_jobs (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	objects     TEXT NOT NULL, -- JSON array of object names
	mode        TEXT NOT NULL,
	state       TEXT NOT NULL,
	progress    TEXT NOT NULL, -- JSON array of per-object progress
	error       TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	started_at  TEXT,
	finished_at TEXT
);
CREATE INDEX _sfsync_jobs_created ON _sfsync_jobs (created_at DESC, id DESC);

CREATE TABLE _sfsync_receipts (
	org_id          TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	recorded_at     TEXT NOT NULL,
	PRIMARY KEY (org_id, notification_id)
) WITHOUT ROWID;
CREATE INDEX _sfsync_receipts_recorded ON _sfsync_receipts (recorded_at);

-- The describe of every synced object, per org, for users to query.
CREATE TABLE _sfsync_objects (
	org_id     TEXT NOT NULL,
	name       TEXT NOT NULL COLLATE NOCASE,
	label      TEXT NOT NULL,
	custom     INTEGER NOT NULL, -- 0 or 1
	updated_at TEXT NOT NULL,
	PRIMARY KEY (org_id, name)
);

CREATE TABLE _sfsync_fields (
	org_id            TEXT NOT NULL,
	object            TEXT NOT NULL COLLATE NOCASE,
	position          INTEGER NOT NULL, -- order in the describe
	name              TEXT NOT NULL,
	label             TEXT NOT NULL,
	type              TEXT NOT NULL, -- the Salesforce field type, such as currency
	custom            INTEGER NOT NULL,
	length            INTEGER NOT NULL,
	precision         INTEGER NOT NULL,
	scale             INTEGER NOT NULL,
	nillable          INTEGER NOT NULL,
	reference_to      TEXT NOT NULL, -- JSON array of object names
	relationship_name TEXT NOT NULL,
	picklist_values   TEXT NOT NULL, -- JSON array of values
	PRIMARY KEY (org_id, object, name),
	FOREIGN KEY (org_id, object) REFERENCES _sfsync_objects (org_id, name) ON DELETE CASCADE
);
