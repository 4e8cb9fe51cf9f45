"""A local stand-in for what `sam local start-api` needs from Docker and AWS, so that it runs with neither.

Users with Docker Desktop or a normal Docker Engine run plain ``sam local start-api`` (see the README). This package
is for machines like CI's: root, Debian's ``docker.io``, no image registry and no network bridge. It starts a
loopback-only dockerd (:mod:`.engine`), builds the Lambda base image from Debian packages instead of pulling it
(:mod:`.base_image`), and runs SAM with a small adjustment so that its containers share the host's loopback
(:mod:`.launcher`). ``mysfits sam-local`` (:mod:`.cli`) puts them together behind ``make sam-local``.
"""
