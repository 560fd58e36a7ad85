#!/usr/bin/python
# Copyright: titanic-ops contributors
# Apache License 2.0 (see the LICENSE of the titanic-ops repository)
"""Ansible module: have RDS manage an instance's master password in Secrets Manager."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_master_user_secret
short_description: Have RDS manage the master password of a DB instance in Secrets Manager
version_added: 1.0.0
description:
  - Ensures RDS manages the master user password of O(db_instance_identifier) in a Secrets Manager
    secret of its own (C(ModifyDBInstance) with C(ManageMasterUserPassword), applied immediately).
    RDS generates a new password, sets it on the instance and stores it in the secret, which it
    then rotates.
  - An instance restored to a point in time or from a snapshot has no such secret (the restore API
    of botocore 1.35 cannot ask for one) and keeps the password its data held, while the secret it
    came from stays with the source instance. M(amazon.aws.rds_instance) (amazon.aws 10) has no
    option for it, hence this module.
  - Idempotent, an instance that has the secret is returned unchanged. The key of an existing
    secret is not changed (RDS refuses to), it is returned for the caller to check.
  - With O(wait), waits until the instance is C(available) again.
options:
  db_instance_identifier:
    description: The DB instance.
    type: str
    required: true
  kms_key_id:
    description: KMS key (ARN, ID or alias) encrypting a new secret; the account's
      C(aws/secretsmanager) key when omitted.
    type: str
  wait:
    description: Whether to wait until the instance is available again.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 3600
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
- name: Ensure the restored instance's master password is managed by RDS under the source's key
  titanic.ops.rds_master_user_secret:
    db_instance_identifier: titanic-prod-r20260101020000
    kms_key_id: arn:aws:kms:eu-west-1:430987654321:key/00000000-0000-0000-0000-000000000000
    region: eu-west-1
"""

RETURN = r"""
master_user_secret:
  description: The instance's master user secret as RDS describes it (keys in snake case);
    in check mode before it exists, C({}).
  returned: success
  type: dict
  contains:
    secret_arn:
      description: ARN of the secret.
      type: str
      sample: arn:aws:secretsmanager:eu-west-1:430987654321:secret:rds!db-0123-AbCdEf
    secret_status:
      description: State of the secret (C(creating), C(active), C(rotating), C(impaired)).
      type: str
      sample: active
    kms_key_id:
      description: KMS key encrypting the secret, as an ARN.
      type: str
      sample: arn:aws:kms:eu-west-1:430987654321:key/00000000-0000-0000-0000-000000000000
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

WAIT_DELAY_SECONDS = 15


def describe_instance(client, identifier: str) -> dict:
    """The instance as RDS describes it (fails with DBInstanceNotFound when there is none)."""
    return client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def modify_parameters(params: dict) -> dict:
    """ModifyDBInstance's parameters that turn the managed master password on."""
    request = {
        "DBInstanceIdentifier": params["db_instance_identifier"],
        "ManageMasterUserPassword": True,
        "ApplyImmediately": True,
    }
    if params["kms_key_id"]:
        request["MasterUserSecretKmsKeyId"] = params["kms_key_id"]
    return request


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "kms_key_id": {"type": "str", "no_log": False},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,
    )
    params = module.params
    client = module.client("rds")
    changed = False
    try:
        instance = describe_instance(client, params["db_instance_identifier"])
        if not instance.get("MasterUserSecret"):
            changed = True
            if module.check_mode:
                module.exit_json(changed=True, master_user_secret={})
            client.modify_db_instance(**modify_parameters(params))
            if params["wait"]:
                client.get_waiter("db_instance_available").wait(
                    DBInstanceIdentifier=params["db_instance_identifier"],
                    WaiterConfig={
                        "Delay": WAIT_DELAY_SECONDS,
                        "MaxAttempts": max(1, params["wait_timeout"] // WAIT_DELAY_SECONDS),
                    },
                )
            instance = describe_instance(client, params["db_instance_identifier"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(
            error,
            msg=f"Cannot have RDS manage the master password of {params['db_instance_identifier']}",
        )
    module.exit_json(
        changed=changed,
        master_user_secret=camel_dict_to_snake_dict(instance.get("MasterUserSecret") or {}),
    )


if __name__ == "__main__":
    main()
