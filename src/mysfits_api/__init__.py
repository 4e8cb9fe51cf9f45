"""The serverless API: the Lambda behind API Gateway.

``recommend`` and ``errors`` are plain functions and exceptions (standard library and
botocore only), so the local gateway, tests and benchmarks can use them without the
Lambda's environment. ``handler`` reads that environment when it is imported, which is
why this package does not import it.
"""
