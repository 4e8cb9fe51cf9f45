"""A local endpoint that speaks SageMaker Runtime's protocol and serves a trained model artifact.

``serve_in_thread`` (tests, the local stack) and ``run`` (the ``mysfits endpoint`` command) live in
:mod:`mysfits.local.endpoint.server`; the wire formats are in :mod:`mysfits.local.endpoint.protocol`.
"""
