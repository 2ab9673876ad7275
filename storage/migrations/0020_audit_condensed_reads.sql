-- Repeated reads condensed (issue 26): a control-room screen polling live zones every
-- second wrote about 86,000 audit rows a day. A read is now one row per who (actor,
-- role, address), what (action, target) and hour, with the first and last time and how
-- many times; changes stay one row each. `at` is the last time, `first_at` the first.
-- condense_key is sha-256 of those fields and the hour; null for changes.
alter table audit_log
  add column first_at timestamptz,
  add column count integer not null default 1,
  add column condense_key bytea;
create unique index audit_log_condense_key on audit_log (condense_key) where condense_key is not null;
