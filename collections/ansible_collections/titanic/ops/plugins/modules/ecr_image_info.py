#!/usr/bin/python
# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Ansible module: does an image tag exist in an Amazon ECR repository (ECR DescribeImages)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_image_info
short_description: Look up one image tag in an Amazon ECR repository
version_added: 1.0.0
description:
  - Calls ECR C(DescribeImages) for one tag with the credentials, profile, region and endpoint
    of the common amazon.aws options, and returns whether the tag exists and its digest.
  - A missing repository or tag is not an error; RV(exists) is V(false) and RV(reason) says which.
    Any other AWS error (credentials, permissions, endpoint) fails the task.
  - Read-only; never reports a change, and runs in check mode.
  - Neither amazon.aws nor community.aws has a module that describes ECR images
    (M(community.aws.ecs_ecr) manages repositories only), hence this module.
options:
  repository:
    description: Repository name, without the registry host (for example V(titanic-api)).
    type: str
    required: true
  tag:
    description: Image tag to look up.
    type: str
    required: true
  registry_id:
    description: AWS account ID of the registry; the caller's account when omitted.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author: titanic-ops maintainers (@titanic-ops)
"""

EXAMPLES = r"""
- name: Look up the image tag in ECR
  titanic.ops.ecr_image_info:
    repository: titanic-api
    tag: 3f2c1a9
    registry_id: "430987654321"
    region: eu-west-1
  register: ecr_image

- name: Refuse to deploy a tag that was never pushed
  ansible.builtin.assert:
    that: ecr_image.exists
    fail_msg: "tag 3f2c1a9 is not in ECR ({{ ecr_image.reason }})"
"""

RETURN = r"""
exists:
  description: Whether the tag exists in the repository.
  returned: success
  type: bool
  sample: true
digest:
  description: Image digest of the tag, V("") when it does not exist.
  returned: success
  type: str
  sample: sha256:0f3e5b1c7a9d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f
reason:
  description: Why the tag was not found (V(no such repository) or V(no such tag in the repository)), V("") when it exists.
  returned: success
  type: str
  sample: no such tag in the repository
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.titanic.ops.plugins.module_utils.ecr import (
    AnsibleECRError,
    describe_image_tag,
    ecr_client,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "repository": {"type": "str", "required": True},
            "tag": {"type": "str", "required": True},
            "registry_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    try:
        found = describe_image_tag(
            ecr_client(module),
            module.params["repository"],
            module.params["tag"],
            module.params["registry_id"],
        )
    except AnsibleECRError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
