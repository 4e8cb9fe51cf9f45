"""Local stand-ins for the AWS pieces: the SageMaker-style endpoint, the API Gateway emulator, and ``mysfits serve``,
which launches both. The HTTP server runner both servers share is :mod:`mysfits.local.http_server`."""
