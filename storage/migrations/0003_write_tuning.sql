-- Rows updated on every uplink leave room in their page, so PostgreSQL can update them
-- in place (HOT: no index changes) instead of writing new index entries each time.
alter table latest_readings set (fillfactor = 70);
alter table devices set (fillfactor = 80);
