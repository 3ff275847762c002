-- sfsync internal tables. {schema} is replaced by the quoted schema name.

-- Connected orgs; sealed holds token material sealed by package oauth.
CREATE TABLE {schema}._sfsync_connections (
	org_id       text COLLATE "C" PRIMARY KEY,
	user_id      text NOT NULL DEFAULT '',
	username     text NOT NULL DEFAULT '',
	instance_url text NOT NULL DEFAULT '',
	identity_url text NOT NULL DEFAULT '',
	login_url    text NOT NULL DEFAULT '',
	scopes       text[],
	status       text NOT NULL DEFAULT '',
	issued_at    timestamptz,
	sealed       bytea,
	version      bigint NOT NULL,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);

-- The declared schema of every object table, in column order.
CREATE TABLE {schema}._sfsync_columns (
	table_name  text COLLATE "C" NOT NULL,
	column_name text COLLATE "C" NOT NULL,
	position    integer NOT NULL,
	type        text NOT NULL,
	precision   integer NOT NULL DEFAULT 0,
	scale       integer NOT NULL DEFAULT 0,
	PRIMARY KEY (table_name, column_name)
);

-- Incremental-sync position per (org, object).
CREATE TABLE {schema}._sfsync_sync_state (
	org_id        text COLLATE "C" NOT NULL,
	object        text COLLATE "C" NOT NULL,
	watermark     timestamptz,
	checkpoint    text NOT NULL DEFAULT '',
	calculated_at timestamptz,
	reconciled_at timestamptz,
	updated_at    timestamptz,
	PRIMARY KEY (org_id, object)
);

-- Sync jobs; objects and progress are JSON arrays.
CREATE TABLE {schema}._sfsync_jobs (
	id          text COLLATE "C" PRIMARY KEY,
	org_id      text COLLATE "C" NOT NULL,
	objects     jsonb,
	mode        text NOT NULL DEFAULT '',
	state       text NOT NULL DEFAULT '',
	progress    jsonb,
	error       text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	started_at  timestamptz,
	finished_at timestamptz
);
CREATE INDEX _sfsync_jobs_created ON {schema}._sfsync_jobs (created_at DESC, id DESC);

-- Outbound Message notification IDs already applied.
CREATE TABLE {schema}._sfsync_receipts (
	org_id      text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	received_at timestamptz NOT NULL,
	PRIMARY KEY (org_id, id)
);
CREATE INDEX _sfsync_receipts_received ON {schema}._sfsync_receipts (received_at);

-- The describe of every synced object, for users to query.
CREATE TABLE {schema}._sfsync_objects (
	org_id     text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	label      text NOT NULL DEFAULT '',
	custom     boolean NOT NULL DEFAULT false,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (org_id, name)
);

CREATE TABLE {schema}._sfsync_fields (
	org_id            text COLLATE "C" NOT NULL,
	object            text COLLATE "C" NOT NULL,
	name              text COLLATE "C" NOT NULL,
	position          integer NOT NULL,
	label             text NOT NULL DEFAULT '',
	type              text NOT NULL DEFAULT '',
	custom            boolean NOT NULL DEFAULT false,
	length            integer NOT NULL DEFAULT 0,
	precision         integer NOT NULL DEFAULT 0,
	scale             integer NOT NULL DEFAULT 0,
	nillable          boolean NOT NULL DEFAULT false,
	reference_to      text[],
	relationship_name text NOT NULL DEFAULT '',
	picklist_values   text[],
	PRIMARY KEY (org_id, object, name),
	FOREIGN KEY (org_id, object) REFERENCES {schema}._sfsync_objects (org_id, name) ON DELETE CASCADE
);

-- Leases of store.Locker: one row per held name, until expires_at
-- (the database clock).
CREATE TABLE {schema}._sfsync_locks (
	name       text COLLATE "C" PRIMARY KEY,
	holder     text NOT NULL,
	expires_at timestamptz NOT NULL
);
