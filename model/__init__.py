"""The SageMaker face-detection model: serving entry (code/inference.py) and packaging."""
