"""Mythical Mysfits recommendations: everything that runs on your machine or drives AWS.

The Lambda is the other package, ``mysfits_api`` (with the questionnaire and the catalog, which every step reads);
it is all that ``sam build`` ships. Here, in the order the data moves: ``model`` (dataset, kNN, training,
evaluation, the model file), ``local`` (the endpoint and API Gateway stand-ins, and ``mysfits serve``), ``aws``
(SageMaker training and deploy, the page's upload, clean-up). ``tests/unit/test_import_graph.py`` keeps the imports
free of cycles.
"""

__version__ = "0.1.0"
