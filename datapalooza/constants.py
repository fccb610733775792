"""Names shared by the CDK stacks and the runtime: one place for each.

Stacks set these environment variables; composition roots read them. Domain code
never reads the environment.
"""

from typing import Final

# CloudWatch metrics
METRIC_NAMESPACE: Final = "DataPalooza"
STAGE_DIMENSION: Final = "Stage"
FACES_ANALYZED_METRIC: Final = "FacesAnalyzed"
CROWD_MOOD_METRIC: Final = "CrowdMood"
# Crops that produced no score are counted, never dropped silently.
NO_FACE_FOUND_METRIC: Final = "NoFaceFound"
CROP_REJECTED_METRIC: Final = "CropRejected"
CROP_MISSING_METRIC: Final = "CropMissing"
# DetectFaces answers that were throttled (each retry counts): the Rekognition quota alarm.
REKOGNITION_THROTTLED_METRIC: Final = "RekognitionThrottled"
# The tracker handler's function-level metrics carry dimension service=<this>.
TRACKER_METRICS_SERVICE: Final = "emotion-tracker"

# Results table (DynamoDB) attribute names
RESULTS_PARTITION_KEY: Final = "stage"
RESULTS_SORT_KEY: Final = "sk"
RESULTS_TTL_ATTRIBUTE: Final = "ttl"

# Idempotency records (Powertools' DynamoDB persistence layer's default attribute names)
IDEMPOTENCY_KEY_ATTRIBUTE: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"
IDEMPOTENCY_TTL_S: Final = 86_400
"""How long a crop's outcome is remembered: the crops queue's retention period, the
longest a duplicate notification can wait in it."""

# S3 layout
FACES_PREFIX: Final = "faces/"

# MQTT topics (format with stage=...)
DETECTIONS_TOPIC: Final = "datapalooza/{stage}/detections"
EDGE_STATS_TOPIC: Final = "datapalooza/{stage}/edge-stats"

# SageMaker custom attributes header (SageMaker passes it through to the container)
CUSTOM_ATTRIBUTES_HEADER: Final = "X-Amzn-SageMaker-Custom-Attributes"

# SageMaker's real-time payload limit
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024

# Environment variable names (set by stacks, read by composition roots)
ENV_FACES_BUCKET: Final = "DATAPALOOZA_FACES_BUCKET"
ENV_RESULTS_TABLE: Final = "DATAPALOOZA_RESULTS_TABLE"
ENV_IDEMPOTENCY_TABLE: Final = "DATAPALOOZA_IDEMPOTENCY_TABLE"
ENV_IDEMPOTENCY_TTL_SECONDS: Final = "DATAPALOOZA_IDEMPOTENCY_TTL_SECONDS"
ENV_CROPS_QUEUE_URL: Final = "DATAPALOOZA_CROPS_QUEUE_URL"
ENV_ENDPOINT_NAME: Final = "DATAPALOOZA_ENDPOINT_NAME"
ENV_ENDPOINT_URL: Final = "DATAPALOOZA_ENDPOINT_URL"
ENV_DETECTOR: Final = "DATAPALOOZA_DETECTOR"
ENV_MIN_CONFIDENCE: Final = "DATAPALOOZA_MIN_CONFIDENCE"
ENV_MIN_FACE_PX: Final = "DATAPALOOZA_MIN_FACE_PX"
ENV_CROP_MARGIN: Final = "DATAPALOOZA_CROP_MARGIN"
ENV_MAX_FACES: Final = "DATAPALOOZA_MAX_FACES"
ENV_NMS_THRESHOLD: Final = "DATAPALOOZA_NMS_THRESHOLD"
ENV_STAGE: Final = "DATAPALOOZA_STAGE"
# The endpoint's allowed stages, comma-separated (empty: any stage name).
ENV_STAGES: Final = "DATAPALOOZA_STAGES"
ENV_CAMERA: Final = "DATAPALOOZA_CAMERA"
ENV_SOURCE: Final = "DATAPALOOZA_SOURCE"
ENV_INTERVAL_SECONDS: Final = "DATAPALOOZA_INTERVAL_SECONDS"
ENV_ANALYZER_MODE: Final = "DATAPALOOZA_ANALYZER_MODE"
ENV_MOSAIC_SIZE: Final = "DATAPALOOZA_MOSAIC_SIZE"
ENV_RESULTS_TTL_DAYS: Final = "DATAPALOOZA_RESULTS_TTL_DAYS"
ENV_QUEUE_DIR: Final = "DATAPALOOZA_QUEUE_DIR"
# The MQTT topic a device program publishes on (set only for a team's devices: the default
# is DETECTIONS_TOPIC / EDGE_STATS_TOPIC for the program's stage).
ENV_TOPIC: Final = "DATAPALOOZA_TOPIC"
# The tracker's CloudWatch namespace (Powertools' own variable; default METRIC_NAMESPACE).
ENV_METRIC_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
ENV_DATA_DIR: Final = "DATAPALOOZA_DATA_DIR"
ENV_NOTIFICATIONS_DB: Final = "DATAPALOOZA_NOTIFICATIONS_DB"
ENV_DASHBOARD_HOST: Final = "DATAPALOOZA_DASHBOARD_HOST"
ENV_DASHBOARD_ALLOWED_HOSTS: Final = "DATAPALOOZA_DASHBOARD_ALLOWED_HOSTS"
ENV_DASHBOARD_POLL_SECONDS: Final = "DATAPALOOZA_DASHBOARD_POLL_SECONDS"
ENV_PARENT_PID: Final = "DATAPALOOZA_PARENT_PID"
"""Set by a parent process for its children: they exit when it dies
(datapalooza.system.lifeline)."""

# Values the CDK app validates at synth and the runtime validates at start: one
# definition each, so a value the stack accepts is never refused on the device.
DETECTOR_NAMES: Final = ("retinaface", "libfacedetection")
DEFAULT_DETECTOR: Final = "retinaface"
DEFAULT_MIN_CONFIDENCE: Final = 80.0
DEFAULT_MIN_FACE_PX: Final = 40
# The smallest face worth cropping, in pixels: below 1 means nothing, and a minimum
# above 1000 would drop every face of a 1920x1080 crowd shot.
MIN_FACE_PX_RANGE: Final = (1, 1000)
# How many faces the endpoint reports in one frame at most (DetectorSettings.max_faces);
# a camera takes no larger count from an answer.
MAX_FACES_RANGE: Final = (1, 10_000)
DEFAULT_ENDPOINT_NAME: Final = "datapalooza-face-detection"

# The workshop's challenges: 1 the endpoint, 2 the emotion tracker, 3 the edge.
CHALLENGES: Final = (1, 2, 3)

# Stack names
CLOUD_INFERENCE_STACK: Final = "DataPalooza-Challenge1-Endpoint"
EMOTION_TRACKER_STACK: Final = "DataPalooza-Challenge2-EmotionTracker"
EDGE_STACK: Final = "DataPalooza-Challenge3-Edge"

# Stack names above are the default team's; datapalooza.naming.TeamNames names every team's.
# Tags on every stack: whose it is and which challenge, so an instructor's
# ``datapalooza workshop`` finds and orders them (teardown: highest challenge first).
TEAM_TAG: Final = "datapalooza:team"
CHALLENGE_TAG: Final = "datapalooza:challenge"
DEFAULT_TEAM: Final = "default"
