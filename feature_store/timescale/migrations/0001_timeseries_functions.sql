-- Helpers that let one schema run on TimescaleDB and on plain PostgreSQL.
--
-- fieldstream_create_timeseries(table, time_column, column_definitions):
--   TimescaleDB present -> a hypertable chunked by day on time_column;
--   plain PostgreSQL    -> a table PARTITION BY RANGE (time_column) with monthly partitions
--                          around now() and a DEFAULT partition for anything outside them.
-- fieldstream_history_backend(): 'timescaledb' or 'postgresql'.

CREATE OR REPLACE FUNCTION fieldstream_history_backend() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
              THEN 'timescaledb' ELSE 'postgresql' END
$$;

CREATE OR REPLACE FUNCTION fieldstream_ensure_partitions(tbl text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamptz := date_trunc('month', from_ts);
  created integer := 0;
  part text;
BEGIN
  WHILE month_start < to_ts LOOP
    part := format('%s_p%s', tbl, to_char(month_start, 'YYYYMM'));
    IF to_regclass(part) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       part, tbl, month_start, month_start + interval '1 month');
        created := created + 1;
      EXCEPTION WHEN check_violation OR invalid_object_definition THEN
        -- rows for that month already sit in the default partition: leave them there
        RAISE NOTICE 'partition % not created: %', part, SQLERRM;
      END;
    END IF;
    month_start := month_start + interval '1 month';
  END LOOP;
  RETURN created;
END $$;

CREATE OR REPLACE FUNCTION fieldstream_create_timeseries(tbl text, time_col text, body text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF fieldstream_history_backend() = 'timescaledb' THEN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I (%s)', tbl, body);
    EXECUTE format('SELECT create_hypertable(%L, %L, chunk_time_interval => interval %L, if_not_exists => true)',
                   tbl, time_col, '1 day');
  ELSE
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I (%s) PARTITION BY RANGE (%I)', tbl, body, time_col);
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
    PERFORM fieldstream_ensure_partitions(tbl, now() - interval '1 month', now() + interval '3 months');
  END IF;
END $$;
