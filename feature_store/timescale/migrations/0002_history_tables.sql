-- The history store's time-series tables. Every primary key holds the record's id and its time
-- column, so sinks upsert on ids (idempotent: a replay writes no duplicate row).
-- Layout and column meanings: feature_store/timescale/SCHEMA.md.

SELECT fieldstream_create_timeseries('frames', 'captured_at', $cols$
  frame_id      text        NOT NULL,
  device_id     text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  content_type  text        NOT NULL,
  media_uri     text        NOT NULL,
  size_bytes    integer     NOT NULL,
  lat           double precision,
  lon           double precision,
  speed_mps     double precision,
  boom_offset_m double precision,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (frame_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('audio_chunks', 'captured_at', $cols$
  chunk_id      text        NOT NULL,
  device_id     text        NOT NULL,
  session_id    text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  sample_rate   integer     NOT NULL,
  content_type  text        NOT NULL,
  media_uri     text        NOT NULL,
  size_bytes    integer     NOT NULL,
  lat           double precision,
  lon           double precision,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chunk_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('frame_features', 'captured_at', $cols$
  frame_id      text        NOT NULL,
  device_id     text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  feature_set   text        NOT NULL,
  features      jsonb       NOT NULL,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (frame_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('audio_features', 'captured_at', $cols$
  chunk_id      text        NOT NULL,
  device_id     text        NOT NULL,
  session_id    text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  feature_set   text        NOT NULL,
  features      jsonb       NOT NULL,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chunk_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('detections_vision', 'captured_at', $cols$
  frame_id      text        NOT NULL,
  device_id     text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  model_name    text        NOT NULL,
  model_version text        NOT NULL,
  boxes         jsonb       NOT NULL,
  n_crops       integer     NOT NULL,
  n_weeds       integer     NOT NULL,
  produced_at   timestamptz NOT NULL,
  PRIMARY KEY (frame_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('detections_audio', 'captured_at', $cols$
  chunk_id      text        NOT NULL,
  device_id     text        NOT NULL,
  session_id    text        NOT NULL,
  captured_at   timestamptz NOT NULL,
  model_name    text        NOT NULL,
  model_version text        NOT NULL,
  species       jsonb       NOT NULL,
  produced_at   timestamptz NOT NULL,
  PRIMARY KEY (chunk_id, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('labels', 'captured_at', $cols$
  target        text        NOT NULL CHECK (target IN ('frame', 'chunk')),
  item_id       text        NOT NULL,
  device_id     text        NOT NULL,
  session_id    text,
  captured_at   timestamptz NOT NULL,
  source        text        NOT NULL,
  boxes         jsonb,
  species       text[],
  labelled_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, source, captured_at)
$cols$);

SELECT fieldstream_create_timeseries('spray_actions', 'fire_at', $cols$
  action_id     text        NOT NULL,
  device_id     text        NOT NULL,
  frame_id      text        NOT NULL,
  captured_at   timestamptz,
  fire_at       timestamptz NOT NULL,
  duration_ms   double precision NOT NULL,
  nozzles       integer[]   NOT NULL,
  detections    jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (action_id, fire_at)
$cols$);

CREATE INDEX IF NOT EXISTS frames_device_time ON frames (device_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS audio_chunks_session ON audio_chunks (session_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS frame_features_device_time ON frame_features (device_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS audio_features_device_time ON audio_features (device_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS detections_vision_device_time ON detections_vision (device_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS detections_audio_session ON detections_audio (session_id, captured_at DESC);
CREATE INDEX IF NOT EXISTS labels_device_time ON labels (device_id, captured_at DESC);
