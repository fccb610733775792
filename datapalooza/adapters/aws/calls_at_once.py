"""How many requests one botocore client makes at the same time from a thread pool.

Each request to S3 or DynamoDB mostly waits on the network: S3 gives "tens of
milliseconds" as the usual median for requests under 512 KB
(https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/
timeouts-and-retries-for-latency-sensitive-applications.html) and DynamoDB "typically
single digit milliseconds"
(https://docs.aws.amazon.com/whitepapers/latest/comparing-dynamodb-and-hbase-for-nosql/
amazon-dynamodb-architecture-overview.html). One after another, a frame's crop puts or a
tracker round's claims, reads and writes add up to more than the work they serve.

CALLS_AT_ONCE stays within botocore's default pool of 10 connections per client
(``botocore.endpoint.MAX_POOL_CONNECTIONS``), so no request waits for a connection
(tests/unit/test_face_crop_puts.py holds it). The requests share their client, which
boto3 makes safe across threads once created
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html,
"Multithreading or multiprocessing with clients").
"""

CALLS_AT_ONCE = 8
