-- Issue 24: vendor devices out of the box.
-- category: what a model measures; it decides the built-in mappings of fields whose
--   meaning depends on it (a count of people or of vehicles, occupancy of a parking
--   bay, a distance to water). Null: not known (names alone decide).
-- mapping_notes: fields of the model's examples a built-in rule recognised but left in
--   the decoded payload, each with the reason ([{ "path": …, "reason": … }]).
-- source: where an imported model came from (repository, vendor, device, codec file).
alter table device_models
  add column category text check (category in ('air', 'parking', 'people', 'traffic', 'streetlight', 'water', 'other')),
  add column mapping_notes jsonb not null default '[]',
  add column source jsonb;
