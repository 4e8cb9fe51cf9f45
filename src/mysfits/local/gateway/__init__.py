"""A local stand-in for API Gateway: what ``sam local start-api`` does, without Docker.

It reads the routes, CORS settings and function environment from ``template.yaml`` (so
there is no second copy of them), turns each HTTP request into a REST API proxy event,
calls the very handler the template names in this process, and turns the handler's
result back into HTTP. It also serves the static page in ``web/`` at ``/``.
"""
