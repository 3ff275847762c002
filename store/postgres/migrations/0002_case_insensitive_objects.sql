-- Version 2: object names are Salesforce API names, which are
-- case-insensitive, so "Account" and "account" name one object. Sync
-- state and describes become unique on lower(object name) per org.
-- (API names are ASCII, which lower() folds alike under every collation.)
-- Where version 1 stored several spellings of one object for an org, the
-- most recently updated row is kept (on a tie, the greatest spelling).

DELETE FROM {schema}._sfsync_sync_state s
USING {schema}._sfsync_sync_state t
WHERE s.org_id = t.org_id AND lower(s.object) = lower(t.object) AND s.object <> t.object
	AND (coalesce(s.updated_at, '-infinity') < coalesce(t.updated_at, '-infinity')
		OR (coalesce(s.updated_at, '-infinity') = coalesce(t.updated_at, '-infinity') AND s.object < t.object));
CREATE UNIQUE INDEX _sfsync_sync_state_object_ci ON {schema}._sfsync_sync_state (org_id, lower(object));

-- Deleting a describe deletes its fields (ON DELETE CASCADE).
DELETE FROM {schema}._sfsync_objects s
USING {schema}._sfsync_objects t
WHERE s.org_id = t.org_id AND lower(s.name) = lower(t.name) AND s.name <> t.name
	AND (s.updated_at < t.updated_at OR (s.updated_at = t.updated_at AND s.name < t.name));
CREATE UNIQUE INDEX _sfsync_objects_name_ci ON {schema}._sfsync_objects (org_id, lower(name));

-- SaveObjectMeta renames a describe to the latest spelling saved; its
-- fields follow.
ALTER TABLE {schema}._sfsync_fields DROP CONSTRAINT _sfsync_fields_org_id_object_fkey;
ALTER TABLE {schema}._sfsync_fields ADD CONSTRAINT _sfsync_fields_org_id_object_fkey
	FOREIGN KEY (org_id, object) REFERENCES {schema}._sfsync_objects (org_id, name)
	ON DELETE CASCADE ON UPDATE CASCADE;
