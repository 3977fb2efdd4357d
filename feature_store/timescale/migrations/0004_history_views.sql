-- The named history queries as views (`fieldstream history QUERY` selects from them; so can psql):
--   weed_density_1m      per device per minute: frames, crops, weeds, weeds per frame, from vision
--                        detections, or from frame labels for the minutes without detections;
--   species_per_session  per session and species: chunks, best score, first/last seen, from audio
--                        detections, or from chunk labels for the sessions without detections.
-- On TimescaleDB, weed_density_detections_1m is a continuous aggregate (real-time: recent rows are
-- included before the refresh policy materialises them); on plain PostgreSQL it is a plain view with
-- date_bin(), the same columns. Labels with several sources for one item count once (annotator over
-- dataset over simulator).

DO $migration$
BEGIN
  IF fieldstream_history_backend() = 'timescaledb' THEN
    EXECUTE $sql$
      CREATE MATERIALIZED VIEW IF NOT EXISTS weed_density_detections_1m
      WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT device_id,
             time_bucket(INTERVAL '1 minute', captured_at) AS minute,
             count(*) AS frames,
             sum(n_crops)::bigint AS crops,
             sum(n_weeds)::bigint AS weeds
      FROM detections_vision
      GROUP BY device_id, time_bucket(INTERVAL '1 minute', captured_at)
      WITH NO DATA
    $sql$;
    PERFORM add_continuous_aggregate_policy('weed_density_detections_1m',
      start_offset => INTERVAL '7 days', end_offset => INTERVAL '1 minute',
      schedule_interval => INTERVAL '1 minute', if_not_exists => true);
  ELSE
    EXECUTE $sql$
      CREATE OR REPLACE VIEW weed_density_detections_1m AS
      SELECT device_id,
             date_bin(INTERVAL '1 minute', captured_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS minute,
             count(*) AS frames,
             sum(n_crops)::bigint AS crops,
             sum(n_weeds)::bigint AS weeds
      FROM detections_vision
      GROUP BY 1, 2
    $sql$;
  END IF;
END
$migration$;

-- One label per item: the most trusted source wins.
CREATE OR REPLACE VIEW labels_best AS
SELECT DISTINCT ON (target, item_id, captured_at) *
FROM labels
ORDER BY target, item_id, captured_at,
         CASE source WHEN 'annotator' THEN 0 WHEN 'dataset' THEN 1 ELSE 2 END;

CREATE OR REPLACE VIEW weed_density_labels_1m AS
SELECT l.device_id,
       date_bin(INTERVAL '1 minute', l.captured_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS minute,
       count(*) AS frames,
       sum(b.crops)::bigint AS crops,
       sum(b.weeds)::bigint AS weeds
FROM labels_best l
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE e->>'class_name' = 'crop') AS crops,
         count(*) FILTER (WHERE e->>'class_name' = 'weed') AS weeds
  FROM jsonb_array_elements(COALESCE(l.boxes, '[]'::jsonb)) AS e
) b
WHERE l.target = 'frame'
GROUP BY 1, 2;

CREATE OR REPLACE VIEW weed_density_1m AS
SELECT d.device_id, d.minute, d.frames, d.crops, d.weeds,
       d.weeds::double precision / NULLIF(d.frames, 0) AS weeds_per_frame,
       'detections'::text AS source
FROM weed_density_detections_1m d
UNION ALL
SELECT l.device_id, l.minute, l.frames, l.crops, l.weeds,
       l.weeds::double precision / NULLIF(l.frames, 0),
       'labels'::text
FROM weed_density_labels_1m l
WHERE NOT EXISTS (
  SELECT 1 FROM weed_density_detections_1m d WHERE d.device_id = l.device_id AND d.minute = l.minute
);

-- One row per (chunk, species) in the audio detections.
CREATE OR REPLACE VIEW species_detections AS
SELECT d.session_id, d.device_id, d.chunk_id, d.captured_at, d.model_name, d.model_version,
       s->>'id' AS species_id,
       s->>'name' AS species_name,
       (s->>'score')::double precision AS score
FROM detections_audio d
CROSS JOIN LATERAL jsonb_array_elements(d.species) AS s;

CREATE OR REPLACE VIEW species_per_session AS
SELECT session_id, device_id, species_id,
       max(species_name) AS species_name,
       count(*) AS chunks,
       max(score) AS max_score,
       min(captured_at) AS first_seen,
       max(captured_at) AS last_seen,
       'detections'::text AS source
FROM species_detections
GROUP BY session_id, device_id, species_id
UNION ALL
SELECT l.session_id, l.device_id, sp AS species_id,
       NULL::text,
       count(*),
       NULL::double precision,
       min(l.captured_at),
       max(l.captured_at),
       'labels'::text
FROM labels_best l
CROSS JOIN LATERAL unnest(l.species) AS sp
WHERE l.target = 'chunk' AND l.session_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM detections_audio d WHERE d.session_id = l.session_id)
GROUP BY l.session_id, l.device_id, sp;
