"""The AWS path: SageMaker training and deployment, samconfig.toml editing, and clean-up.

Nothing here imports the SageMaker SDK at import time: it is ~300 MB and takes seconds to import, and the local
mode and the Lambda must work without it.
"""

PROJECT_TAG_KEY = "Project"
PROJECT_TAG_VALUE = "mythical-mysfits-recommendations"
PROJECT_TAGS = ({"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE},)
RESOURCE_PREFIX = "mysfits"
"""The notebook stack's default ProjectName: every SageMaker resource of the project is named ``mysfits-...``, and the
notebook role may only touch names with that prefix."""
