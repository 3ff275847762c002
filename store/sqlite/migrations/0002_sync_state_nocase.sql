-- Version 2: object names in _sfsync_sync_state are Salesforce API names,
-- which are case-insensitive, so "Account" and "account" are one state.
-- The table is rebuilt with object COLLATE NOCASE in the key; where
-- version 1 stored several spellings of one object for an org, the most
-- recently updated state is kept (the later-inserted one on a tie).

CREATE TABLE _sfsync_sync_state_v2 (
	org_id        TEXT NOT NULL,
	object        TEXT NOT NULL COLLATE NOCASE,
	watermark     TEXT,
	checkpoint    TEXT NOT NULL DEFAULT '',
	calculated_at TEXT,
	reconciled_at TEXT,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (org_id, object)
);

INSERT INTO _sfsync_sync_state_v2 (org_id, object, watermark, checkpoint, calculated_at, reconciled_at, updated_at)
SELECT org_id, object, watermark, checkpoint, calculated_at, reconciled_at, updated_at
FROM (
	SELECT *, row_number() OVER (
		PARTITION BY org_id, object COLLATE NOCASE
		ORDER BY updated_at DESC, rowid DESC) AS n
	FROM _sfsync_sync_state
)
WHERE n = 1;

DROP TABLE _sfsync_sync_state;
ALTER TABLE _sfsync_sync_state_v2 RENAME TO _sfsync_sync_state;
