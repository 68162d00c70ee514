-- What the SQLite schema does with its own features, done the PostgreSQL way.

-- Audit rows are append-only: the database itself refuses to change or delete them.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint

-- The services' SQLite statements insert NULL into the outbox's autoincrement key (SQLite then
-- picks the next rowid); here the sequence fills it in before the NOT NULL check.
CREATE FUNCTION outbox_events_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.seq IS NULL THEN
    NEW.seq := nextval(pg_get_serial_sequence('outbox_events', 'seq'));
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER outbox_events_seq BEFORE INSERT ON outbox_events
  FOR EACH ROW EXECUTE FUNCTION outbox_events_assign_seq();
--> statement-breakpoint

-- SQLite's json_extract(doc, '$.a.b') for the usage aggregations (`unique` counts a property):
-- the value at the dotted path as text, NULL when absent.
CREATE FUNCTION json_extract(doc json, path text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT doc #>> string_to_array(substr(path, 3), '.')
$$;
