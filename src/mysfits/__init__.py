"""Mythical Mysfits recommendations: a kNN recommender behind a serverless API.

The package is split along the data flow: questionnaire and catalog (domain data),
dataset, kNN model, model artifact, endpoint, Lambda handler, local gateway.
Modules on the Lambda's import path (questionnaire, catalog, api) use only the
standard library and boto3, so the function ships without numpy.
"""

__version__ = "0.1.0"
