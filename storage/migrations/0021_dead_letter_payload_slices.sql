-- Dead letters are read in slices (issue 26): a list shows a preview (the first bytes,
-- selected with substring), the whole payload is a download streamed in chunks. Stored
-- uncompressed out of line, PostgreSQL fetches only the TOAST chunks a slice needs
-- instead of decompressing the value from its start for every chunk. Affects new rows.
alter table dead_letters alter column payload set storage external;
-- The original size and SHA-256 of a payload of which only a prefix is kept (oversize
-- messages). Ingest fills them (migrations 0010-0019 may create them first: hence
-- "if not exists"); where null, the stored bytes are the whole payload.
alter table dead_letters add column if not exists payload_length bigint;
alter table dead_letters add column if not exists payload_sha256 bytea;
