-- parse_geo: every raw geo record (view raw_geo, one row per JSON record, fields as text),
-- typed, one output row per input row (no de-duplication here; clean_geo does it).
--   ind BIGINT; latitude, longitude DOUBLE (decimal or exponent form, exponent at most 2 digits so
--   no value becomes Infinity); coordinates = [latitude, longitude] (NULL unless
--   both parse); timestamp TIMESTAMP from ISO 8601 text "2020-08-28T03:52:47" (or with a space,
--   optional fraction up to microseconds), read in the session time zone, which must be UTC.
--   Hours must be 00..23: DuckDB would roll "24:00:00" over to the next day, Spark refuses it.
-- Output columns, in order:
--   ind, country, coordinates, timestamp, latitude, longitude,
--   ind_status, country_status, latitude_status, longitude_status, timestamp_status
--     ('ok' | 'missing' | 'unparseable'),
--   ind_raw, latitude_raw, longitude_raw, timestamp_raw.
WITH src AS (
  SELECT
    CAST(ind AS STRING) AS ind_raw,
    CAST(timestamp AS STRING) AS timestamp_raw,
    CAST(latitude AS STRING) AS latitude_raw,
    CAST(longitude AS STRING) AS longitude_raw,
    CAST(country AS STRING) AS country_raw
  FROM raw_geo
),
typed AS (
  SELECT
    *,
    CASE
      WHEN regexp_like(ind_raw, '^-?[0-9]{1,18}$') THEN CAST(ind_raw AS BIGINT)
    END AS ind,
    country_raw AS country,
    CASE
      WHEN regexp_like(latitude_raw, '^-?[0-9]{1,3}([.][0-9]+)?([eE][-+]?[0-9]{1,2})?$')
        THEN CAST(latitude_raw AS DOUBLE)
    END AS latitude,
    CASE
      WHEN regexp_like(longitude_raw, '^-?[0-9]{1,3}([.][0-9]+)?([eE][-+]?[0-9]{1,2})?$')
        THEN CAST(longitude_raw AS DOUBLE)
    END AS longitude,
    CASE
      WHEN regexp_like(
        timestamp_raw,
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?$'
      ) THEN TRY_CAST(timestamp_raw AS TIMESTAMP)
    END AS timestamp
  FROM src
)
SELECT
  ind,
  country,
  CASE
    WHEN latitude IS NOT NULL AND longitude IS NOT NULL THEN array(latitude, longitude)
  END AS coordinates,
  timestamp,
  latitude,
  longitude,
  CASE
    WHEN ind_raw IS NULL THEN 'missing'
    WHEN ind IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS ind_status,
  CASE WHEN country_raw IS NULL THEN 'missing' ELSE 'ok' END AS country_status,
  CASE
    WHEN latitude_raw IS NULL THEN 'missing'
    WHEN latitude IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS latitude_status,
  CASE
    WHEN longitude_raw IS NULL THEN 'missing'
    WHEN longitude IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS longitude_status,
  CASE
    WHEN timestamp_raw IS NULL THEN 'missing'
    WHEN timestamp IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS timestamp_status,
  ind_raw,
  latitude_raw,
  longitude_raw,
  timestamp_raw
FROM typed
