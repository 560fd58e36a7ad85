#!/usr/bin/python
"""Ansible module: does an image tag exist in an Amazon ECR repository (ECR DescribeImages)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: titanic_deploy_ecr_image_info
short_description: Look up one image tag in an Amazon ECR repository
description:
  - Calls ECR DescribeImages for one tag with the credentials, profile, region and endpoint
    of the common amazon.aws options. Returns whether the tag exists and its digest.
    Read-only; never reports a change.
  - Neither amazon.aws nor community.aws has a module that describes ECR images
    (C(community.aws.ecs_ecr) manages repositories only), hence this small module.
options:
  repository:
    description: Repository name (without the registry host).
    type: str
    required: true
  tag:
    description: Image tag to look up.
    type: str
    required: true
  registry_id:
    description: AWS account ID of the registry (default the caller's).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author: titanic-ops
"""

EXAMPLES = r"""
- name: Look up the image tag in ECR
  titanic_deploy_ecr_image_info:
    repository: titanic-api
    tag: 3f2c1a9
    registry_id: "430987654321"
    region: eu-west-1
  register: image
"""

RETURN = r"""
exists:
  description: Whether the tag exists in the repository.
  returned: success
  type: bool
digest:
  description: Image digest of the tag ("" when it does not exist).
  returned: success
  type: str
reason:
  description: Why the tag was not found (missing repository or missing tag), "" when it exists.
  returned: success
  type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import (  # noqa: E402
    is_boto3_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import (  # noqa: E402
    AnsibleAWSModule,
)

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    pass


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "repository": {"type": "str", "required": True},
            "tag": {"type": "str", "required": True},
            "registry_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    client = module.client("ecr")
    kwargs = {
        "repositoryName": module.params["repository"],
        "imageIds": [{"imageTag": module.params["tag"]}],
    }
    if module.params["registry_id"]:
        kwargs["registryId"] = module.params["registry_id"]
    try:
        details = client.describe_images(**kwargs)["imageDetails"]
    except is_boto3_error_code("ImageNotFoundException"):
        module.exit_json(
            changed=False, exists=False, digest="", reason="no such tag in the repository"
        )
    except is_boto3_error_code("RepositoryNotFoundException"):
        module.exit_json(changed=False, exists=False, digest="", reason="no such repository")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:  # pylint: disable=duplicate-except
        module.fail_json_aws(exc, msg="Could not describe the image in ECR")
    if not details:
        module.exit_json(
            changed=False, exists=False, digest="", reason="no such tag in the repository"
        )
    module.exit_json(
        changed=False, exists=True, digest=details[0].get("imageDigest", ""), reason=""
    )


if __name__ == "__main__":
    main()
