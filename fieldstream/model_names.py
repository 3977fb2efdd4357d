"""Names shared by training, the workers and the KServe server: registered models and aliases."""

VISION_MODEL = "vision-detector"
AUDIO_MODEL = "audio-classifier"
MODEL_NAMES = (VISION_MODEL, AUDIO_MODEL)
CHAMPION = "champion"
CHALLENGER = "challenger"
