-- clean_geo: the cleaned geo table, as the original notebook's df_geo.
-- Reads geo_parsed (the view made from parse_geo.sql) and drops exact duplicates.
-- Output columns, in the original's order:
--   ind BIGINT, country, coordinates ARRAY<DOUBLE> [latitude, longitude], timestamp TIMESTAMP
-- No order: a table, not an answer.
SELECT DISTINCT
  ind,
  country,
  coordinates,
  timestamp
FROM geo_parsed
