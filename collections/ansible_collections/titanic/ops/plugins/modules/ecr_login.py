#!/usr/bin/python
# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Ansible module: an ECR registry login (host, user, password) through amazon.aws's connection handling."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_login
short_description: Get an Amazon ECR registry login (registry host, user name and password)
version_added: 1.0.0
description:
  - Calls ECR C(GetAuthorizationToken) with the credentials, profile, region and endpoint of the common
    amazon.aws options, and returns the registry host and the decoded user name and password for
    C(podman login) or C(docker login).
  - Read-only; never reports a change, and runs in check mode.
  - The password is a secret; set C(no_log) on the task (see the examples).
options:
  registry_ids:
    description: AWS account IDs whose registries the token is for; the caller's when empty.
    type: list
    elements: str
    default: []
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
notes:
  - The token is valid for 12 hours.
seealso:
  - module: containers.podman.podman_login
author: titanic-ops maintainers (@titanic-ops)
"""

EXAMPLES = r"""
- name: Get an ECR login
  titanic.ops.ecr_login:
    region: eu-west-1
  register: titanic_image_ecr_login
  no_log: true

- name: Log podman in to the registry
  containers.podman.podman_login:
    registry: "{{ titanic_image_ecr_login.registry }}"
    username: "{{ titanic_image_ecr_login.username }}"
    password: "{{ titanic_image_ecr_login.password }}"
  no_log: true
"""

RETURN = r"""
registry:
  description: Registry host name (no scheme).
  returned: success
  type: str
  sample: 430987654321.dkr.ecr.eu-west-1.amazonaws.com
username:
  description: User name for the registry login.
  returned: success
  type: str
  sample: AWS
password:
  description: Password for the registry login (the token).
  returned: success
  type: str
expires_at:
  description: Expiry of the token (ISO 8601), V("") when ECR does not say.
  returned: success
  type: str
  sample: "2025-01-01 12:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.titanic.ops.plugins.module_utils.ecr import (
    AnsibleECRError,
    ecr_client,
    get_authorization,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"registry_ids": {"type": "list", "elements": "str", "default": []}},
        supports_check_mode=True,
    )
    try:
        login = get_authorization(ecr_client(module), module.params["registry_ids"])
    except AnsibleECRError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, **login)


if __name__ == "__main__":
    main()
