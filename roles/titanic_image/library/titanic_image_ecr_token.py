#!/usr/bin/python
"""Ansible module: an ECR registry login token through amazon.aws's AWS connection handling."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: titanic_image_ecr_token
short_description: Get an Amazon ECR authorization token (registry, user name and password)
description:
  - Calls ECR GetAuthorizationToken with the credentials, profile, region and endpoint of the common
    amazon.aws options, and returns the registry host and the decoded user name and password for
    C(podman login) or C(docker login). Read-only; never reports a change.
options:
  registry_ids:
    description: AWS account IDs whose registries the token is for (default the caller's).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
author: titanic-ops
"""

EXAMPLES = r"""
- name: Get an ECR login token
  titanic_image_ecr_token:
    region: eu-west-1
  register: ecr
  no_log: true
"""

RETURN = r"""
registry:
  description: Registry host name (no scheme).
  returned: success
  type: str
username:
  description: User name for the registry login (AWS).
  returned: success
  type: str
password:
  description: Password for the registry login (the token); valid for 12 hours.
  returned: success
  type: str
expires_at:
  description: Expiry of the token (ISO 8601).
  returned: success
  type: str
"""

import base64  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    pass


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"registry_ids": {"type": "list", "elements": "str", "default": []}},
        supports_check_mode=True,
    )
    client = module.client("ecr")
    kwargs = {"registryIds": module.params["registry_ids"]} if module.params["registry_ids"] else {}
    try:
        data = client.get_authorization_token(**kwargs)["authorizationData"][0]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="Could not get an ECR authorization token")
    username, _, password = (
        base64.b64decode(data["authorizationToken"]).decode("utf-8").partition(":")
    )
    registry = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    module.exit_json(
        changed=False,
        registry=registry,
        username=username,
        password=password,
        expires_at=str(data.get("expiresAt", "")),
    )


if __name__ == "__main__":
    main()
