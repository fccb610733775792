"""The face-detection endpoint: SageMaker's four serving functions and a local HTTP
server that runs them behind the same contract."""
