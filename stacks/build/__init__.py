"""Build helpers: Docker-free Lambda packaging, the project's pins, the one Lambda
function factory, and the SageMaker container image table."""
