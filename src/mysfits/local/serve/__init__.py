"""``mysfits serve`` (``make run``): train if needed, start the endpoint as a child process and the gateway in front."""
