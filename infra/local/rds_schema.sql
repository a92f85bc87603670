-- The three RDS tables of the pinterest_data database, as the original held them.
-- Run inside that database (infra.sh does `USE pinterest_data;` first; the loader
-- connects to it), so names here are unqualified. Idempotent.
--
-- Each table has a non-unique key on its index column for ordered streaming reads;
-- it is not unique because the data holds exact copies (rows inserted twice).
-- utf8mb4 because titles and names carry accents and emoji.
-- NOT NULL everywhere: the data marks "missing" with placeholder text, never NULL,
-- so a NULL here could only come from a bug.

CREATE TABLE IF NOT EXISTS pinterest_data (
  `index` INT NOT NULL,
  unique_id VARCHAR(36) NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  poster_name VARCHAR(255) NOT NULL,
  follower_count VARCHAR(32) NOT NULL,
  tag_list TEXT NOT NULL,
  is_image_or_video VARCHAR(64) NOT NULL,
  image_src TEXT NOT NULL,
  downloaded INT NOT NULL,
  save_location VARCHAR(255) NOT NULL,
  category VARCHAR(64) NOT NULL,
  KEY pinterest_data_index (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS geolocation_data (
  ind INT NOT NULL,
  `timestamp` DATETIME NOT NULL,
  latitude FLOAT NOT NULL,
  longitude FLOAT NOT NULL,
  country VARCHAR(255) NOT NULL,
  KEY geolocation_data_ind (ind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS user_data (
  ind INT NOT NULL,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  age INT NOT NULL,
  date_joined DATETIME NOT NULL,
  KEY user_data_ind (ind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
