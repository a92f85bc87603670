-- parse_user: every raw user record (view raw_user, one row per JSON record, fields as text),
-- typed, one output row per input row (no de-duplication here; clean_user does it).
--   ind BIGINT; user_name = first_name and last_name joined by one space (either alone when the
--   other is missing, NULL when both are); age INT; date_joined TIMESTAMP from ISO 8601 text,
--   read in the session time zone, which must be UTC (hours 00..23, as in parse_geo).
-- Output columns, in order:
--   ind, user_name, age, date_joined, first_name, last_name,
--   ind_status, first_name_status, last_name_status, age_status, date_joined_status
--     ('ok' | 'missing' | 'unparseable'),
--   ind_raw, age_raw, date_joined_raw.
WITH src AS (
  SELECT
    CAST(ind AS STRING) AS ind_raw,
    CAST(first_name AS STRING) AS first_name,
    CAST(last_name AS STRING) AS last_name,
    CAST(age AS STRING) AS age_raw,
    CAST(date_joined AS STRING) AS date_joined_raw
  FROM raw_user
),
typed AS (
  SELECT
    *,
    CASE
      WHEN regexp_like(ind_raw, '^-?[0-9]{1,18}$') THEN CAST(ind_raw AS BIGINT)
    END AS ind,
    CASE
      WHEN first_name IS NOT NULL OR last_name IS NOT NULL
        THEN concat_ws(' ', first_name, last_name)
    END AS user_name,
    CASE WHEN regexp_like(age_raw, '^[0-9]{1,3}$') THEN CAST(age_raw AS INT) END AS age,
    CASE
      WHEN regexp_like(
        date_joined_raw,
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?$'
      ) THEN TRY_CAST(date_joined_raw AS TIMESTAMP)
    END AS date_joined
  FROM src
)
SELECT
  ind,
  user_name,
  age,
  date_joined,
  first_name,
  last_name,
  CASE
    WHEN ind_raw IS NULL THEN 'missing'
    WHEN ind IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS ind_status,
  CASE WHEN first_name IS NULL THEN 'missing' ELSE 'ok' END AS first_name_status,
  CASE WHEN last_name IS NULL THEN 'missing' ELSE 'ok' END AS last_name_status,
  CASE
    WHEN age_raw IS NULL THEN 'missing'
    WHEN age IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS age_status,
  CASE
    WHEN date_joined_raw IS NULL THEN 'missing'
    WHEN date_joined IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS date_joined_status,
  ind_raw,
  age_raw,
  date_joined_raw
FROM typed
