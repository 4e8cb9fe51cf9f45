"""The Lambda behind API Gateway, and the questionnaire and catalog it serves: all that ``sam build`` ships.

It imports nothing of ``mysfits`` (a test checks), and only the standard library, boto3 and Powertools, so the
function ships without numpy. ``recommend`` and ``errors`` are plain functions and exceptions, so the local gateway,
tests and benchmarks can use them without the Lambda's environment. ``handler`` reads that environment when it is
imported, which is why this package does not import it.
"""
